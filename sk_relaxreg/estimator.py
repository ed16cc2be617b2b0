"""TractableMLPRegressor: a ReLU network regressor trained so that its MILP is easy to solve."""

import contextlib
import numbers
import time
import warnings

import numpy as np
import torch
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit
from skorch.utils import noop
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import (
    check_bounds_method,
    check_input_bounds,
    check_output_bounds,
    check_output_weights,
    check_positive_number,
    check_sense,
)
from .bounds import count_unstable, interval_bounds
from .lp_gap import LPGapPenalty
from .exceptions import ExtrapolationWarning
from .highs_milp import build_milp_arrays, lp_relaxation_bound
from .milp import embed_network, to_pyomo_model
from .network import AffineScaling, build_module, network_in_original_units
from .optimize import TIGHTENING_SHARE, optimize_network
from .tightening import lp_tightened_bounds
from .training import EpochProgressBar, PenaltyHistory, RegularizedNet, history_as_dict

#: Optimizer names accepted as strings, mapped to torch classes.
OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

#: At most this many training inputs are kept as starting-point candidates for optimize().
#: They are pickled with the estimator, which matters for file size and for private data.
MAX_STORED_CANDIDATES = 5000


@contextlib.contextmanager
def _torch_threads(n_threads):
    """Set torch's intra-op thread count for the duration of the block."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _is_optimizer_class(value):
    return isinstance(value, type) and issubclass(value, torch.optim.Optimizer)


class TractableMLPRegressor(RegressorMixin, BaseEstimator):
    """ReLU network regressor with penalties that make its MILP formulation easy to solve.

    The network is a stack of Linear and ReLU layers trained with skorch on
    internally standardized X and y. Besides the usual weight penalties, it can
    penalise quantities that drive the cost of the network's big-M MILP over
    the input box: the width of interval bounds on hidden pre-activations and
    the number of unstable neurons (Tsay, "Relaxation-Informed Training of
    Neural Network Surrogate Models", arXiv 2604.22746). After ``fit``,
    :meth:`to_milp` exports the MILP as a Pyomo model and :meth:`optimize`
    finds the global minimum or maximum of the network over the box.

    Everything the user sees (predictions, bounds, the MILP, the optimum) is in
    the original units of X and y.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(50, 50)
        Width of each hidden layer.
    max_epochs : int, default=200
        Number of passes over the training data.
    batch_size : int, default=64
        Mini-batch size.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch.optim.Optimizer subclass, default="adam"
        Optimizer that skorch trains with.
    validation_fraction : float in [0, 1), default=0.1
        Share of the training data held out to pick the epoch with the lowest
        validation MSE, whose weights are restored at the end. 0 keeps the
        weights of the last epoch.
    n_iter_no_change : int or None, default=None
        Stop early when the validation loss has not improved for this many
        epochs. None trains for ``max_epochs`` epochs. Needs a validation split;
        without one it is ignored with a warning.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the validation split, the LP-gap
        subsampling and the choice of ``candidate_inputs_``. Two fits with the
        same int give identical weights.
    verbose : int, default=0
        0 is silent, 1 shows a progress bar over epochs, 2 prints skorch's
        table of losses after every epoch.
    device : str, default="cpu"
        torch device used for training.
    n_threads : int or None, default=1
        torch intra-op threads during ``fit``, restored afterwards. The layers
        of these networks are so small that one thread is usually fastest, and
        it avoids oversubscription when fits run in parallel. None leaves
        torch's setting alone. Note: torch's thread count is process-wide.
    input_bounds : array-like of shape (n_features, 2) or None, default=None
        The box ``[lower, upper]`` per feature, in original units, over which
        the bound penalties are computed and the MILP is built. None uses the
        per-feature min and max of the training data.
    l1 : float, default=0.0
        Weight of the sum of absolute values of all parameters, biases included.
    l2 : float, default=0.0
        Weight of the sum of squares of all parameters, biases included.
    bound_width : float, default=0.0
        Weight of the mean width ``U - L`` of the interval bounds on hidden
        pre-activations over the input box.
    stable_neuron : float, default=0.0
        Weight of the mean of ``min(relu(-L), relu(U))`` over hidden neurons,
        zero for stable neurons.
    relu_stability : float, default=0.0
        Weight of the ReLU stability loss of Xiao et al. (2019), the mean of
        ``-tanh(1 + L * U)``.
    lp_gap : float, default=0.0
        Weight of the LP-relaxation gap: the mean, over ``lp_gap_samples``
        points of each batch, of the gap between the network's output at a
        point and the LP relaxation of its big-M MILP with the input fixed at
        that point (see :mod:`sk_relaxreg.lp_gap`), in standardized output units.
    lp_gap_sense : {"min", "max", "both"}, default="min"
        Which side of the relaxation to tighten: ``f(x) - V_min(x)`` for
        "min" (pick it when you will minimize the network), ``V_max(x) - f(x)``
        for "max", their sum for "both".
    lp_gap_samples : int or None, default=8
        Points per batch at which the gap is evaluated; None uses the whole batch.
    lp_gap_engine : {"fast", "exact"}, default="fast"
        "exact" solves one LP per point with HiGHS (warm-started); "fast"
        computes a bound on the same LP value for all points at once in torch
        by an optimized-slope backward pass. The fast bound is never above the
        LP value, so the gap is never understated. It is close to the exact
        value only after the slopes have been warm-started over a few
        epochs.
    lp_gap_mode : {"direct", "total"}, default="direct"
        "direct" differentiates the LP value with the big-M constants held
        fixed; "total" also differentiates through the interval bounds, which
        gives the exact total derivative.
    lp_gap_iterations : int, default=3
        Slope-optimization steps per training step of the fast engine; slopes
        are warm-started per training point across steps.
    lp_gap_direction : array-like of shape (n_outputs,) or None, default=None
        Non-negative objective direction over the outputs (in standardized
        output units) for multi-output networks; normalised to unit length.
        None uses equal weights.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in ``fit``.
    n_outputs_ : int
        Number of outputs (1 for 1-D ``y``).
    input_bounds_ : ndarray of shape (n_features, 2)
        The box actually used, in original units.
    network_ : ReluNetwork
        The trained network in float64 and original units (scaling folded in).
    layer_bounds_ : list of (ndarray, ndarray)
        Interval bounds ``(L, U)`` on each hidden layer's pre-activations over
        ``input_bounds_``, in the units of the pre-activations of ``network_``.
    n_unstable_ : int
        Number of unstable neurons (``L < 0 < U``) over ``input_bounds_``; each
        costs one binary variable in the MILP.
    n_unstable_per_layer_ : ndarray of shape (n_hidden_layers,)
        Unstable neurons in each hidden layer.
    candidate_inputs_ : ndarray of shape (n_candidates, n_features)
        Up to 5000 training inputs kept as starting points for :meth:`optimize`.
        They are pickled with the estimator.
    history_ : dict of str to list
        Per-epoch values: ``train_loss`` (MSE plus penalties), ``valid_loss``
        (MSE), ``data_loss``, ``penalty``, and each penalty and ``n_unstable``
        evaluated on the weights at the end of the epoch, all in scaled units.
    n_iter_ : int
        Number of epochs run.
    best_epoch_ : int
        Epoch (1-based) whose weights were kept.
    net_ : RegularizedNet
        The fitted skorch net.
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like"],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), callable],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str],
        "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "input_bounds": ["array-like", None],
        "l1": [Interval(numbers.Real, 0, None, closed="left")],
        "l2": [Interval(numbers.Real, 0, None, closed="left")],
        "bound_width": [Interval(numbers.Real, 0, None, closed="left")],
        "stable_neuron": [Interval(numbers.Real, 0, None, closed="left")],
        "relu_stability": [Interval(numbers.Real, 0, None, closed="left")],
        "lp_gap": [Interval(numbers.Real, 0, None, closed="left")],
        "lp_gap_sense": [StrOptions({"min", "max", "both"})],
        "lp_gap_samples": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "lp_gap_engine": [StrOptions({"fast", "exact"})],
        "lp_gap_mode": [StrOptions({"direct", "total"})],
        "lp_gap_iterations": [Interval(numbers.Integral, 0, None, closed="left")],
        "lp_gap_direction": ["array-like", None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(50, 50),
        max_epochs=200,
        batch_size=64,
        lr=1e-3,
        optimizer="adam",
        validation_fraction=0.1,
        n_iter_no_change=None,
        random_state=None,
        verbose=0,
        device="cpu",
        n_threads=1,
        input_bounds=None,
        l1=0.0,
        l2=0.0,
        bound_width=0.0,
        stable_neuron=0.0,
        relu_stability=0.0,
        lp_gap=0.0,
        lp_gap_sense="min",
        lp_gap_samples=8,
        lp_gap_engine="fast",
        lp_gap_mode="direct",
        lp_gap_iterations=3,
        lp_gap_direction=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.n_threads = n_threads
        self.input_bounds = input_bounds
        self.l1 = l1
        self.l2 = l2
        self.bound_width = bound_width
        self.stable_neuron = stable_neuron
        self.relu_stability = relu_stability
        self.lp_gap = lp_gap
        self.lp_gap_sense = lp_gap_sense
        self.lp_gap_samples = lp_gap_samples
        self.lp_gap_engine = lp_gap_engine
        self.lp_gap_mode = lp_gap_mode
        self.lp_gap_iterations = lp_gap_iterations
        self.lp_gap_direction = lp_gap_direction

    # ------------------------------------------------------------------ fit

    def fit(self, X, y):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self
        """
        self._validate_params()
        hidden = self._check_hidden_layer_sizes()
        if _is_optimizer_class(self.optimizer) or self.optimizer in OPTIMIZERS:
            optimizer = OPTIMIZERS.get(self.optimizer, self.optimizer)
        else:
            raise ValueError(
                f"optimizer must be one of {sorted(OPTIMIZERS)} or a torch.optim.Optimizer "
                f"subclass; got {self.optimizer!r}."
            )
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=np.float64, ensure_min_samples=2
        )
        self._y_was_1d = y.ndim == 1
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        self.n_outputs_ = Y.shape[1]

        # The box defaults to the data range; it fixes the bound penalties and the MILP.
        if self.input_bounds is None:
            self.input_bounds_ = np.column_stack([X.min(axis=0), X.max(axis=0)])
        else:
            self.input_bounds_ = check_input_bounds(self.input_bounds, self.n_features_in_)

        # Train in standardized units so penalty weights do not depend on the data's units.
        self._x_scaling = AffineScaling.standardize(X)
        self._y_scaling = AffineScaling.standardize(Y)
        X_scaled = self._x_scaling.transform(X).astype(np.float32)
        Y_scaled = self._y_scaling.transform(Y).astype(np.float32)
        box_scaled = self._x_scaling.transform(self.input_bounds_.T).T

        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        with torch.random.fork_rng(devices=[]), _torch_threads(self.n_threads):
            torch.manual_seed(seed)
            module = build_module(self.n_features_in_, hidden, self.n_outputs_)
            self.net_ = self._make_net(module, optimizer, X.shape[0], seed)
            self.net_.initialize()
            device = next(self.net_.module_.parameters()).device
            self.net_.box_lower = torch.as_tensor(box_scaled[:, 0], dtype=torch.float32, device=device)
            self.net_.box_upper = torch.as_tensor(box_scaled[:, 1], dtype=torch.float32, device=device)
            self.net_.fit(X_scaled, Y_scaled)

        self._store_fitted_network()
        history = self.net_.history
        self.history_ = history_as_dict(history)
        self.n_iter_ = len(history)
        if "valid_loss" in self.history_:
            self.best_epoch_ = int(np.nanargmin(self.history_["valid_loss"])) + 1
        else:
            self.best_epoch_ = self.n_iter_
        rng = np.random.default_rng(seed)
        keep = min(len(X), MAX_STORED_CANDIDATES)
        self.candidate_inputs_ = X[rng.choice(len(X), size=keep, replace=False)]
        return self

    def _check_hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            sizes = None
        if (
            sizes is None
            or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in sizes)
            or not all(s >= 1 for s in sizes)
        ):
            raise ValueError(
                f"hidden_layer_sizes must be a tuple of positive ints such as (50, 50); got "
                f"{self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _penalty_weights(self):
        return {
            "l1": float(self.l1),
            "l2": float(self.l2),
            "bound_width": float(self.bound_width),
            "stable_neuron": float(self.stable_neuron),
            "relu_stability": float(self.relu_stability),
        }

    def _make_net(self, module, optimizer, n_samples, seed):
        n_valid = int(np.floor(self.validation_fraction * n_samples))
        use_validation = self.validation_fraction > 0 and n_valid >= 1 and n_samples - n_valid >= 1
        if self.validation_fraction > 0 and not use_validation:
            warnings.warn(
                f"validation_fraction={self.validation_fraction} leaves no validation sample "
                f"with n_samples={n_samples}; training without restoring best weights.",
                UserWarning,
                stacklevel=3,
            )

        if self.n_iter_no_change is not None and not use_validation:
            warnings.warn(
                f"n_iter_no_change={self.n_iter_no_change} is ignored because there is no "
                f"validation split (validation_fraction={self.validation_fraction}); set "
                f"validation_fraction > 0 to stop early.",
                UserWarning,
                stacklevel=3,
            )

        callbacks = [("penalty_history", PenaltyHistory())]
        if use_validation:
            patience = self.n_iter_no_change or self.max_epochs + 1
            callbacks.append(
                (
                    "restore_best",
                    EarlyStopping(monitor="valid_loss", patience=patience, threshold=0.0,
                                  load_best=True, sink=noop),
                )
            )
        if self.verbose == 1:
            callbacks.append(("progress", EpochProgressBar(self.max_epochs)))

        net = RegularizedNet(
            module,
            criterion=torch.nn.MSELoss,
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=min(self.batch_size, n_samples),
            train_split=ValidSplit(self.validation_fraction, random_state=seed) if use_validation else None,
            iterator_train__shuffle=True,
            callbacks=callbacks,
            callbacks__print_log__keys_ignored=["data_loss", "penalty"],
            device=self.device,
            # skorch prints its epoch table only when its own verbose is positive.
            verbose=1 if self.verbose >= 2 else 0,
        )
        net.penalty_weights = self._penalty_weights()
        net.batch_penalties = self._batch_penalties(seed)
        return net

    def _batch_penalties(self, seed):
        if self.lp_gap <= 0:
            return []
        if self.lp_gap_direction is None:
            direction = np.full(self.n_outputs_, 1.0 / np.sqrt(self.n_outputs_))
        else:
            direction = np.array(self.lp_gap_direction, dtype=float, copy=True).ravel()
            if (
                direction.shape != (self.n_outputs_,)
                or not np.all(np.isfinite(direction))
                or np.any(direction < 0)
                or not np.any(direction > 0)
            ):
                raise ValueError(
                    f"lp_gap_direction must be {self.n_outputs_} finite non-negative weights, "
                    f"not all zero; got {self.lp_gap_direction!r}."
                )
            direction = direction / np.linalg.norm(direction)
        return [
            LPGapPenalty(
                weight=float(self.lp_gap),
                sense=self.lp_gap_sense,
                n_samples=self.lp_gap_samples,
                engine=self.lp_gap_engine,
                mode=self.lp_gap_mode,
                n_iterations=int(self.lp_gap_iterations),
                direction=direction,
                seed=seed,
            )
        ]

    def _store_fitted_network(self):
        self.network_ = network_in_original_units(self.net_.module_, self._x_scaling, self._y_scaling)
        self.layer_bounds_ = interval_bounds(self.network_, self.input_bounds_)
        self.n_unstable_per_layer_ = count_unstable(self.layer_bounds_)
        self.n_unstable_ = int(self.n_unstable_per_layer_.sum())

    # -------------------------------------------------------------- predict

    def predict(self, X):
        """Predict with the trained network, in original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) when ``y`` was 1-D at fit time, else
            (n_samples, n_outputs)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        y = self.network_.forward(X)
        return y.ravel() if self._y_was_1d else y

    def __sklearn_is_fitted__(self):
        return hasattr(self, "network_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # ----------------------------------------------------------------- MILP

    def _box(self, input_bounds, bounds="interval", time_limit=None):
        """Return the checked box and the hidden-layer bounds over it, by ``bounds`` method.

        ``time_limit`` caps the seconds spent tightening when ``bounds="lp"``.
        """
        check_is_fitted(self)
        check_bounds_method(bounds)
        if input_bounds is None:
            if bounds == "lp":
                tightened, _ = lp_tightened_bounds(self.network_, self.input_bounds_, time_limit)
                return self.input_bounds_, tightened
            return self.input_bounds_, self.layer_bounds_
        box = check_input_bounds(input_bounds, self.n_features_in_)
        outside = (box[:, 0] < self.input_bounds_[:, 0]) | (box[:, 1] > self.input_bounds_[:, 1])
        if np.any(outside):
            warnings.warn(
                f"input_bounds reach outside the training box for feature(s) "
                f"{np.flatnonzero(outside).tolist()}; the network is extrapolating there.",
                ExtrapolationWarning,
                stacklevel=3,
            )
        if bounds == "lp":
            return box, lp_tightened_bounds(self.network_, box, time_limit)[0]
        return box, interval_bounds(self.network_, box)

    def to_milp(self, input_bounds=None, bounds="lp"):
        """Return the network's big-M MILP over a box as a Pyomo ``ConcreteModel``.

        The model has input variables ``model.x[i]`` (original units, bounded
        by the box), output variables ``model.y[k]``, pre-activations
        ``model.z[l, j]``, activations ``model.h[l, j]`` and one binary
        ``model.delta[l, j]`` per unstable neuron, and no objective. With
        ``[L, U]`` the bounds of a neuron over the box (see ``bounds``), an unstable
        neuron (``L < 0 < U``) gets::

            h >= 0,  h >= z,  h <= z - L (1 - delta),  h <= U delta

        a stably active one (``L >= 0`` and ``U > 0``) gets ``h = z``, and a
        stably inactive one (``U <= 0``) is left out. Every big-M constant is the neuron's own
        bound. The affine rows are ``z[l, j] = sum_i W[j, i] h_prev[i] + b[j]``
        and ``y[k] = sum_j W_out[k, j] h_K[j] + b_out[k]``; see
        :mod:`sk_relaxreg.milp` for the full system.

        Parameters
        ----------
        input_bounds : array-like of shape (n_features, 2), optional
            Box to build the MILP over; defaults to ``input_bounds_``.
        bounds : {"lp", "interval"}, default="lp"
            How the big-M constants are computed, as in :meth:`optimize`.

        Returns
        -------
        pyomo.environ.ConcreteModel
        """
        box, layer_bounds = self._box(input_bounds, bounds)
        return to_pyomo_model(self.network_, box, layer_bounds)

    def add_to_model(self, model, inputs, outputs, name="network", input_bounds=None,
                     bounds="lp"):
        """Embed the network in the user's Pyomo model, linked to their variables.

        Adds a block ``model.<name>`` with the formulation of :meth:`to_milp`
        and the constraints ``inputs[i] == model.<name>.x[i]`` and
        ``outputs[k] == model.<name>.y[k]``, so the user can add constraints
        and an objective of their own.

        Parameters
        ----------
        model : pyomo ConcreteModel or Block
        inputs : Pyomo indexed Var or sequence of variables, length n_features
        outputs : Pyomo indexed Var or sequence of variables, length n_outputs
        name : str, default="network"
        input_bounds : array-like of shape (n_features, 2), optional
            Box the network's big-M constants are computed over; defaults to
            ``input_bounds_``. Use a smaller box when the user's constraints
            allow it, because that gives a tighter formulation.
        bounds : {"lp", "interval"}, default="lp"
            How the big-M constants are computed, as in :meth:`optimize`.

        Returns
        -------
        pyomo Block
        """
        box, layer_bounds = self._box(input_bounds, bounds)
        return embed_network(
            model, self.network_, box, inputs, outputs, name=name, layer_bounds=layer_bounds
        )

    def tractability_report(self, input_bounds=None, sense="min", output_weights=None,
                            solve=True, time_limit=None, solver_options=None, bounds="lp"):
        """Measure how hard the network's MILP over a box is, without changing the model.

        Parameters
        ----------
        input_bounds : array-like of shape (n_features, 2), optional
            Defaults to ``input_bounds_``.
        sense : {"min", "max"}, default="min"
            Direction of the MILP objective, as in :meth:`optimize`.
        output_weights : None, int or array-like, default=None
            As in :meth:`optimize`.
        solve : bool, default=True
            Also solve the MILP (with HiGHS) to report its optimum and the root LP gap.
        time_limit : float, optional
            Time limit in seconds of tightening plus solve: with ``bounds="lp"``,
            tightening may use about half of it, as in :meth:`optimize`.
        solver_options : dict, optional
            HiGHS options for both the LP and the MILP solve.
        bounds : {"lp", "interval"}, default="lp"
            How the big-M constants are computed, as in :meth:`optimize`.
            Every number of the report refers to the bounds chosen here.

        Returns
        -------
        report : dict
            ``bounds``, ``bound_time`` (seconds to compute the bounds),
            ``n_unstable``, ``n_unstable_per_layer``, ``n_binaries``,
            ``mean_bound_width`` (mean ``U - L`` over hidden neurons, in the
            units of ``network_``'s pre-activations), ``max_big_m`` (largest
            ``max(-L, U)`` over unstable neurons), ``root_lp_bound`` (optimum of
            the LP relaxation over the whole box), and, when ``solve``:
            ``milp_objective``, ``milp_status``, ``solve_time``, ``n_nodes``,
            ``root_lp_gap`` (``|milp_objective - root_lp_bound|`` in output
            units) and ``root_lp_gap_scaled`` (the same divided by
            ``sqrt(sum_k (w_k s_k)^2)`` with ``s_k`` the training standard
            deviation of output ``k``; for one output, its standard deviation).
            When the solve stops at a limit, ``milp_objective`` is the best
            solution found, so the gap is an upper estimate.
        """
        check_is_fitted(self)
        check_sense(sense)
        time_limit = check_positive_number(time_limit, "time_limit")
        weights = check_output_weights(output_weights, self.n_outputs_)
        start = time.perf_counter()
        share = None if time_limit is None else TIGHTENING_SHARE * time_limit
        box, layer_bounds = self._box(input_bounds, bounds, share)
        bound_time = time.perf_counter() - start
        arrays = build_milp_arrays(self.network_, box, layer_bounds, weights)
        lower = np.concatenate([L for L, _ in layer_bounds]) if layer_bounds else np.zeros(0)
        upper = np.concatenate([U for _, U in layer_bounds]) if layer_bounds else np.zeros(0)
        unstable = (lower < 0) & (upper > 0)
        per_layer = count_unstable(layer_bounds)
        report = {
            "bounds": bounds,
            "bound_time": bound_time,
            "n_unstable": int(per_layer.sum()),
            "n_unstable_per_layer": per_layer.tolist(),
            "n_binaries": arrays.n_binaries,
            "mean_bound_width": float(np.mean(upper - lower)) if lower.size else 0.0,
            "max_big_m": float(np.max(np.maximum(-lower[unstable], upper[unstable])))
            if unstable.any() else 0.0,
            "root_lp_bound": lp_relaxation_bound(arrays, sense=sense, options=solver_options),
        }
        if solve:
            result = optimize_network(
                self.network_, box, layer_bounds, weights, sense=sense,
                time_limit=None if time_limit is None else max(time_limit - bound_time, 1e-3),
                candidates=self.candidate_inputs_, solver_options=solver_options,
            )
            report.update(
                milp_objective=result.objective,
                milp_status=result.status,
                solve_time=result.solve_time,
                n_nodes=result.n_nodes,
            )
            if result.objective is not None and report["root_lp_bound"] is not None:
                gap = abs(result.objective - report["root_lp_bound"])
                output_scale = float(np.sqrt(np.sum((weights * self._y_scaling.scale) ** 2)))
                report["root_lp_gap"] = gap
                report["root_lp_gap_scaled"] = gap / output_scale
        return report

    def optimize(
        self,
        sense="min",
        input_bounds=None,
        time_limit=None,
        mip_gap=1e-4,
        solver="highs",
        output_weights=None,
        output_bounds=None,
        warm_start=True,
        n_random_starts=1000,
        solver_options=None,
        verbose=False,
        bounds="lp",
    ):
        """Find the global minimum or maximum of the network over a box by MILP.

        Parameters
        ----------
        sense : {"min", "max"}, default="min"
        input_bounds : array-like of shape (n_features, 2), optional
            Box to search; defaults to ``input_bounds_``.
        time_limit : float or None, default=None
            Solver time limit in seconds; None means no limit.
        mip_gap : float, default=1e-4
            Relative optimality gap at which the solver stops.
        solver : str, default="highs"
            "highs" solves in-process with highspy. Other names go through
            Pyomo: "appsi_highs", "gurobi" (needs gurobipy), "cbc", "scip",
            "glpk", "cplex" or any name that ``pyomo.SolverFactory`` accepts.
        output_weights : None, int or array-like of shape (n_outputs,), default=None
            Objective ``sum_k w_k y_k``. None selects the only output of a
            single-output network; an int selects one output.
        output_bounds : array-like of shape (n_outputs, 2), optional
            Constraints ``lower_k <= y_k <= upper_k`` (use -inf/inf for none).
        warm_start : bool, default=True
            Hand the solver a starting solution: the best of the stored
            training inputs and ``n_random_starts`` random points of the box,
            with all pre-activations, activations and binaries it implies.
            With a start and ``solver="highs"``, HiGHS also runs without its
            RINS and RENS sub-MIP heuristics (``HIGHS_OPTIONS_WITH_START`` in
            :mod:`sk_relaxreg.optimize`), which spend most of the time on these
            networks; set them to True in ``solver_options`` to restore them.
        n_random_starts : int, default=1000
            Uniform random points of the box added to the starting-point candidates.
        solver_options : dict, optional
            Extra solver options by the solver's own names, for example
            ``{"threads": 1}`` or ``{"mip_feasibility_tolerance": 1e-7}`` for HiGHS.
        verbose : bool, default=False
            Show the solver log.
        bounds : {"lp", "interval"}, default="lp"
            Bounds that give the big-M constants. "lp" tightens the interval
            bounds layer by layer with the LP relaxation of the layers before
            (:mod:`sk_relaxreg.tightening`): at most two small LPs per unstable neuron,
            fewer binaries and smaller big-M constants. "interval" uses interval
            arithmetic only, as the penalties do (``layer_bounds_`` on the default box).
            With a ``time_limit``, tightening may use about half of it and the
            solver gets the rest; neurons left untightened keep valid interval bounds.

        Returns
        -------
        OptimizationResult
            With ``x``, ``objective``, ``predicted`` (forward pass at ``x``),
            ``status``, ``dual_bound``, ``mip_gap``, ``solve_time``,
            ``bound_time`` (seconds of tightening), ``n_nodes`` and the model
            size. A time limit or infeasibility is a status, not an exception.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ValueError
            For an invalid box, sense, time limit, gap or output selection.
        SolverNotAvailableError
            For an unknown or uninstalled solver.

        Warns
        -----
        SolutionMismatchWarning
            When ``objective`` and ``predicted`` disagree beyond solver tolerances.
        ExtrapolationWarning
            When ``input_bounds`` reach outside ``input_bounds_``.
        """
        check_is_fitted(self)
        check_sense(sense)
        check_bounds_method(bounds)
        time_limit = check_positive_number(time_limit, "time_limit")
        if isinstance(mip_gap, bool) or not isinstance(mip_gap, numbers.Real) or not 0 <= mip_gap < 1:
            raise ValueError(f"mip_gap must be a number in [0, 1); got {mip_gap!r}.")
        if isinstance(n_random_starts, bool) or not isinstance(n_random_starts, numbers.Integral) \
                or n_random_starts < 0:
            raise ValueError(f"n_random_starts must be a non-negative int; got {n_random_starts!r}.")
        weights = check_output_weights(output_weights, self.n_outputs_)
        limits = check_output_bounds(output_bounds, self.n_outputs_)
        box, layer_bounds = self._box(input_bounds)
        return optimize_network(
            self.network_,
            box,
            layer_bounds,
            weights,
            sense=sense,
            time_limit=time_limit,
            mip_gap=float(mip_gap),
            solver=solver,
            output_bounds=limits,
            warm_start=warm_start,
            candidates=self.candidate_inputs_,
            n_random_starts=int(n_random_starts),
            solver_options=solver_options,
            verbose=verbose,
            bounds=bounds,
        )
