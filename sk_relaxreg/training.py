"""Training: a skorch regressor whose loss adds the regularizers, and its callbacks.

The loss of one training batch is::

    loss = MSE(y_pred, y) + sum_p lambda_p * R_p(theta) + sum_q lambda_q * R_q(theta, X_batch)

where the ``R_p`` are the weight and bound penalties of
:mod:`sk_relaxreg.regularizers`, evaluated on the live module in every step, and
the ``R_q`` are batch penalties (objects with ``name``, ``weight`` and
``__call__(module, X_batch, layer_bounds)``) such as the LP-relaxation gap.
Penalties are added only while training, so ``valid_loss`` is the plain MSE
and restoring the best-validation weights selects on accuracy.
"""

import numpy as np
import torch
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback
from tqdm.auto import tqdm

from .bounds import interval_bounds_torch
from .regularizers import BOUND_PENALTIES, PENALTY_FUNCTIONS, penalty_values


class RegularizedNet(NeuralNetRegressor):
    """A skorch ``NeuralNetRegressor`` that adds tractability penalties to its loss.

    Set these attributes after construction (skorch only accepts its own
    keyword arguments in ``__init__``):

    penalty_weights : dict of str to float
        Weight of each named penalty of :mod:`sk_relaxreg.regularizers`;
        zero weights are skipped.
    box_lower, box_upper : torch.Tensor
        The input box in scaled units, used by the bound penalties.
    batch_penalties : list
        Penalties that also need the batch inputs (see the module docstring).
    """

    penalty_weights = {}
    box_lower = None
    box_upper = None
    batch_penalties = ()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        data_loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if not training:
            return data_loss

        active = [name for name, weight in self.penalty_weights.items() if weight > 0]
        batch_active = [p for p in self.batch_penalties if p.weight > 0]
        needs_bounds = any(name in BOUND_PENALTIES for name in active) or bool(batch_active)
        layer_bounds = (
            interval_bounds_torch(self.module_, self.box_lower, self.box_upper)
            if needs_bounds
            else None
        )

        penalty = data_loss.new_zeros(())
        for name, value in penalty_values(self.module_, layer_bounds, active).items():
            penalty = penalty + self.penalty_weights[name] * value
        if batch_active:
            # The LP gap is defined over the box; points outside it are moved onto it.
            X_in_box = torch.maximum(torch.minimum(X, self.box_upper), self.box_lower)
        for batch_penalty in batch_active:
            value = batch_penalty(self.module_, X_in_box, layer_bounds, history=self.history)
            if value is not None:
                penalty = penalty + batch_penalty.weight * value

        self.history.record_batch("data_loss", data_loss.item())
        self.history.record_batch("penalty", penalty.item())
        return data_loss + penalty


class PenaltyHistory(Callback):
    """Record every penalty, and the number of unstable neurons, at the end of each epoch.

    The values are computed from the weights at the end of the epoch, for all
    penalties whatever their weight, so an unregularized fit also shows how its
    bounds evolve. ``n_unstable`` counts neurons with ``L < 0 < U``. Values
    recorded per training batch are summarised per epoch: ``data_loss``,
    ``penalty`` and ``lp_gap`` as means weighted by batch size (as skorch
    averages ``train_loss``, so ``train_loss = data_loss + penalty``),
    ``lp_failures`` as a sum.
    """

    MEAN_KEYS = ("data_loss", "penalty", "lp_gap")
    SUM_KEYS = ("lp_failures",)

    def on_epoch_end(self, net, **kwargs):
        batches = [row for row in net.history[-1]["batches"] if "data_loss" in row]
        for key in self.MEAN_KEYS:
            rows = [row for row in batches if key in row]
            values = np.array([row[key] for row in rows], dtype=float)
            sizes = np.array([row.get("train_batch_size", 1) for row in rows], dtype=float)
            finite = ~np.isnan(values)
            if finite.any():
                mean = np.sum(values[finite] * sizes[finite]) / np.sum(sizes[finite])
                net.history.record(key, float(mean))
            elif values.size:
                net.history.record(key, float("nan"))
        for key in self.SUM_KEYS:
            values = [row[key] for row in batches if key in row]
            if values:
                net.history.record(key, int(np.sum(values)))

        with torch.no_grad():
            layer_bounds = interval_bounds_torch(net.module_, net.box_lower, net.box_upper)
            values = penalty_values(net.module_, layer_bounds, list(PENALTY_FUNCTIONS))
            n_unstable = sum(int(((L < 0) & (U > 0)).sum()) for L, U in layer_bounds)
        for name, value in values.items():
            net.history.record(name, float(value))
        net.history.record("n_unstable", n_unstable)


class EpochProgressBar(Callback):
    """A tqdm progress bar over epochs that shows the latest train and validation loss."""

    def __init__(self, max_epochs, desc="training"):
        self.max_epochs = max_epochs
        self.desc = desc

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(total=self.max_epochs, desc=self.desc, unit="epoch", leave=False)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        postfix = {"train_loss": f"{row['train_loss']:.4g}"}
        if "valid_loss" in row:
            postfix["valid_loss"] = f"{row['valid_loss']:.4g}"
        self.bar_.set_postfix(postfix, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)
        return state


def history_as_dict(history):
    """Turn a skorch History into ``{key: list of per-epoch values}`` (NaN where missing)."""
    keys = []
    for row in history:
        for key in row:
            if key != "batches" and key not in keys:
                keys.append(key)
    return {key: [row.get(key, np.nan) for row in history] for key in keys}
