"""The LP-relaxation-gap regularizer: per-sample LP values with dual-based gradients.

For a training input ``x_i``, fix the network input to ``x_i`` in the big-M
formulation of :mod:`sk_relaxreg.milp`, relax the binaries to ``[0, 1]`` and
keep the big-M constants at the interval bounds ``[L, U]`` over the input box.
For a unit direction ``c >= 0`` over the outputs::

    V_min(x_i) = min  c^T y   over that LP,     V_max(x_i) = max  c^T y

and ``V_min <= c^T f(x_i) <= V_max``. Eliminating ``delta`` shows the LP is the
triangle relaxation: an unstable neuron's ``(z, h)`` ranges over
``h >= 0, h >= z, h <= s (z - L)`` with ``s = U / (U - L)``. The gap is
``c^T f(x_i) - V_min`` for sense "min", ``V_max - c^T f(x_i)`` for "max", and
their sum for "both".

Gradient (envelope theorem). At an optimal primal ``v*`` and dual ``nu`` the
derivative of the LP value with respect to any data of the LP is the
derivative of the Lagrangian. For an affine row ``z_j - W_j h_prev = b_j``
this gives ``dV/db_j = nu_j`` and ``dV/dW_j = nu_j h_prev*``. For the big-M
rows ``h - z - L delta <= -L`` (dual ``mu``) and ``h - U delta <= 0`` (dual
``rho``) it gives ``dV/dL = mu (delta* - 1)`` and ``dV/dU = rho delta*``.
Mode "direct" keeps ``L, U`` constant (the regularizer of Tsay, arXiv
2604.22746). Mode "total" also chains ``dV/dL`` and ``dV/dU`` through the
interval bounds ``L(theta), U(theta)``, which gives the exact total derivative.
Both engines return a torch tensor whose value is the LP value and whose
gradient is this formula, so autograd needs no solver differentiation.

Engines:

- "exact" builds the LP once per training step with highspy (weights and
  bounds are fixed within a step) and, per sample, only changes the bounds of
  the input columns and re-solves from the previous basis.
- "fast" computes, in torch and for the whole subsample at once, the
  Lagrangian dual written as a backward pass through the network: an unstable
  neuron whose coefficient ``a`` is negative uses the upper edge ``s (z - L)``,
  one with ``a >= 0`` uses the lower bound ``alpha z`` with a per-sample slope
  ``alpha`` in ``[0, 1]`` (the optimized-slope linear bound of alpha-CROWN,
  Xu et al., ICLR 2021). Any slopes give a valid lower bound on ``V_min``, so
  the gap is never understated. A few projected sign-gradient steps on the
  slopes per training step, warm-started per sample across steps, bring it
  close to the LP value during training (median shortfall below 1% of
  ``max(1, |V|)`` on trained 2-25x5-1 nets in docs/benchmarks.md); from a
  cold start a few steps are far from it, and hundreds are needed. Its
  gradient is taken with the slopes held fixed, the same envelope argument. In the first hidden layer ``z`` is known exactly, so the lower edge
  ``relu(z)`` is used directly.
"""

import time

import highspy
import numpy as np
import torch

from .highs_milp import build_milp_arrays, make_highs
from .network import ReluNetwork, linear_layers

#: Allowed values of the engine, mode and sense options.
ENGINES = ("fast", "exact")
MODES = ("direct", "total")
SENSES = ("min", "max", "both")


def _attach_gradient(values, carriers):
    """Return ``values`` (no grad) plus zero-valued terms that carry the required gradient."""
    result = values
    for carrier in carriers:
        result = result + carrier
    return result


def _like(array, tensor):
    """Convert a numpy array to a tensor with the dtype and device of ``tensor``."""
    return torch.as_tensor(array, dtype=tensor.dtype, device=tensor.device)


def _zero_valued(tensor):
    return tensor - tensor.detach()


# ---------------------------------------------------------------- exact engine


class ExactLPEngine:
    """Solve the per-sample LPs with HiGHS and build dual-based gradients.

    ``n_solves``, ``n_failures`` and ``solve_seconds`` (wall time inside
    ``Highs.run``) accumulate over calls, for diagnostics.
    """

    name = "exact"

    def __init__(self, highs_options=None):
        self.highs_options = highs_options
        self.n_solves = 0
        self.n_failures = 0
        self.solve_seconds = 0.0

    def lower_values(self, module, X, layer_bounds, direction, mode="direct"):
        """``V_min(x_i)`` for each row of ``X``, with the envelope gradient attached.

        Parameters
        ----------
        module : torch.nn.Sequential
        X : torch.Tensor of shape (n, n_inputs)
        layer_bounds : list of (L, U) tensors
            Interval bounds over the box; in mode "total" they must be the live
            (differentiable) bounds of ``module``.
        direction : torch.Tensor of shape (n_outputs,)
            Objective ``c^T y``; may have any sign pattern.
        mode : {"direct", "total"}

        Returns
        -------
        values : torch.Tensor of shape (n,)
            NaN for samples whose LP failed; their gradient is zero.
        """
        layers = linear_layers(module)
        weights = [layer.weight.detach().double().cpu().numpy() for layer in layers]
        biases = [layer.bias.detach().double().cpu().numpy() for layer in layers]
        network = ReluNetwork(tuple(weights), tuple(biases))
        bounds = [(L.detach().double().cpu().numpy(), U.detach().double().cpu().numpy())
                  for L, U in layer_bounds]
        c = direction.detach().double().cpu().numpy()
        X_np = X.detach().double().cpu().numpy()

        box = np.column_stack([X_np.min(axis=0), X_np.max(axis=0)])
        arrays = build_milp_arrays(network, box, bounds, c)
        # z and h bounds are implied by the big-M rows when x lies in the box, so drop
        # them: this keeps the LP feasible under float32 round-off in L and U.
        free = np.ones(arrays.n_cols, dtype=bool)
        free[arrays.x_cols] = False
        free[arrays.integrality] = False
        arrays.col_lower[free] = -np.inf
        arrays.col_upper[free] = np.inf
        for h_map in arrays.h_cols:
            arrays.col_lower[h_map[h_map >= 0]] = 0.0
        highs = make_highs(arrays, sense="min", relax=True, options=self.highs_options)

        n = len(X_np)
        values = np.full(n, np.nan)
        grad_W = [np.zeros((n,) + W.shape) for W in weights]
        grad_b = [np.zeros((n,) + b.shape) for b in biases]
        grad_L = [np.zeros((n, len(L))) for L, _ in bounds]
        grad_U = [np.zeros((n, len(U))) for _, U in bounds]
        x_index = arrays.x_cols.astype(np.int32)

        for i in range(n):
            highs.changeColsBounds(len(x_index), x_index, X_np[i], X_np[i])
            started = time.perf_counter()
            highs.run()
            self.solve_seconds += time.perf_counter() - started
            self.n_solves += 1
            if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                self.n_failures += 1
                # Start the next sample from scratch rather than from a bad basis.
                highs.clearSolver()
                continue
            solution = highs.getSolution()
            col_value = np.asarray(solution.col_value)
            row_dual = np.asarray(solution.row_dual)
            values[i] = highs.getInfo().objective_function_value
            self._accumulate(arrays, col_value, row_dual, X_np[i], i, grad_W, grad_b, grad_L, grad_U)

        ok = ~np.isnan(values)
        carriers = []
        for layer, gW, gb in zip(layers, grad_W, grad_b):
            dW = _zero_valued(layer.weight)
            db = _zero_valued(layer.bias)
            carriers.append(torch.einsum("noi,oi->n", _like(gW, dW), dW))
            carriers.append(_like(gb, db) @ db)
        if mode == "total":
            for (L, U), gL, gU in zip(layer_bounds, grad_L, grad_U):
                carriers.append(_like(gL, L) @ _zero_valued(L))
                carriers.append(_like(gU, U) @ _zero_valued(U))
        base = _like(np.where(ok, values, 0.0), X)
        result = _attach_gradient(base, carriers)
        return torch.where(torch.as_tensor(ok, device=X.device), result, torch.full_like(result, float("nan")))

    @staticmethod
    def _accumulate(arrays, col_value, row_dual, x, i, grad_W, grad_b, grad_L, grad_U):
        previous_value = x
        previous_index = np.arange(len(x))
        n_hidden = len(arrays.kinds)
        for l in range(n_hidden):
            kept = arrays.kinds[l]["kept"]
            nu = row_dual[arrays.affine_rows[l][kept]]
            grad_b[l][i, kept] = nu
            grad_W[l][i][np.ix_(kept, previous_index)] = np.outer(nu, previous_value)

            unstable = arrays.kinds[l]["unstable"]
            delta = col_value[arrays.delta_cols[l][unstable]]
            grad_L[l][i, unstable] = row_dual[arrays.bigm_z_rows[l][unstable]] * (delta - 1.0)
            grad_U[l][i, unstable] = row_dual[arrays.bigm_delta_rows[l][unstable]] * delta

            previous_value = col_value[arrays.h_cols[l][kept]]
            previous_index = kept

        nu = row_dual[arrays.output_rows]
        grad_b[n_hidden][i] = nu
        grad_W[n_hidden][i][:, previous_index] = np.outer(nu, previous_value)


# ----------------------------------------------------------------- fast engine


class FastLPEngine:
    """Batched lower bound on the LP value by an optimized-slope backward pass in torch.

    Parameters
    ----------
    n_iterations : int, default=10
        Projected sign-gradient steps on the slopes per call.
    learning_rate : float, default=0.2
        Initial step size for the slopes, which live in [0, 1]; step t uses
        ``learning_rate / sqrt(1 + t)``.
    warm_start : bool, default=True
        Keep each sample's optimized slopes (keyed by its input values) and
        start from them the next time the sample is seen.
    """

    name = "fast"

    def __init__(self, n_iterations=10, learning_rate=0.2, warm_start=True):
        self.n_iterations = n_iterations
        self.learning_rate = learning_rate
        self.warm_start = warm_start
        self._row_of = {}
        self._store = []
        self._n_filled = 0
        self._rows = None

    def lower_values(self, module, X, layer_bounds, direction, mode="direct"):
        """Lower bounds on ``V_min(x_i)``, same contract as :meth:`ExactLPEngine.lower_values`."""
        layers = linear_layers(module)
        if mode == "direct":
            layer_bounds = [(L.detach(), U.detach()) for L, U in layer_bounds]
        direction = direction.to(X.dtype)

        slopes = self._initial_slopes(X, layer_bounds, direction)
        relaxation = None
        if slopes and self.n_iterations > 0:
            # The slopes are optimized with hand-written gradients (no autograd graph),
            # which is several times cheaper per step for networks this small.
            with torch.no_grad():
                frozen = [(layer.weight.detach(), layer.bias.detach()) for layer in layers]
                frozen_bounds = [(L.detach(), U.detach()) for L, U in layer_bounds]
                relaxation = _Relaxation(frozen, X.detach(), frozen_bounds)
                # Sign steps are not monotone, so keep each sample's best slopes seen so far.
                best_bound = None
                best_slopes = [slope.clone() for slope in slopes]
                for step in range(self.n_iterations + 1):
                    bound, gradients = bound_and_slope_gradients(
                        frozen, X.detach(), frozen_bounds, slopes, direction, relaxation
                    )
                    if best_bound is None:
                        best_bound = bound
                    else:
                        improved = (bound > best_bound).unsqueeze(1)
                        best_bound = torch.maximum(bound, best_bound)
                        best_slopes = [torch.where(improved, slope, best)
                                       for best, slope in zip(best_slopes, slopes)]
                    if step == self.n_iterations:
                        break
                    # Projected sign-gradient ascent with a decaying step: the optimal slopes
                    # are mostly 0 or 1, which sign steps reach exactly after clipping.
                    step_size = self.learning_rate / np.sqrt(1.0 + step)
                    for slope, gradient in zip(slopes, gradients):
                        slope.add_(torch.sign(gradient), alpha=step_size).clamp_(0.0, 1.0)
                slopes = best_slopes
            self._store_slopes(X, slopes)

        live = [(layer.weight, layer.bias) for layer in layers]
        # In mode "direct" the bounds are the frozen ones, so their relaxation is reused.
        return backward_bound(live, X, layer_bounds, slopes, direction,
                              relaxation if mode == "direct" else None)

    def _initial_slopes(self, X, layer_bounds, direction):
        n = X.shape[0]
        # Adaptive choice of CROWN: slope 1 where the neuron is mostly active.
        slopes = [(U > -L).to(X.dtype).expand(n, -1).clone() for L, U in layer_bounds[1:]]
        if not (self.warm_start and slopes):
            return slopes
        rows = self._cache_rows(X, direction)
        known = rows < self._n_filled
        if bool(known.any()):
            for slope, store in zip(slopes, self._store):
                slope[known] = store[rows[known]]
        self._rows = rows
        return slopes

    def _cache_rows(self, X, direction):
        """Map each (direction, sample) pair, by their bytes, to a row of the slope store."""
        prefix = direction.detach().cpu().numpy().tobytes()
        keys = [prefix + row.tobytes() for row in X.detach().cpu().numpy()]
        rows = []
        for key in keys:
            row = self._row_of.get(key)
            if row is None:
                row = len(self._row_of)
                self._row_of[key] = row
            rows.append(row)
        return torch.as_tensor(rows, dtype=torch.long, device=X.device)

    def _store_slopes(self, X, slopes):
        if not (self.warm_start and slopes):
            return
        rows = self._rows
        needed = int(rows.max()) + 1
        if not self._store or self._store[0].shape[0] < needed or any(
            store.shape[1] != slope.shape[1] for store, slope in zip(self._store, slopes)
        ):
            capacity = max(needed, 2 * (self._store[0].shape[0] if self._store else 0), 256)
            grown = [
                torch.zeros(capacity, slope.shape[1], dtype=slope.dtype, device=slope.device)
                for slope in slopes
            ]
            for new, old in zip(grown, self._store):
                if old.shape[1] == new.shape[1]:
                    new[: old.shape[0]] = old
            self._store = grown
        for store, slope in zip(self._store, slopes):
            store[rows] = slope
        self._n_filled = max(self._n_filled, needed)


class _Relaxation:
    """Per-layer constants of the triangle relaxation, computed once per call.

    ``upper_slope`` is ``s = U / (U - L)`` and ``upper_intercept`` is ``-s L`` on
    unstable neurons (zero elsewhere); ``active`` is 1.0 on stably active neurons.
    """

    def __init__(self, layers, X, layer_bounds):
        self.unstable, self.active, self.upper_slope, self.upper_intercept = [], [], [], []
        for L, U in layer_bounds:
            unstable = (L < 0) & (U > 0)
            width = torch.where(unstable, U - L, torch.ones_like(U))
            slope = torch.where(unstable, U / width, torch.zeros_like(U))
            self.unstable.append(unstable)
            self.active.append((L >= 0).to(X.dtype))
            self.upper_slope.append(slope)
            self.upper_intercept.append(-slope * L)
        # In the first hidden layer z is exact: h lies between relu(z) and the upper edge.
        W, b = layers[0]
        z = X @ W.T + b
        L = layer_bounds[0][0]
        exact = torch.where(self.active[0] > 0, z, torch.zeros_like(z))
        self.first_lower = torch.where(self.unstable[0], torch.relu(z), exact)
        self.first_upper = torch.where(self.unstable[0], self.upper_slope[0] * (z - L), exact)


def bound_and_slope_gradients(layers, X, layer_bounds, slopes, direction, relaxation=None):
    """The backward-pass bound and its gradient with respect to each slope, without autograd.

    A backward pass fixes, per neuron and sample, which linear bound is used
    (by the sign of the neuron's coefficient). A forward pass through those
    same linear bounds then gives the value ``z_hat`` each pre-activation takes
    in the bound. The derivative of the bound with respect to the slope
    ``alpha_j`` of an unstable neuron with coefficient ``a_j >= 0`` is
    ``a_j * z_hat_j``, and zero for the other neurons.
    """
    relaxation = relaxation or _Relaxation(layers, X, layer_bounds)
    n = X.shape[0]
    n_hidden = len(layer_bounds)
    W_out, b_out = layers[-1]
    coefficient = (direction @ W_out).expand(n, -1)
    coefficients, slopes_used, intercepts, masks = {}, {}, {}, {}
    for l in range(n_hidden - 1, 0, -1):
        negative = coefficient < 0
        unstable = relaxation.unstable[l]
        slope = torch.where(
            unstable,
            torch.where(negative, relaxation.upper_slope[l], slopes[l - 1]),
            relaxation.active[l],
        )
        intercepts[l] = negative * relaxation.upper_intercept[l]
        coefficients[l] = coefficient
        slopes_used[l] = slope
        masks[l] = unstable & ~negative
        coefficient = (coefficient * slope) @ layers[l][0]

    h = torch.where(coefficient < 0, relaxation.first_upper, relaxation.first_lower)
    gradients = []
    for l in range(1, n_hidden):
        W, b = layers[l]
        z_hat = h @ W.T + b
        gradients.append(masks[l] * coefficients[l] * z_hat)
        h = slopes_used[l] * z_hat + intercepts[l]
    bound = (h @ W_out.T + b_out) @ direction
    return bound, gradients


def backward_bound(layers, X, layer_bounds, slopes, direction, relaxation=None):
    """Lower bound on ``min c^T y`` over the triangle relaxation with the input fixed at each row of X.

    Parameters
    ----------
    layers : list of (W, b) tensors, output layer last
    X : tensor of shape (n, n_inputs)
    layer_bounds : list of (L, U) tensors of the hidden layers
    slopes : list of tensors of shape (n, n_l), one per hidden layer after the first
        Lower-bound slopes ``alpha`` in [0, 1].
    direction : tensor of shape (n_outputs,)
    relaxation : _Relaxation, optional
        Constants of the same ``layer_bounds`` (detached), if already computed.

    Returns
    -------
    tensor of shape (n,)
    """
    n = X.shape[0]
    W_out, b_out = layers[-1]
    coefficient = (direction @ W_out).expand(n, -1)
    constant = (direction @ b_out).expand(n).clone()
    if not layer_bounds:
        return constant + (coefficient * X).sum(dim=1)

    for l in range(len(layer_bounds) - 1, -1, -1):
        L, U = layer_bounds[l]
        W, b = layers[l]
        if relaxation is None:
            unstable = (L < 0) & (U > 0)
            active = L >= 0
            width = torch.where(unstable, U - L, torch.ones_like(U))
            upper_slope = torch.where(unstable, U / width, torch.zeros_like(U))
        else:
            unstable, upper_slope = relaxation.unstable[l], relaxation.upper_slope[l]
            active = relaxation.active[l] > 0
        negative = coefficient < 0

        if l == 0:
            z = X @ W.T + b
            lower_edge = torch.relu(z)
            upper_edge = upper_slope * (z - L)
            h_bound = torch.where(negative, upper_edge, lower_edge)
            h_value = torch.where(unstable, h_bound, torch.where(active, z, torch.zeros_like(z)))
            return constant + (coefficient * h_value).sum(dim=1)

        alpha = slopes[l - 1]
        slope = torch.where(
            unstable,
            torch.where(negative, upper_slope.expand_as(alpha), alpha),
            active.to(alpha.dtype).expand_as(alpha),
        )
        upper_intercept = -upper_slope * L if relaxation is None else relaxation.upper_intercept[l]
        intercept = torch.where(unstable & negative, upper_intercept, torch.zeros_like(alpha))
        constant = constant + (coefficient * intercept).sum(dim=1)
        coefficient = coefficient * slope
        constant = constant + coefficient @ b
        coefficient = coefficient @ W
    raise AssertionError("unreachable")


# -------------------------------------------------------------- the penalty


def make_engine(engine, n_iterations=10):
    """Create an engine by name ("fast" or "exact")."""
    if engine == "exact":
        return ExactLPEngine()
    if engine == "fast":
        return FastLPEngine(n_iterations=n_iterations)
    raise ValueError(f"lp_gap_engine must be one of {ENGINES}; got {engine!r}.")


def lp_gap(module, X, layer_bounds, direction, sense="min", engine=None, mode="direct"):
    """Per-sample LP-relaxation gap (see the module docstring), differentiable.

    Parameters
    ----------
    module : torch.nn.Sequential
    X : tensor of shape (n, n_inputs)
    layer_bounds : list of (L, U) tensors over the box
    direction : tensor of shape (n_outputs,), non-negative unit vector
    sense : {"min", "max", "both"}
    engine : ExactLPEngine or FastLPEngine, default FastLPEngine()
    mode : {"direct", "total"}

    Returns
    -------
    gaps : tensor of shape (n,), NaN where an LP failed
    """
    engine = engine or FastLPEngine()
    prediction = module(X) @ direction.to(X.dtype)
    gaps = torch.zeros_like(prediction)
    if sense in ("min", "both"):
        gaps = gaps + prediction - engine.lower_values(module, X, layer_bounds, direction, mode)
    if sense in ("max", "both"):
        upper = -engine.lower_values(module, X, layer_bounds, -direction, mode)
        gaps = gaps + upper - prediction
    return gaps


class LPGapPenalty:
    """Batch penalty: mean LP-relaxation gap over a random subsample of each batch.

    Used by :class:`sk_relaxreg.training.RegularizedNet`. Samples whose LP
    fails are skipped and counted in the history key ``lp_failures``; the
    batch mean gap goes to ``lp_gap``.

    Parameters
    ----------
    weight : float
    sense : {"min", "max", "both"}
    n_samples : int or None
        Points per batch; None uses the whole batch.
    engine : {"fast", "exact"}
    mode : {"direct", "total"}
    n_iterations : int
        Slope-optimization steps of the fast engine.
    direction : ndarray of shape (n_outputs,)
        Non-negative unit objective direction, in scaled output units.
    seed : int
        Seeds the subsampling.
    """

    name = "lp_gap"

    def __init__(self, weight, sense, n_samples, engine, mode, n_iterations, direction, seed):
        self.weight = weight
        self.sense = sense
        self.n_samples = n_samples
        self.mode = mode
        self.engine = make_engine(engine, n_iterations)
        self.direction = torch.as_tensor(direction, dtype=torch.float32)
        self.generator = torch.Generator().manual_seed(int(seed))

    def __call__(self, module, X, layer_bounds, history=None):
        if self.n_samples is not None and X.shape[0] > self.n_samples:
            rows = torch.randperm(X.shape[0], generator=self.generator)[: self.n_samples]
            X = X[rows.to(X.device)]
        direction = self.direction.to(X.device)
        gaps = lp_gap(module, X, layer_bounds, direction, self.sense, self.engine, self.mode)
        ok = ~torch.isnan(gaps)
        n_failed = int((~ok).sum())
        if history is not None:
            history.record_batch("lp_failures", n_failed)
        if not bool(ok.any()):
            return None
        value = gaps[ok].mean()
        if history is not None:
            history.record_batch("lp_gap", float(value.detach()))
        return value
