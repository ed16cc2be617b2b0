"""Scorers that rate a fitted network on accuracy and on the effort of solving its MILP."""

import math
import numbers
import threading
from collections import OrderedDict
from contextlib import contextmanager
from inspect import signature

import joblib
import numpy as np
from sklearn.metrics import get_scorer
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from . import result as status_codes
from ._validation import check_bounds_method, check_positive_number, check_sense
from .estimator import TractableMLPRegressor

#: Names of the effort measures: HiGHS run time in seconds, branch-and-bound
#: nodes, or simplex iterations summed over all LPs of the solve.
EFFORT_MODES = ("time", "n_nodes", "simplex_iterations")

#: Effort per mode below which a solve counts as nearly free in the blend.
DEFAULT_EFFORT_SCALES = {"time": 0.1, "n_nodes": 10.0, "simplex_iterations": 1000.0}

#: Values a scorer can return, named as keys of :func:`tractability_scoring`.
COMPONENTS = ("blend", "accuracy", "neg_solve_effort", "neg_n_unstable", "solved")

#: Number of effort measurements kept per process, so that the keys of one
#: multi-metric dict share a single solve of each fold's network.
CACHE_SIZE = 32

_measurement_cache = OrderedDict()
_cache_lock = threading.Lock()


def _check_real(value, name, minimum, allow_equal, hint):
    valid = (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value >= minimum if allow_equal else value > minimum)
    )
    if not valid:
        bound = f">= {minimum}" if allow_equal else f"> {minimum}"
        raise ValueError(f"{name} must be a finite number {bound}; got {value!r}. {hint}")
    return float(value)


def _resolve_accuracy(accuracy):
    if callable(accuracy):
        return accuracy
    if not isinstance(accuracy, str):
        raise ValueError(
            f"accuracy must be a scikit-learn scorer name such as 'r2' or "
            f"'neg_mean_squared_error', or a callable scorer(estimator, X, y); got {accuracy!r}."
        )
    try:
        return get_scorer(accuracy)
    except ValueError as exc:
        raise ValueError(
            f"accuracy={accuracy!r} is not a scikit-learn scorer name; see "
            f"sklearn.metrics.get_scorer_names() for the valid names (for example 'r2', "
            f"'neg_mean_squared_error', 'neg_mean_absolute_error')."
        ) from exc


def _network_estimator(estimator):
    """Return the TractableMLPRegressor whose MILP is solved: the estimator or a pipeline's last."""
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if not isinstance(final, TractableMLPRegressor):
        raise TypeError(
            f"The tractability scorer needs a fitted TractableMLPRegressor, or a Pipeline whose "
            f"last step is one; got {type(final).__name__}. Put the regressor last in the "
            f"pipeline, or score other estimators with a plain scikit-learn scorer."
        )
    check_is_fitted(final)
    return final


class TractabilityScorer:
    """Score a fitted network on accuracy and on the effort of solving its MILP.

    Build instances with :func:`make_tractability_scorer` (the blend alone) or
    :func:`tractability_scoring` (a dict of all components for multi-metric
    search). The object has the scikit-learn scorer signature
    ``scorer(estimator, X, y)``, is picklable, and greater values are better.

    For one cross-validation fold the scorer computes:

    * ``accuracy``: the accuracy scorer on the fold, for example R^2.
    * the solve effort ``E``: the estimator solves its own MILP over its
      ``input_bounds_`` with :meth:`TractableMLPRegressor.optimize`. The
      effort is the HiGHS run time in seconds (``effort="time"``, median of
      ``n_repeats`` solves), the branch-and-bound node count
      (``effort="n_nodes"``) or the total simplex iteration count
      (``effort="simplex_iterations"``). The counts do not depend on machine
      load. A search scored by them gives the same scores on every run,
      serially or in parallel workers, as long as training gives the same
      weights (see :func:`limit_threads`) and no solve stops at the time limit.
    * the blend::

          blend = accuracy - effort_weight * log10(1 + E / effort_scale)

      The log makes the cost scale-aware: once ``E`` is well above
      ``effort_scale``, every tenfold increase in effort costs
      ``effort_weight`` in the units of the accuracy score, whatever the
      absolute size of the problem, while efforts well below
      ``effort_scale`` cost almost nothing.

    A solve that ends with any status other than ``"optimal"`` (a time or
    node limit, no solution found, a solver error) is charged the effort
    ``limit_penalty * max(E_measured, effort_scale)``. The factor ranks an
    unfinished solve below any finished solve of similar measured effort,
    and the floor ``effort_scale`` charges a solve that stopped before doing
    any work. In time mode a stop at the time limit is therefore charged
    about ``limit_penalty * time_limit`` seconds. In the count modes the
    count reached before a *time* limit depends on machine speed, so set
    ``node_limit``: a solve stopped by the node limit is charged a count that
    is the same on every machine.

    When the estimator is a :class:`~sklearn.pipeline.Pipeline`, the accuracy
    is scored on the whole pipeline and the MILP is that of its last step.
    If earlier steps transform X, the MILP box is in the transformed space
    (the box of the inputs the last step saw in ``fit``), not in the units
    of the raw X.

    Parameters
    ----------
    accuracy : str or callable, default="r2"
        A scikit-learn scorer name (see ``sklearn.metrics.get_scorer_names()``)
        or a callable ``scorer(estimator, X, y)`` where greater is better.
        R^2 is the default because it has no units, so one ``effort_weight``
        means the same on problems whose targets have different scales. With
        ``"neg_mean_squared_error"`` the weight is in squared target units.
        A callable must be picklable (a module-level function or a
        ``make_scorer`` object, not a lambda) for parallel search.
    effort : {"simplex_iterations", "n_nodes", "time"}, default="simplex_iterations"
        How solve effort is measured. The two counts are reproducible;
        ``"time"`` depends on the machine and its load.
    effort_weight : float, default=0.1
        Accuracy given up per tenfold increase in effort. 0 makes the blend
        equal to the accuracy.
    effort_scale : float or "auto", default="auto"
        Effort below which a solve counts as nearly free, in the unit of
        ``effort``. "auto" is 0.1 seconds for time, 10 nodes, and 1000
        simplex iterations.
    sense : {"min", "max"}, default="min"
        Whether the MILP minimizes or maximizes the output.
    output_weights : None, int or array-like of shape (n_outputs,), default=None
        Objective of the MILP, as in :meth:`TractableMLPRegressor.optimize`;
        None selects the only output of a single-output network.
    n_repeats : int, default=3
        Solves per fold in time mode; their median effort is used. The count
        modes solve once.
    time_limit : float or None, default=60.0
        Time limit of each solve in seconds; None means no limit.
    node_limit : int or None, default=None
        Branch-and-bound node limit of each solve (HiGHS ``mip_max_nodes``).
    limit_penalty : float, default=10.0
        Factor, at least 1, applied to the effort of a solve that did not end
        as ``"optimal"``.
    mip_gap : float, default=1e-4
        Relative optimality gap at which the solver stops.
    solver : str, default="highs"
        Solver name as in :meth:`TractableMLPRegressor.optimize`. The count
        modes and ``node_limit`` need "highs", the only solver for which
        node and iteration counts are reported.
    solver_options : dict or None, default=None
        Extra solver options, added to ``{"threads": 1}`` for HiGHS (a key
        ``"threads"`` here overrides it). One solver thread per scorer keeps
        parallel search workers from competing for cores.
    component : str, default="blend"
        One of :data:`COMPONENTS`: "blend", "accuracy", "neg_solve_effort",
        "neg_n_unstable" or "solved". It selects the value ``__call__``
        returns: the blend, the accuracy, minus the effort ``E``, minus the
        number of neurons unstable under interval bounds (``n_unstable_``,
        the count the penalties lower; with ``bounds="lp"`` the MILP may
        carry fewer binaries), or 1.0 when every solve of the fold ended as
        ``"optimal"`` and 0.0 otherwise.
    bounds : {"lp", "interval"}, default="lp"
        Big-M bounds of the MILP, as in :meth:`TractableMLPRegressor.optimize`.
        In time mode the effort includes the seconds spent tightening them;
        the count modes count the MILP solve only.

    Notes
    -----
    The effort of one fitted network is cached per process (the last
    ``CACHE_SIZE`` networks), keyed by its weights, box, warm-start inputs
    and the solve settings. The keys of one :func:`tractability_scoring`
    dict therefore share one solve per fold, and in time mode they see the
    same measured time; scoring the same fitted network again reuses that
    measurement until :func:`clear_effort_cache` is called.
    """

    def __init__(
        self,
        accuracy="r2",
        effort="simplex_iterations",
        effort_weight=0.1,
        effort_scale="auto",
        sense="min",
        output_weights=None,
        n_repeats=3,
        time_limit=60.0,
        node_limit=None,
        limit_penalty=10.0,
        mip_gap=1e-4,
        solver="highs",
        solver_options=None,
        component="blend",
        bounds="lp",
    ):
        _resolve_accuracy(accuracy)
        if effort not in EFFORT_MODES:
            raise ValueError(
                f"effort must be one of {list(EFFORT_MODES)}; got {effort!r}. Use a count "
                f"('simplex_iterations' or 'n_nodes') for reproducible scores."
            )
        effort_weight = _check_real(
            effort_weight, "effort_weight", 0.0, True,
            "It is the accuracy given up per tenfold increase in effort.",
        )
        if isinstance(effort_scale, str) and effort_scale == "auto":
            resolved_scale = DEFAULT_EFFORT_SCALES[effort]
        else:
            resolved_scale = _check_real(
                effort_scale, "effort_scale", 0.0, False,
                f"Give the effort below which a solve is nearly free, in the unit of "
                f"effort={effort!r}, or 'auto'.",
            )
        check_sense(sense)
        if isinstance(n_repeats, bool) or not isinstance(n_repeats, numbers.Integral) \
                or n_repeats < 1:
            raise ValueError(f"n_repeats must be an int >= 1; got {n_repeats!r}.")
        time_limit = check_positive_number(time_limit, "time_limit")
        if node_limit is not None and (
            isinstance(node_limit, bool)
            or not isinstance(node_limit, numbers.Integral)
            or node_limit < 1
        ):
            raise ValueError(f"node_limit must be an int >= 1 or None; got {node_limit!r}.")
        limit_penalty = _check_real(
            limit_penalty, "limit_penalty", 1.0, True,
            "It multiplies the effort of a solve that stopped at a limit.",
        )
        if isinstance(mip_gap, bool) or not isinstance(mip_gap, numbers.Real) \
                or not 0 <= mip_gap < 1:
            raise ValueError(f"mip_gap must be a number in [0, 1); got {mip_gap!r}.")
        if not isinstance(solver, str):
            raise ValueError(f"solver must be a solver name such as 'highs'; got {solver!r}.")
        if solver != "highs" and effort != "time":
            raise ValueError(
                f"effort={effort!r} needs solver='highs', the only solver whose node and "
                f"iteration counts are reported; got solver={solver!r}. Use effort='time' "
                f"with other solvers."
            )
        if solver != "highs" and node_limit is not None:
            raise ValueError(
                f"node_limit needs solver='highs'; got solver={solver!r}. Set the node limit "
                f"of {solver!r} through solver_options instead."
            )
        if solver_options is not None and not isinstance(solver_options, dict):
            raise ValueError(
                f"solver_options must be a dict of solver option names to values or None; "
                f"got {solver_options!r}."
            )
        if component not in COMPONENTS:
            raise ValueError(f"component must be one of {list(COMPONENTS)}; got {component!r}.")
        check_bounds_method(bounds)

        self.accuracy = accuracy
        self.effort = effort
        self.effort_weight = effort_weight
        self.effort_scale = resolved_scale
        self.sense = sense
        self.output_weights = output_weights
        self.n_repeats = int(n_repeats)
        self.time_limit = time_limit
        self.node_limit = None if node_limit is None else int(node_limit)
        self.limit_penalty = limit_penalty
        self.mip_gap = float(mip_gap)
        self.solver = solver
        self.solver_options = None if solver_options is None else dict(solver_options)
        self.component = component
        self.bounds = bounds

    # ---------------------------------------------------------------- public

    def __call__(self, estimator, X, y, sample_weight=None):
        """Return the selected component for a fitted estimator on the fold ``(X, y)``.

        Parameters
        ----------
        estimator : TractableMLPRegressor or Pipeline ending in one
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional
            Passed to the accuracy scorer. The MILP does not use it.

        Returns
        -------
        float
        """
        if self.component == "accuracy":
            _network_estimator(estimator)
            return self._accuracy(estimator, X, y, sample_weight)
        if self.component == "neg_n_unstable":
            return -float(_network_estimator(estimator).n_unstable_)
        return self.measure(estimator, X, y, sample_weight)[self.component]

    def measure(self, estimator, X, y, sample_weight=None):
        """Compute every component for a fitted estimator on the fold ``(X, y)``.

        Returns
        -------
        dict
            The keys of :data:`COMPONENTS`, plus ``"effort"`` (the effort
            ``E`` used in the blend, penalties included) and ``"statuses"``
            (the status of each solve).
        """
        network_estimator = _network_estimator(estimator)
        accuracy = self._accuracy(estimator, X, y, sample_weight)
        outcomes = self._solve_outcomes(network_estimator)
        effort = float(np.median([self._charged_effort(status, raw) for status, raw in outcomes]))
        statuses = [status for status, _ in outcomes]
        return {
            "blend": float(self.blend_score(accuracy, effort)),
            "accuracy": accuracy,
            "neg_solve_effort": -effort,
            "neg_n_unstable": -float(network_estimator.n_unstable_),
            "solved": float(all(status == status_codes.OPTIMAL for status in statuses)),
            "effort": effort,
            "statuses": statuses,
        }

    def blend_score(self, accuracy, effort):
        """Return ``accuracy - effort_weight * log10(1 + effort / effort_scale)``.

        Parameters
        ----------
        accuracy : float or array-like
            Accuracy score, greater is better.
        effort : float or array-like
            Non-negative solve effort in the unit of ``self.effort``.

        Returns
        -------
        float or ndarray
        """
        accuracy = np.asarray(accuracy, dtype=float)
        effort = np.asarray(effort, dtype=float)
        if np.any(effort < 0) or np.any(np.isnan(effort)):
            raise ValueError(f"effort must be non-negative; got {effort!r}.")
        blend = accuracy - self.effort_weight * np.log10(1.0 + effort / self.effort_scale)
        return float(blend) if blend.ndim == 0 else blend

    def get_params(self):
        """Return the constructor arguments as a dict (with ``effort_scale`` resolved)."""
        return {name: getattr(self, name) for name in signature(type(self)).parameters}

    def with_component(self, component):
        """Return a copy of this scorer that returns ``component``."""
        return type(self)(**{**self.get_params(), "component": component})

    def __repr__(self):
        arguments = ", ".join(f"{name}={value!r}" for name, value in self.get_params().items())
        return f"{type(self).__name__}({arguments})"

    def _accept_sample_weight(self):
        # scikit-learn >= 1.6 calls this on every scorer of a multi-metric dict
        # when fit receives sample_weight and metadata routing is off.
        accuracy = _resolve_accuracy(self.accuracy)
        if hasattr(accuracy, "_accept_sample_weight"):
            return accuracy._accept_sample_weight()
        return "sample_weight" in signature(accuracy).parameters

    # --------------------------------------------------------------- helpers

    def _accuracy(self, estimator, X, y, sample_weight):
        scorer = _resolve_accuracy(self.accuracy)
        if sample_weight is None:
            return float(scorer(estimator, X, y))
        return float(scorer(estimator, X, y, sample_weight=sample_weight))

    def _solve_options(self):
        options = {"threads": 1} if self.solver == "highs" else {}
        if self.node_limit is not None:
            options["mip_max_nodes"] = self.node_limit
        options.update(self.solver_options or {})
        return options

    def _solve_settings(self):
        output_weights = self.output_weights
        if output_weights is not None and not isinstance(output_weights, numbers.Integral):
            output_weights = np.asarray(output_weights, dtype=float).tolist()
        return (
            self.effort,
            self.n_repeats if self.effort == "time" else 1,
            self.sense,
            output_weights,
            self.time_limit,
            self.mip_gap,
            self.solver,
            sorted(self._solve_options().items()),
            self.bounds,
        )

    def _solve_outcomes(self, network_estimator):
        """Return ``[(status, measured effort), ...]`` for the solves of one network, cached."""
        network = network_estimator.network_
        key = joblib.hash(
            (
                self._solve_settings(),
                network.weights,
                network.biases,
                network_estimator.input_bounds_,
                getattr(network_estimator, "candidate_inputs_", None),
            )
        )
        with _cache_lock:
            if key in _measurement_cache:
                _measurement_cache.move_to_end(key)
                return _measurement_cache[key]

        n_solves = self.n_repeats if self.effort == "time" else 1
        outcomes = []
        for _ in range(n_solves):
            result = network_estimator.optimize(
                sense=self.sense,
                time_limit=self.time_limit,
                mip_gap=self.mip_gap,
                solver=self.solver,
                output_weights=self.output_weights,
                solver_options=self._solve_options(),
                bounds=self.bounds,
            )
            outcomes.append((result.status, self._measured_effort(result)))

        with _cache_lock:
            _measurement_cache[key] = outcomes
            while len(_measurement_cache) > CACHE_SIZE:
                _measurement_cache.popitem(last=False)
        return outcomes

    def _measured_effort(self, result):
        if self.effort == "time":
            return float(result.solve_time + result.bound_time)
        value = result.n_nodes if self.effort == "n_nodes" else result.simplex_iterations
        # A solve that failed before HiGHS reported counts has done no measurable work.
        return 0.0 if value is None else float(value)

    def _charged_effort(self, status, measured):
        if status == status_codes.OPTIMAL:
            return measured
        return self.limit_penalty * max(measured, self.effort_scale)


def clear_effort_cache():
    """Forget the cached effort measurements of this process, so the next scoring solves again."""
    with _cache_lock:
        _measurement_cache.clear()


def make_tractability_scorer(
    accuracy="r2",
    effort="simplex_iterations",
    effort_weight=0.1,
    effort_scale="auto",
    sense="min",
    output_weights=None,
    n_repeats=3,
    time_limit=60.0,
    node_limit=None,
    limit_penalty=10.0,
    mip_gap=1e-4,
    solver="highs",
    solver_options=None,
    bounds="lp",
):
    """Make a scorer that blends accuracy with the effort of solving the network's MILP.

    The returned :class:`TractabilityScorer` returns
    ``accuracy - effort_weight * log10(1 + E / effort_scale)``, where ``E``
    is the effort of solving the fitted estimator's own MILP; see
    :class:`TractabilityScorer` for the parameters, the effort modes and the
    penalty for solves that stop at a limit. Greater is better, so it can be
    passed as ``scoring=`` to ``GridSearchCV`` or ``cross_val_score``.

    Returns
    -------
    TractabilityScorer

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sk_relaxreg import TractableMLPRegressor
    >>> from sk_relaxreg.scoring import make_tractability_scorer
    >>> scorer = make_tractability_scorer(effort="simplex_iterations", effort_weight=0.05)
    >>> search = GridSearchCV(
    ...     TractableMLPRegressor(hidden_layer_sizes=(16,), max_epochs=50, random_state=0),
    ...     {"bound_width": [0.0, 1e-3, 1e-2]},
    ...     scoring=scorer,
    ... )
    """
    return TractabilityScorer(
        accuracy=accuracy,
        effort=effort,
        effort_weight=effort_weight,
        effort_scale=effort_scale,
        sense=sense,
        output_weights=output_weights,
        n_repeats=n_repeats,
        time_limit=time_limit,
        node_limit=node_limit,
        limit_penalty=limit_penalty,
        mip_gap=mip_gap,
        solver=solver,
        solver_options=solver_options,
        component="blend",
        bounds=bounds,
    )


def tractability_scoring(**scorer_params):
    """Return a multi-metric ``scoring`` dict with the blend and its parts as separate keys.

    Use it as ``GridSearchCV(..., scoring=tractability_scoring(...),
    refit="blend")``. The keys, each a :class:`TractabilityScorer` with the
    same settings, are:

    * ``"blend"``: the value of :func:`make_tractability_scorer`;
    * ``"accuracy"``: the accuracy score alone;
    * ``"neg_solve_effort"``: minus the solve effort, penalties included;
    * ``"neg_n_unstable"``: minus the number of neurons unstable under interval
      bounds over the box (``n_unstable_``);
    * ``"solved"``: 1.0 when the fold's solves ended as ``"optimal"``, else
      0.0, so ``mean_test_solved`` is the share of folds solved to optimality.

    All keys follow the scikit-learn rule that greater is better, hence the
    ``neg_`` prefixes. The keys share one solve per fold (see the notes of
    :class:`TractabilityScorer`). Other scorers can be added to the dict, for
    example ``{**tractability_scoring(), "mae": "neg_mean_absolute_error"}``.

    Parameters
    ----------
    **scorer_params
        Arguments of :func:`make_tractability_scorer`.

    Returns
    -------
    dict of str to TractabilityScorer
    """
    blend = make_tractability_scorer(**scorer_params)
    return {component: blend.with_component(component) for component in COMPONENTS}


@contextmanager
def limit_threads(n_threads=1):
    """Limit torch, BLAS and OpenMP to ``n_threads`` threads inside a ``with`` block.

    Parallel search workers already run with one thread each: joblib's loky
    back end under ``parallel_config(inner_max_num_threads=1)``, and Dask
    workers started by a nanny, which sets ``OMP_NUM_THREADS=1``. Run a
    serial reference search inside this block to get the same thread counts
    in this process. ``TractableMLPRegressor(n_threads=1)``, the default,
    already trains on one torch thread; the block also covers estimators
    with ``n_threads=None`` and numpy's BLAS calls. This matters because
    float sums can differ in the last bits between thread counts, and so can
    the trained weights and the solve counts. The previous torch thread count and
    thread-pool limits are restored on exit. The limit applies to the whole
    process, not only to the calling thread.

    Parameters
    ----------
    n_threads : int, default=1
    """
    if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral) or n_threads < 1:
        raise ValueError(f"n_threads must be an int >= 1; got {n_threads!r}.")
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        with threadpool_limits(limits=int(n_threads)):
            yield
    finally:
        torch.set_num_threads(previous)
