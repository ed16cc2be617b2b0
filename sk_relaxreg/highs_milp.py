"""The same big-M MILP as :mod:`sk_relaxreg.milp`, built as arrays and solved in-process by HiGHS.

Building the constraint matrix with numpy and handing it to ``highspy`` costs
milliseconds, where building the Pyomo model of a large network costs a
noticeable fraction of a second; :func:`sk_relaxreg.optimize.optimize_network`
therefore uses this path for ``solver="highs"``. Columns, in order: inputs
``x``; then per hidden layer, for every kept neuron (``U > 0``), ``z`` and
``h``, and ``delta`` for the unstable ones; then outputs ``y``. Rows are those
listed in :mod:`sk_relaxreg.milp`, written as::

    z - W h_prev           = b           (affine, every kept neuron)
    h - z                  = 0           (stably active)
    h - z                 >= 0           (unstable)
    h - z - L delta       <= -L          (unstable)
    h - U delta           <= 0           (unstable)
    y - W_out h_K          = b_out
"""

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from .milp import classify_neurons


@dataclass
class MilpArrays:
    """Column-wise MILP data plus the map from network quantities to column indices."""

    matrix: sp.csc_matrix
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    cost: np.ndarray
    integrality: np.ndarray
    x_cols: np.ndarray
    y_cols: np.ndarray
    z_cols: list
    h_cols: list
    delta_cols: list
    kinds: list
    affine_rows: list = None
    bigm_z_rows: list = None
    bigm_delta_rows: list = None
    output_rows: np.ndarray = None

    @property
    def n_cols(self):
        return self.matrix.shape[1]

    @property
    def n_rows(self):
        return self.matrix.shape[0]

    @property
    def n_binaries(self):
        return int(np.sum(self.integrality))


class _TripletBuilder:
    """Collects rows as (column, value) lists and records their bounds."""

    def __init__(self):
        self.rows, self.cols, self.vals = [], [], []
        self.lower, self.upper = [], []

    def add_row(self, cols, vals, lower, upper):
        row = len(self.lower)
        self.rows.append(np.full(len(cols), row))
        self.cols.append(np.asarray(cols))
        self.vals.append(np.asarray(vals, dtype=float))
        self.lower.append(lower)
        self.upper.append(upper)

    def matrix(self, n_cols):
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, int)
        cols = np.concatenate(self.cols) if self.cols else np.zeros(0, int)
        vals = np.concatenate(self.vals) if self.vals else np.zeros(0)
        keep = vals != 0.0
        return sp.csc_matrix((vals[keep], (rows[keep], cols[keep])), shape=(len(self.lower), n_cols))


def build_milp_arrays(network, input_bounds, layer_bounds, output_weights, output_bounds=None):
    """Build the big-M MILP with objective ``sum_k output_weights[k] * y_k``.

    Parameters
    ----------
    network : ReluNetwork
    input_bounds : ndarray of shape (n_inputs, 2)
    layer_bounds : list of (L, U)
        Pre-activation bounds valid over ``input_bounds``.
    output_weights : ndarray of shape (n_outputs,)
    output_bounds : ndarray of shape (n_outputs, 2), optional
        Extra constraints ``lo_k <= y_k <= up_k`` (infinite entries allowed).

    Returns
    -------
    MilpArrays
    """
    kinds = classify_neurons(layer_bounds)
    col_lower, col_upper, integrality = [], [], []

    def new_cols(lower, upper, integer=False):
        start = len(col_lower)
        col_lower.extend(np.atleast_1d(lower).tolist())
        col_upper.extend(np.atleast_1d(upper).tolist())
        integrality.extend([integer] * len(np.atleast_1d(lower)))
        return np.arange(start, len(col_lower))

    x_cols = new_cols(input_bounds[:, 0], input_bounds[:, 1])
    z_cols, h_cols, delta_cols = [], [], []
    for (L, U), kind in zip(layer_bounds, kinds):
        n = len(L)
        z_map = np.full(n, -1)
        h_map = np.full(n, -1)
        d_map = np.full(n, -1)
        kept = kind["kept"]
        z_map[kept] = new_cols(L[kept], U[kept])
        h_map[kept] = new_cols(np.maximum(L[kept], 0), U[kept])
        d_map[kind["unstable"]] = new_cols(
            np.zeros(len(kind["unstable"])), np.ones(len(kind["unstable"])), integer=True
        )
        z_cols.append(z_map)
        h_cols.append(h_map)
        delta_cols.append(d_map)

    n_out = network.n_outputs
    if output_bounds is None:
        y_cols = new_cols(np.full(n_out, -np.inf), np.full(n_out, np.inf))
    else:
        y_cols = new_cols(output_bounds[:, 0], output_bounds[:, 1])

    rows = _TripletBuilder()
    affine_rows, bigm_z_rows, bigm_delta_rows = [], [], []
    previous = x_cols
    previous_index = np.arange(network.n_inputs)
    for l, ((L, U), kind) in enumerate(zip(layer_bounds, kinds)):
        W, b = network.weights[l], network.biases[l]
        affine_rows.append(np.full(len(L), -1))
        bigm_z_rows.append(np.full(len(L), -1))
        bigm_delta_rows.append(np.full(len(L), -1))
        for j in kind["kept"]:
            affine_rows[l][j] = len(rows.lower)
            rows.add_row(
                np.concatenate(([z_cols[l][j]], previous)),
                np.concatenate(([1.0], -W[j, previous_index])),
                b[j],
                b[j],
            )
        for j in kind["active"]:
            rows.add_row([h_cols[l][j], z_cols[l][j]], [1.0, -1.0], 0.0, 0.0)
        for j in kind["unstable"]:
            h, z, d = h_cols[l][j], z_cols[l][j], delta_cols[l][j]
            rows.add_row([h, z], [1.0, -1.0], 0.0, np.inf)
            bigm_z_rows[l][j] = len(rows.lower)
            rows.add_row([h, z, d], [1.0, -1.0, -L[j]], -np.inf, -L[j])
            bigm_delta_rows[l][j] = len(rows.lower)
            rows.add_row([h, d], [1.0, -U[j]], -np.inf, 0.0)
        previous = h_cols[l][kind["kept"]]
        previous_index = kind["kept"]

    W, b = network.weights[-1], network.biases[-1]
    output_rows = np.arange(len(rows.lower), len(rows.lower) + n_out)
    for k in range(n_out):
        rows.add_row(
            np.concatenate(([y_cols[k]], previous)),
            np.concatenate(([1.0], -W[k, previous_index])),
            b[k],
            b[k],
        )

    n_cols = len(col_lower)
    cost = np.zeros(n_cols)
    cost[y_cols] = output_weights
    return MilpArrays(
        matrix=rows.matrix(n_cols),
        col_lower=np.array(col_lower, dtype=float),
        col_upper=np.array(col_upper, dtype=float),
        row_lower=np.array(rows.lower, dtype=float),
        row_upper=np.array(rows.upper, dtype=float),
        cost=cost,
        integrality=np.array(integrality, dtype=bool),
        x_cols=x_cols,
        y_cols=y_cols,
        z_cols=z_cols,
        h_cols=h_cols,
        delta_cols=delta_cols,
        kinds=kinds,
        affine_rows=affine_rows,
        bigm_z_rows=bigm_z_rows,
        bigm_delta_rows=bigm_delta_rows,
        output_rows=output_rows,
    )


def implied_solution(arrays, network, x):
    """Build the full MILP column vector implied by the input ``x``.

    Pre-activations and activations come from the forward pass, and
    ``delta = 1`` exactly where ``z > 0``, which satisfies every big-M row.
    """
    values = np.zeros(arrays.n_cols)
    values[arrays.x_cols] = x
    y, preactivations = network.forward(x[None, :], return_preactivations=True)
    for z, z_map, h_map, d_map in zip(preactivations, arrays.z_cols, arrays.h_cols, arrays.delta_cols):
        z = z[0]
        kept = z_map >= 0
        values[z_map[kept]] = z[kept]
        values[h_map[kept]] = np.maximum(z[kept], 0.0)
        unstable = d_map >= 0
        values[d_map[unstable]] = (z[unstable] > 0).astype(float)
    values[arrays.y_cols] = y[0]
    # Clip into the column bounds so that float round-off does not make the start infeasible.
    return np.clip(values, arrays.col_lower, arrays.col_upper)


def make_highs(arrays, sense="min", relax=False, verbose=False, options=None):
    """Load the arrays into a new ``highspy.Highs`` instance.

    Parameters
    ----------
    arrays : MilpArrays
    sense : {"min", "max"}
    relax : bool, default=False
        Drop integrality, giving the LP relaxation.
    verbose : bool, default=False
        Let HiGHS print its log.
    options : dict, optional
        HiGHS option names and values, set after the defaults.
    """
    lp = highspy.HighsLp()
    lp.num_col_ = arrays.n_cols
    lp.num_row_ = arrays.n_rows
    lp.col_cost_ = arrays.cost
    lp.col_lower_ = arrays.col_lower
    lp.col_upper_ = arrays.col_upper
    lp.row_lower_ = arrays.row_lower
    lp.row_upper_ = arrays.row_upper
    lp.sense_ = highspy.ObjSense.kMaximize if sense == "max" else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = arrays.matrix.indptr
    lp.a_matrix_.index_ = arrays.matrix.indices
    lp.a_matrix_.value_ = arrays.matrix.data
    if not relax and arrays.n_binaries:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in arrays.integrality
        ]

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", bool(verbose))
    for name, value in (options or {}).items():
        status = highs.setOptionValue(name, value)
        if status != highspy.HighsStatus.kOk:
            raise ValueError(
                f"HiGHS rejected option {name}={value!r}; see the HiGHS option list for "
                f"valid names and types."
            )
    highs.passModel(lp)
    if "threads" in (options or {}):
        _use_thread_count(options["threads"])
    return highs


#: Thread count the HiGHS scheduler of this process was last reset to (None: never).
_scheduler_threads = [None]


def _use_thread_count(threads):
    """Reset HiGHS's process-wide scheduler when a solve requests a new thread count.

    HiGHS fixes its thread pool when the first solve of the process starts (with
    its default count when that solve set none, as the LPs of bound tightening do).
    A later solve that requests another count fails unless the scheduler is reset
    first. Resetting only on a change keeps repeated solves with the same
    count (as in a search) from resetting.
    """
    # NOTE: the reset is process-wide, so avoid changing "threads" while other threads
    # of the same process are solving with HiGHS (for example threaded Dask workers).
    if threads != _scheduler_threads[0]:
        highspy.Highs.resetGlobalScheduler(True)
        _scheduler_threads[0] = threads


def lp_relaxation_bound(arrays, sense="min", options=None):
    """Objective of the LP relaxation (binaries relaxed to [0, 1]), or None if it fails."""
    highs = make_highs(arrays, sense=sense, relax=True, options=options)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return highs.getInfo().objective_function_value
