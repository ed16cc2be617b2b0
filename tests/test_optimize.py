"""Global optimization of a fitted network: optimality, solvers, sub-boxes, limits and statuses."""

import warnings

import numpy as np
import pytest

from conftest import FAST_TRAINING, grid_points
from sk_relaxreg import ExtrapolationWarning, SolutionMismatchWarning, TractableMLPRegressor
from sk_relaxreg.datasets import make_ackley
from sk_relaxreg.network import ReluNetwork
from sk_relaxreg.optimize import _check_against_forward_pass
from sk_relaxreg.result import STATUSES, OptimizationResult

pytestmark = pytest.mark.filterwarnings("error::sk_relaxreg.SolutionMismatchWarning")

#: Statuses a time-limited solve may end with; "error" and "infeasible" are not among them.
LIMITED_STATUSES = ("optimal", "time_limit", "time_limit_no_solution")


@pytest.fixture(scope="module")
def peaks_grid(peaks_model):
    """The 401 x 401 grid over the model's box and the network's value at each point."""
    points = grid_points(peaks_model.input_bounds_)
    return points, peaks_model.predict(points)


@pytest.fixture(scope="module")
def default_optima(peaks_model):
    """Results of optimize() with default settings, keyed by sense; tests must not modify them."""
    return {sense: peaks_model.optimize(sense=sense) for sense in ("min", "max")}


@pytest.fixture(scope="module")
def harder_model():
    """A 2-16-16-16-1 network on Ackley's function, whose MILP takes many nodes."""
    X, y = make_ackley(n_samples=300, random_state=0)
    return TractableMLPRegressor(hidden_layer_sizes=(16, 16, 16), **FAST_TRAINING).fit(X, y)


def gap_tolerance(objective):
    """Slack for comparing an optimum with mip_gap=1e-4 against other values."""
    return 1e-4 * max(1.0, abs(objective)) + 1e-6


def assert_matches_forward_pass(estimator, result):
    assert result.x is not None
    forward = estimator.network_.forward(result.x[None, :])[0]
    np.testing.assert_allclose(result.predicted_outputs, forward, rtol=1e-12)
    assert result.objective == pytest.approx(result.predicted, rel=1e-6, abs=1e-6)
    assert np.all(result.x >= estimator.input_bounds_[:, 0])
    assert np.all(result.x <= estimator.input_bounds_[:, 1])


@pytest.mark.parametrize("solver", ["highs", "appsi_highs"])
def test_minimum_below_every_grid_point(peaks_model, peaks_grid, default_optima, solver):
    _, grid_values = peaks_grid

    if solver == "highs":
        result = default_optima["min"]
    else:
        result = peaks_model.optimize(solver=solver)

    assert result.status == "optimal"
    assert result.solver == solver
    assert result.sense == "min"
    assert_matches_forward_pass(peaks_model, result)
    assert result.objective <= grid_values.min() + gap_tolerance(result.objective)
    # The proven lower bound may not exceed any value the network takes.
    assert result.dual_bound <= grid_values.min() + 1e-6
    # LP-tightened bounds (the default) never need more binaries than interval bounds.
    assert result.bounds == "lp"
    assert result.n_binaries <= peaks_model.n_unstable_


@pytest.mark.parametrize("solver", ["highs", "appsi_highs"])
def test_maximum_above_every_grid_point(peaks_model, peaks_grid, default_optima, solver):
    _, grid_values = peaks_grid

    if solver == "highs":
        result = default_optima["max"]
    else:
        result = peaks_model.optimize(sense="max", solver=solver)

    assert result.status == "optimal"
    assert result.sense == "max"
    assert_matches_forward_pass(peaks_model, result)
    assert result.objective >= grid_values.max() - gap_tolerance(result.objective)
    assert result.dual_bound >= grid_values.max() - 1e-6


@pytest.mark.parametrize("sense", ["min", "max"])
def test_pyomo_and_highs_agree(peaks_model, default_optima, sense):
    direct = default_optima[sense]
    through_pyomo = peaks_model.optimize(sense=sense, solver="appsi_highs")

    assert direct.status == through_pyomo.status == "optimal"
    assert through_pyomo.objective == pytest.approx(
        direct.objective, abs=2 * gap_tolerance(direct.objective)
    )
    assert through_pyomo.n_binaries == direct.n_binaries


def test_without_warm_start_same_optimum(peaks_model, default_optima):
    warm = default_optima["min"]
    cold = peaks_model.optimize(warm_start=False)

    assert cold.status == "optimal"
    assert cold.incumbent_objective is None
    assert warm.incumbent_objective is not None
    # The warm start is a feasible point, so it cannot beat the optimum.
    assert warm.incumbent_objective >= warm.objective - 1e-9
    assert_matches_forward_pass(peaks_model, cold)
    assert cold.objective == pytest.approx(warm.objective, abs=2 * gap_tolerance(warm.objective))


def test_sub_box_restricts_x(peaks_model, default_optima):
    sub_box = np.array([[0.0, 1.0], [-1.0, 0.5]])
    full = default_optima["min"]

    result = peaks_model.optimize(input_bounds=sub_box)

    assert result.status == "optimal"
    assert np.all(result.x >= sub_box[:, 0])
    assert np.all(result.x <= sub_box[:, 1])
    assert result.objective == pytest.approx(result.predicted, rel=1e-6, abs=1e-6)
    assert result.objective >= full.objective - gap_tolerance(full.objective)
    sub_grid_values = peaks_model.predict(grid_points(sub_box, 201))
    assert result.objective <= sub_grid_values.min() + gap_tolerance(result.objective)
    # A smaller box gives tighter interval bounds, so no more binaries.
    assert result.n_binaries <= peaks_model.n_unstable_


@pytest.mark.parametrize("solver", ["highs", "appsi_highs"])
def test_output_bounds_respected(peaks_model, peaks_grid, solver):
    _, grid_values = peaks_grid
    # Ask for the smallest output above a level that the unconstrained minimum violates.
    level = grid_values.min() + 0.3 * (grid_values.max() - grid_values.min())

    result = peaks_model.optimize(solver=solver, output_bounds=[[level, np.inf]])

    assert result.status == "optimal"
    assert_matches_forward_pass(peaks_model, result)
    assert result.predicted >= level - 1e-6
    feasible_values = grid_values[grid_values >= level]
    assert result.objective <= feasible_values.min() + gap_tolerance(result.objective)


def test_output_bounds_on_one_of_two_outputs(multi_output_model):
    # Output 1 is bounded above, output 0 is left free by -inf/inf.
    for solver in ("highs", "appsi_highs"):
        result = multi_output_model.optimize(
            output_weights=0, output_bounds=[[-np.inf, np.inf], [-np.inf, 0.5]], solver=solver
        )

        assert result.status == "optimal", solver
        assert result.predicted_outputs[1] <= 0.5 + 1e-6, solver
        assert result.objective == pytest.approx(result.predicted, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("solver", ["highs", "appsi_highs"])
@pytest.mark.parametrize("warm_start", [True, False])
def test_impossible_output_bounds_infeasible(peaks_model, peaks_grid, solver, warm_start):
    _, grid_values = peaks_grid
    # Interval bounds show the output never gets this high anywhere in the box.
    level = grid_values.max() + 1000.0

    result = peaks_model.optimize(
        solver=solver, output_bounds=[[level, level + 1.0]], warm_start=warm_start
    )

    assert result.status == "infeasible"
    assert result.x is None
    assert result.objective is None
    assert not result.success
    assert not result.has_solution


@pytest.mark.parametrize("solver", ["highs", "appsi_highs"])
@pytest.mark.parametrize("warm_start", [True, False])
@pytest.mark.parametrize("time_limit", [0.01, 0.2])
def test_tiny_time_limit_gives_status(harder_model, solver, warm_start, time_limit):
    result = harder_model.optimize(solver=solver, time_limit=time_limit, warm_start=warm_start)

    assert result.status in LIMITED_STATUSES
    if result.status == "time_limit_no_solution":
        assert result.x is None
        assert result.objective is None
    else:
        assert_matches_forward_pass(harder_model, result)
    if warm_start:
        # The solver has the starting point before its first step, so even a limit that
        # stops it at once leaves a solution no worse than that start.
        assert result.status != "time_limit_no_solution"
        assert result.objective <= result.incumbent_objective + 1e-9


def test_highs_keeps_warm_start_at_zero_time(harder_model):
    # A time limit of zero is below what optimize() accepts, so it goes in as a HiGHS option.
    result = harder_model.optimize(solver_options={"time_limit": 0.0})

    assert result.status == "time_limit"
    assert result.objective == pytest.approx(result.incumbent_objective, rel=1e-9)
    assert_matches_forward_pass(harder_model, result)


@pytest.mark.parametrize("time_limit", [60, 60.0, np.float64(60.0)], ids=["int", "float", "numpy"])
def test_time_limit_number_types(peaks_model, time_limit):
    result = peaks_model.optimize(time_limit=time_limit)

    assert result.status == "optimal"
    assert_matches_forward_pass(peaks_model, result)


def test_single_thread_option(peaks_model, default_optima):
    default = default_optima["min"]

    result = peaks_model.optimize(solver_options={"threads": 1})

    assert result.status == "optimal"
    tolerance = 2 * gap_tolerance(default.objective)
    assert result.objective == pytest.approx(default.objective, abs=tolerance)


def test_highs_heuristics_switch_back_on(peaks_model, default_optima):
    # optimize() turns RINS/RENS off when it hands over a start; solver_options override that.
    default = default_optima["min"]

    result = peaks_model.optimize(
        solver_options={"mip_heuristic_run_rins": True, "mip_heuristic_run_rens": True}
    )

    assert result.status == "optimal"
    assert_matches_forward_pass(peaks_model, result)
    tolerance = 2 * gap_tolerance(default.objective)
    assert result.objective == pytest.approx(default.objective, abs=tolerance)


def test_result_fields_and_summary(peaks_model):
    result = peaks_model.optimize(mip_gap=0.0)

    assert result.status in STATUSES
    assert result.success
    assert result.mip_gap <= 1e-9
    assert result.dual_bound == pytest.approx(result.objective, abs=1e-6)
    assert result.prediction_error <= 1e-6 * max(1.0, abs(result.predicted))
    assert result.n_variables > 0
    assert result.n_constraints > 0
    assert result.solve_time >= 0.0
    assert result.wall_time >= result.solve_time + result.bound_time
    summary = result.summary()
    assert f"{result.bound_time:.3f} s lp bounds" in summary
    assert "status         : optimal" in summary
    assert f"{result.n_binaries} binaries" in summary


def affine_network():
    """The network y = 2 relu(x) + 1 of one input, on the box [0, 1]."""
    network = ReluNetwork(
        weights=(np.array([[1.0]]), np.array([[2.0]])), biases=(np.zeros(1), np.ones(1))
    )
    return network, np.array([[0.0, 1.0]])


def test_mismatch_warning_names_both_values():
    network, box = affine_network()
    # The forward pass at x = 0.5 is 2 * 0.5 + 1 = 2, far from the claimed objective 5.
    result = OptimizationResult(x=np.array([0.5]), objective=5.0, status="optimal")

    with pytest.warns(SolutionMismatchWarning, match=r"objective 5\.0 differs .* prediction 2\.0"):
        _check_against_forward_pass(result, network, box, np.ones(1))

    assert result.predicted == 2.0


def test_no_mismatch_warning_when_values_agree():
    network, box = affine_network()
    # The solver may return x a tolerance outside the box; it is clipped before the check.
    result = OptimizationResult(x=np.array([1.0 + 1e-9]), objective=3.0, status="optimal")

    with warnings.catch_warnings():
        warnings.simplefilter("error", SolutionMismatchWarning)
        _check_against_forward_pass(result, network, box, np.ones(1))

    assert result.x[0] == 1.0
    assert result.predicted == 3.0


def test_raw_units_optimum_below_grid(raw_units_data):
    X, Y = raw_units_data
    estimator = TractableMLPRegressor(hidden_layer_sizes=(8, 8), **FAST_TRAINING).fit(X, Y[:, 0])
    grid_values = estimator.predict(grid_points(estimator.input_bounds_))

    for sense in ("min", "max"):
        result = estimator.optimize(sense=sense)

        assert result.status == "optimal", sense
        assert_matches_forward_pass(estimator, result)
        if sense == "min":
            assert result.objective <= grid_values.min() + gap_tolerance(result.objective)
        else:
            assert result.objective >= grid_values.max() - gap_tolerance(result.objective)


def test_no_hidden_layer_optimum_at_corner(peaks_data):
    X, y = peaks_data
    estimator = TractableMLPRegressor(hidden_layer_sizes=(), max_epochs=3, random_state=0)
    estimator.fit(X, y)
    (W,), (b,) = estimator.network_.weights, estimator.network_.biases
    box = estimator.input_bounds_

    result = estimator.optimize()

    # A linear function is smallest at the corner picked by the sign of each weight.
    corner_values = np.minimum(W[0] * box[:, 0], W[0] * box[:, 1])
    assert estimator.n_unstable_ == 0
    assert result.status == "optimal"
    assert result.n_binaries == 0
    assert result.objective == pytest.approx(corner_values.sum() + b[0], rel=1e-9, abs=1e-9)


def test_box_beyond_training_data_warns(peaks_model):
    wider = peaks_model.input_bounds_ + np.array([[-0.5, 0.0], [0.0, 0.0]])

    with pytest.warns(ExtrapolationWarning, match=r"training box for feature\(s\) \[0\]"):
        result = peaks_model.optimize(input_bounds=wider)

    assert result.status == "optimal"
    assert result.objective == pytest.approx(result.predicted, rel=1e-6, abs=1e-6)
