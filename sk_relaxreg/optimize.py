"""Solve the MILP of a network over a box and check the solution against the forward pass."""

import logging
import time
import warnings

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.opt import TerminationCondition

from . import result as status_codes
from .exceptions import SolutionMismatchWarning, SolverNotAvailableError
from .highs_milp import build_milp_arrays, implied_solution, make_highs
from .incumbent import best_candidate
from .milp import model_size, to_pyomo_model
from .result import OptimizationResult
from .tightening import lp_tightened_bounds

#: Solver names handled in-process by highspy without Pyomo.
HIGHS_NAMES = ("highs",)

#: Pyomo solver names per user-facing name, with the option names for time limit and gap.
PYOMO_SOLVERS = {
    "appsi_highs": ("appsi_highs", "time_limit", "mip_rel_gap"),
    "gurobi": ("gurobi_direct", "TimeLimit", "MIPGap"),
    "gurobi_direct": ("gurobi_direct", "TimeLimit", "MIPGap"),
    "gurobi_persistent": ("gurobi_persistent", "TimeLimit", "MIPGap"),
    "cbc": ("cbc", "seconds", "ratioGap"),
    "scip": ("scip", "limits/time", "limits/gap"),
    "glpk": ("glpk", "tmlim", "mipgap"),
    "cplex": ("cplex", "timelimit", "mipgap"),
}

#: HiGHS options used when a starting solution is handed over; ``solver_options`` override them.
#: On the 2-25x5-1 benchmark nets, which start from the best forward pass, the RINS and RENS
#: sub-MIP heuristics took most of the solve time (docs/benchmarks.md, "Tightened bounds and
#: HiGHS options").
HIGHS_OPTIONS_WITH_START = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}

#: Share of ``time_limit`` that bound tightening may use; the MILP gets the rest.
TIGHTENING_SHARE = 0.5

#: Relative tolerance for the check ``objective == predicted``, scaled by max(1, |predicted|).
PREDICTION_TOLERANCE = 1e-5


def optimize_network(
    network,
    input_bounds,
    layer_bounds,
    output_weights,
    sense="min",
    time_limit=None,
    mip_gap=1e-4,
    solver="highs",
    output_bounds=None,
    warm_start=True,
    candidates=None,
    n_random_starts=1000,
    solver_options=None,
    random_state=0,
    verbose=False,
    bounds="interval",
):
    """Solve ``min/max sum_k w_k y_k`` over the network's MILP on ``input_bounds``.

    See :meth:`sk_relaxreg.TractableMLPRegressor.optimize` for the parameters.
    With ``bounds="lp"``, ``layer_bounds`` are replaced by the LP-tightened
    bounds of :func:`sk_relaxreg.tightening.lp_tightened_bounds`, computed in
    at most ``TIGHTENING_SHARE * time_limit`` seconds, and the MILP gets the
    rest of ``time_limit``. Returns an :class:`OptimizationResult`, whose
    ``status`` reports solver limits and infeasibility instead of raising them.
    """
    start = time.perf_counter()
    bound_time = 0.0
    if bounds == "lp":
        share = None if time_limit is None else TIGHTENING_SHARE * time_limit
        layer_bounds, info = lp_tightened_bounds(network, input_bounds, time_limit=share)
        bound_time = info["time"]
        if time_limit is not None:
            time_limit = max(time_limit - bound_time, 0.0)

    incumbent_x, incumbent_objective = (None, None)
    if warm_start:
        incumbent_x, incumbent_objective = best_candidate(
            network,
            input_bounds,
            output_weights,
            sense=sense,
            candidates=candidates,
            n_random=n_random_starts,
            output_bounds=output_bounds,
            random_state=random_state,
        )

    if solver in HIGHS_NAMES:
        result = _solve_with_highs(
            network, input_bounds, layer_bounds, output_weights, sense, time_limit,
            mip_gap, output_bounds, incumbent_x, solver_options, verbose,
        )
    else:
        result = _solve_with_pyomo(
            solver, network, input_bounds, layer_bounds, output_weights, sense, time_limit,
            mip_gap, output_bounds, incumbent_x, solver_options, verbose,
        )

    result.sense = sense
    result.bounds = bounds
    result.bound_time = bound_time
    result.incumbent_objective = incumbent_objective
    _check_against_forward_pass(result, network, input_bounds, output_weights)
    result.wall_time = time.perf_counter() - start
    return result


def _solve_with_highs(
    network, input_bounds, layer_bounds, output_weights, sense, time_limit, mip_gap,
    output_bounds, incumbent_x, solver_options, verbose,
):
    arrays = build_milp_arrays(network, input_bounds, layer_bounds, output_weights, output_bounds)
    options = {"mip_rel_gap": float(mip_gap)}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    if incumbent_x is not None and arrays.n_binaries:
        options.update(HIGHS_OPTIONS_WITH_START)
    options.update(solver_options or {})
    highs = make_highs(arrays, sense=sense, verbose=verbose, options=options)

    if incumbent_x is not None:
        start_values = implied_solution(arrays, network, incumbent_x)
        # setSolution takes the number of entries first. With 0, HiGHS would get an empty
        # partial start and solve the whole MILP once to complete it before the real solve.
        highs.setSolution(arrays.n_cols, np.arange(arrays.n_cols, dtype=np.int32), start_values)

    run_status = highs.run()
    model_status = highs.getModelStatus()
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible

    result = OptimizationResult(
        solver="highs",
        n_binaries=arrays.n_binaries,
        n_variables=arrays.n_cols,
        n_constraints=arrays.n_rows,
        solve_time=highs.getRunTime(),
        message=highs.modelStatusToString(model_status),
    )
    result.status = _highs_status(run_status, model_status, has_solution)
    if arrays.n_binaries:
        result.n_nodes = int(info.mip_node_count)
    else:
        result.n_nodes = 0
    result.simplex_iterations = int(info.simplex_iteration_count)

    if has_solution and result.status != status_codes.INFEASIBLE:
        values = np.asarray(highs.getSolution().col_value)
        result.x = values[arrays.x_cols]
        result.objective = float(info.objective_function_value)
        if arrays.n_binaries:
            result.dual_bound = float(info.mip_dual_bound)
            result.mip_gap = float(info.mip_gap)
        else:
            result.dual_bound = result.objective
            result.mip_gap = 0.0
    return result


def _highs_status(run_status, model_status, has_solution):
    statuses = highspy.HighsModelStatus
    if model_status == statuses.kOptimal:
        return status_codes.OPTIMAL
    if model_status in (statuses.kInfeasible, statuses.kUnboundedOrInfeasible):
        return status_codes.INFEASIBLE
    limits = (
        statuses.kTimeLimit,
        statuses.kIterationLimit,
        statuses.kSolutionLimit,
        statuses.kInterrupt,
        statuses.kHighsInterrupt,
        statuses.kMemoryLimit,
        statuses.kObjectiveBound,
        statuses.kObjectiveTarget,
    )
    if model_status in limits:
        return status_codes.TIME_LIMIT if has_solution else status_codes.TIME_LIMIT_NO_SOLUTION
    return status_codes.ERROR


def get_pyomo_solver(solver):
    """Return an available Pyomo solver object for a user-facing solver name.

    Raises
    ------
    SolverNotAvailableError
        If the name is unknown to Pyomo or the solver is not installed.
    """
    if not isinstance(solver, str):
        raise SolverNotAvailableError(
            f"solver must be a solver name such as 'highs', 'gurobi', 'cbc' or 'scip'; got "
            f"{solver!r}."
        )
    pyomo_name = PYOMO_SOLVERS.get(solver, (solver, None, None))[0]
    if solver == "gurobi":
        try:
            import gurobipy  # noqa: F401
        except ImportError as exc:
            raise SolverNotAvailableError(
                "solver='gurobi' needs gurobipy and a Gurobi licence: pip install gurobipy, "
                "or use the default solver='highs'."
            ) from exc
    # Pyomo logs a warning with a traceback for unknown names before returning a
    # placeholder, while the error raised below reports the same in one line.
    pyomo_logger = logging.getLogger("pyomo.opt")
    previous_level = pyomo_logger.level
    pyomo_logger.setLevel(logging.ERROR)
    try:
        opt = pyo.SolverFactory(pyomo_name)
    except Exception as exc:  # Pyomo raises several types for unknown plugins
        raise SolverNotAvailableError(f"Pyomo does not know the solver {solver!r}: {exc}") from exc
    finally:
        pyomo_logger.setLevel(previous_level)
    available = False
    if opt is not None and type(opt).__name__ != "UnknownSolver":
        try:
            available = bool(opt.available(exception_flag=False))
        except Exception:  # an installed but broken solver is reported as unavailable
            available = False
    if not available:
        known = ", ".join(sorted(set(HIGHS_NAMES) | set(PYOMO_SOLVERS)))
        hint = ""
        if solver.lower() != solver and solver.lower() in set(HIGHS_NAMES) | set(PYOMO_SOLVERS):
            hint = f" Did you mean {solver.lower()!r}?"
        raise SolverNotAvailableError(
            f"Solver {solver!r} is not available: Pyomo cannot find or run it. Install it "
            f"(its executable on PATH, or its Python package), or use the default "
            f"solver='highs'. Names this package configures: {known}.{hint}"
        )
    return opt


def _solve_with_pyomo(
    solver, network, input_bounds, layer_bounds, output_weights, sense, time_limit, mip_gap,
    output_bounds, incumbent_x, solver_options, verbose,
):
    opt = get_pyomo_solver(solver)
    _, time_option, gap_option = PYOMO_SOLVERS.get(solver, (solver, None, None))
    model = to_pyomo_model(network, input_bounds, layer_bounds)
    objective = sum(float(w) * model.y[k] for k, w in enumerate(output_weights) if w != 0)
    model.objective = pyo.Objective(expr=objective, sense=pyo.minimize if sense == "min" else pyo.maximize)
    if output_bounds is not None:
        model.output_limits = pyo.Constraint(
            range(len(output_bounds)), rule=lambda m, k: _output_limit(m.y[k], output_bounds[k])
        )
    size = model_size(model)

    if time_limit is not None and time_option is not None:
        opt.options[time_option] = float(time_limit)
    if gap_option is not None:
        opt.options[gap_option] = float(mip_gap)
    for name, value in (solver_options or {}).items():
        opt.options[name] = value

    solve_kwargs = {"tee": bool(verbose), "load_solutions": False}
    if incumbent_x is not None and getattr(opt, "warm_start_capable", lambda: False)():
        _set_pyomo_start(model, network, incumbent_x)
        solve_kwargs["warmstart"] = True

    start = time.perf_counter()
    try:
        results = opt.solve(model, **solve_kwargs)
    except Exception as exc:  # solver crashes become an "error" result, not an exception
        return OptimizationResult(solver=solver, status=status_codes.ERROR, message=str(exc), **size)
    elapsed = time.perf_counter() - start

    termination = results.solver.termination_condition
    has_solution = len(results.solution) > 0 if hasattr(results, "solution") else False
    if has_solution:
        model.solutions.load_from(results)
        has_solution = model.x[0].value is not None

    result = OptimizationResult(solver=solver, message=str(termination), **size)
    result.solve_time = _reported_time(results, elapsed)
    if termination == TerminationCondition.optimal:
        result.status = status_codes.OPTIMAL
    elif termination in (TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
        result.status = status_codes.INFEASIBLE
    elif termination in (
        TerminationCondition.maxTimeLimit,
        TerminationCondition.maxIterations,
        TerminationCondition.maxEvaluations,
        TerminationCondition.userInterrupt,
        TerminationCondition.resourceInterrupt,
    ):
        result.status = status_codes.TIME_LIMIT if has_solution else status_codes.TIME_LIMIT_NO_SOLUTION
    else:
        result.status = status_codes.ERROR

    if has_solution and result.status in (status_codes.OPTIMAL, status_codes.TIME_LIMIT):
        result.x = np.array([pyo.value(model.x[i]) for i in model.inputs])
        result.objective = float(pyo.value(model.objective))
        bound = results.problem.lower_bound if sense == "min" else results.problem.upper_bound
        if bound is not None and np.isfinite(float(bound)):
            result.dual_bound = float(bound)
            denominator = max(abs(result.objective), 1e-10)
            result.mip_gap = abs(result.objective - result.dual_bound) / denominator
    return result


def _output_limit(y, bounds):
    """Return the row ``lower <= y <= upper`` with infinite sides dropped, or Skip if both are."""
    lower = None if np.isinf(bounds[0]) else float(bounds[0])
    upper = None if np.isinf(bounds[1]) else float(bounds[1])
    if lower is None and upper is None:
        return pyo.Constraint.Skip
    return pyo.inequality(lower, y, upper)


def _set_pyomo_start(model, network, x):
    _, preactivations = network.forward(x[None, :], return_preactivations=True)
    for i in model.inputs:
        model.x[i].set_value(float(x[i]), skip_validation=True)
    for (l, j) in model.neurons:
        z = float(preactivations[l][0, j])
        model.z[l, j].set_value(z, skip_validation=True)
        model.h[l, j].set_value(max(z, 0.0), skip_validation=True)
        if (l, j) in model.unstable_neurons:
            model.delta[l, j].set_value(1.0 if z > 0 else 0.0, skip_validation=True)
    y = network.forward(x[None, :])[0]
    for k in model.outputs:
        model.y[k].set_value(float(y[k]), skip_validation=True)


def _reported_time(results, elapsed):
    reported = getattr(results.solver, "wall_time", None) or getattr(results.solver, "time", None)
    try:
        reported = float(reported)
    except (TypeError, ValueError):
        return elapsed
    return reported if np.isfinite(reported) else elapsed


def _check_against_forward_pass(result, network, input_bounds, output_weights):
    """Fill ``predicted`` from the forward pass at ``x`` and warn if it disagrees with the MILP."""
    if result.x is None:
        return
    # Solvers may return inputs a feasibility tolerance outside the box.
    result.x = np.clip(result.x, input_bounds[:, 0], input_bounds[:, 1])
    outputs = network.forward(result.x[None, :])[0]
    result.predicted_outputs = outputs
    result.predicted = float(outputs @ output_weights)
    tolerance = PREDICTION_TOLERANCE * max(1.0, abs(result.predicted))
    if abs(result.objective - result.predicted) > tolerance:
        warnings.warn(
            f"The MILP objective {result.objective!r} differs from the network's prediction "
            f"{result.predicted!r} at the returned x by more than {tolerance:.3g}; trust "
            f"result.predicted. Tighter input bounds or a smaller HiGHS "
            f"mip_feasibility_tolerance (solver_options) usually close the gap.",
            SolutionMismatchWarning,
            stacklevel=3,
        )
