"""Tighter pre-activation bounds from the LP relaxation (optimization-based bound tightening).

Interval bounds (:mod:`sk_relaxreg.bounds`) treat the neurons of a layer as
independent, so from the second hidden layer on they overestimate the range of
each pre-activation. This module replaces them, layer by layer, with the range
over the LP relaxation of the layers before. With the bounds of layers
``1..l-1`` fixed, every neuron ``j`` of layer ``l >= 2`` that interval
arithmetic leaves unstable gets::

    L_lj = max(L_lj^IBP,  min  W_l[j] h_{l-1} + b_l[j] - eps_lj)
    U_lj = min(U_lj^IBP,  max  W_l[j] h_{l-1} + b_l[j] + eps_lj)

    over  x_lo <= x <= x_up,
          z_k = W_k h_{k-1} + b_k,  L_k <= z_k <= U_k          for k = 1..l-1, h_0 = x
          h_k = z_k                       (stably active neurons of layer k)
          h_k = 0                         (stably inactive neurons)
          h_k >= 0,  h_k >= z_k,
          h_k <= U_k (z_k - L_k) / (U_k - L_k)   (unstable neurons: the triangle)

which is the LP relaxation of the big-M MILP of :mod:`sk_relaxreg.milp`
restricted to layers ``1..l-1`` (relaxing ``delta`` to ``[0, 1]`` and
projecting it out gives the triangle). ``L^IBP`` and ``U^IBP`` are the interval
bounds computed from the tightened bounds of layer ``l-1``.

Validity: every input of the box gives a point of that LP, so the true
pre-activation lies in ``[L_lj, U_lj]``. The padding ``eps_lj = tolerance *
(1 + |v|)`` moves each LP value ``v`` outward to cover the solver's
feasibility tolerances. Tightness: interval arithmetic solves a relaxation of the same LP
(each ``h_k`` on its own box), so the bounds are never looser than the interval
bounds. The first hidden layer's interval bounds are already exact.

Cost: at most two LPs per unstable neuron of layers ``2..K`` (the maximum is
skipped when the minimum already shows the neuron active). The LP of a layer is
built once; between neurons only its objective changes, so HiGHS re-solves
from the previous basis. Stable neurons keep their interval bounds. A neuron
whose LP fails (numerical trouble) keeps its interval bound, which is valid.
"""

import time

import highspy
import numpy as np

from .bounds import interval_bounds
from .highs_milp import build_milp_arrays, make_highs
from .network import ReluNetwork

#: Relative outward padding of every LP value, to cover HiGHS's feasibility tolerances.
BOUND_TOLERANCE = 1e-6


def lp_tightened_bounds(network, input_bounds, time_limit=None, tolerance=BOUND_TOLERANCE):
    """Pre-activation bounds of each hidden layer from the LP relaxation of the layers before.

    Parameters
    ----------
    network : ReluNetwork
    input_bounds : ndarray of shape (n_inputs, 2)
    time_limit : float, optional
        Seconds to spend at most. When they run out, the remaining neurons keep
        the interval bounds computed from the bounds tightened so far, which
        are valid and never looser than plain interval bounds.
    tolerance : float, default=1e-6
        Relative outward padding of each LP value.

    Returns
    -------
    bounds : list of (L, U) pairs of ndarray, one pair per hidden layer
    info : dict
        ``n_lps`` (LPs solved), ``n_failed`` (LPs that did not end optimal),
        ``complete`` (False when ``time_limit`` stopped the tightening) and
        ``time`` (seconds).
    """
    start = time.perf_counter()
    deadline = None if time_limit is None else start + float(time_limit)
    info = {"n_lps": 0, "n_failed": 0, "complete": True, "time": 0.0}
    n_hidden = len(network.weights) - 1
    if n_hidden == 0:
        return [], info

    bounds = [interval_bounds(network, input_bounds)[0]]
    for l in range(1, n_hidden):
        L, U = _interval_step(network.weights[l], network.biases[l], *bounds[-1])
        if info["complete"]:
            info["complete"] = _tighten_layer(network, input_bounds, bounds, l, L, U, deadline,
                                              tolerance, info)
        bounds.append((L, U))

    info["time"] = time.perf_counter() - start
    return bounds, info


def _tighten_layer(network, input_bounds, bounds, l, L, U, deadline, tolerance, info):
    """Tighten ``L``, ``U`` of layer ``l`` in place; return False if the deadline stopped it."""
    unstable = np.flatnonzero((L < 0) & (U > 0))
    if unstable.size == 0:
        return True
    if deadline is not None and time.perf_counter() > deadline:
        return False

    # The first l hidden layers with layer l's affine map as output layer: its
    # outputs are the pre-activations of layer l.
    arrays = build_milp_arrays(_truncated(network, l + 1), input_bounds, bounds, np.zeros(len(L)))
    highs = make_highs(arrays, relax=True)

    for j in unstable:
        if deadline is not None and time.perf_counter() > deadline:
            return False
        column = int(arrays.y_cols[j])
        highs.changeColCost(column, 1.0)
        value = _solve(highs, highspy.ObjSense.kMinimize, info, deadline)
        if value is not None:
            L[j] = max(L[j], value - tolerance * (1.0 + abs(value)))
        # A neuron that the minimum already shows active needs no upper LP to be stable.
        if L[j] < 0:
            value = _solve(highs, highspy.ObjSense.kMaximize, info, deadline)
            if value is not None:
                U[j] = min(U[j], value + tolerance * (1.0 + abs(value)))
        highs.changeColCost(column, 0.0)
    return True


def _solve(highs, sense, info, deadline):
    highs.changeObjectiveSense(sense)
    if deadline is not None:
        # An LP stopped by this limit counts as failed, and its neuron keeps its interval bound.
        highs.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3))
    highs.run()
    info["n_lps"] += 1
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        info["n_failed"] += 1
        return None
    return highs.getInfo().objective_function_value


def _interval_step(W, b, L_prev, U_prev):
    """Return interval bounds of ``W max(0, z) + b`` for ``z`` in ``[L_prev, U_prev]``."""
    lower, upper = np.maximum(L_prev, 0.0), np.maximum(U_prev, 0.0)
    centre = W @ ((lower + upper) / 2) + b
    radius = np.abs(W) @ ((upper - lower) / 2)
    return centre - radius, centre + radius


def _truncated(network, n_layers):
    """Return the first ``n_layers`` affine layers of ``network``, the last one as output layer."""
    return ReluNetwork(tuple(network.weights[:n_layers]), tuple(network.biases[:n_layers]))
