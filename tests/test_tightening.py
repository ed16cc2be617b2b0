"""LP-tightened big-M bounds: valid, never looser than interval bounds, same optimum."""

import subprocess
import sys

import numpy as np
import pyomo.environ as pyo
import pytest

from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.bounds import count_unstable
from sk_relaxreg.milp import to_pyomo_model
from sk_relaxreg.network import ReluNetwork
from sk_relaxreg.tightening import lp_tightened_bounds

from conftest import FAST_TRAINING, grid_points

#: Float round-off allowed between a forward-pass pre-activation and an exact bound.
ROUND_OFF = 1e-12


@pytest.fixture(scope="module")
def deep_model(peaks_data):
    """A fitted 2-10-10-10-1 network on peaks: deep enough for interval bounds to be loose."""
    X, y = peaks_data
    return TractableMLPRegressor(hidden_layer_sizes=(10, 10, 10), **FAST_TRAINING).fit(X, y)


@pytest.fixture(scope="module")
def appsi_highs():
    solver = pyo.SolverFactory("appsi_highs")
    assert solver.available(), "appsi_highs must be available: it ships with highspy"
    return solver


@pytest.fixture(scope="module")
def deep_bounds(deep_model):
    return lp_tightened_bounds(deep_model.network_, deep_model.input_bounds_)


def test_bounds_contain_every_grid_preactivation(deep_model, deep_bounds):
    bounds, info = deep_bounds
    points = grid_points(deep_model.input_bounds_, n_per_axis=201)

    _, preactivations = deep_model.network_.forward(points, return_preactivations=True)

    assert info["complete"]
    assert info["n_failed"] == 0
    # First-layer bounds are exact and the grid contains the box corners, so allow round-off.
    for z, (L, U) in zip(preactivations, bounds):
        assert np.all(z >= L[None, :] - ROUND_OFF * (1 + np.abs(z)))
        assert np.all(z <= U[None, :] + ROUND_OFF * (1 + np.abs(z)))


def test_bounds_never_looser_and_tighter_somewhere(deep_model, deep_bounds):
    bounds, info = deep_bounds
    interval = deep_model.layer_bounds_

    np.testing.assert_array_equal(bounds[0][0], interval[0][0])
    np.testing.assert_array_equal(bounds[0][1], interval[0][1])
    widths_lp = np.concatenate([U - L for L, U in bounds])
    widths_interval = np.concatenate([U - L for L, U in interval])
    assert np.all(widths_lp <= widths_interval)
    assert np.sum(widths_lp) < 0.9 * np.sum(widths_interval)
    assert count_unstable(bounds).sum() <= deep_model.n_unstable_
    assert info["n_lps"] > 0


def test_bound_equals_independent_pyomo_lp(deep_model, deep_bounds, appsi_highs):
    # Layer 3's bounds come from the LP over layers 1-2 with their tightened bounds. Build
    # that LP again through the Pyomo formulation, relax the binaries and compare.
    bounds, _ = deep_bounds
    network = deep_model.network_
    layer = 2
    truncated = ReluNetwork(network.weights[: layer + 1], network.biases[: layer + 1])
    model = to_pyomo_model(truncated, deep_model.input_bounds_, bounds[:layer])
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    L, U = bounds[layer]
    checked = 0
    for j in np.flatnonzero((L < 0) & (U > 0))[:4]:
        model.objective = pyo.Objective(expr=model.y[j], sense=pyo.minimize)
        appsi_highs.solve(model)
        lp_min = pyo.value(model.objective)
        model.del_component(model.objective)
        model.objective = pyo.Objective(expr=model.y[j], sense=pyo.maximize)
        appsi_highs.solve(model)
        lp_max = pyo.value(model.objective)
        model.del_component(model.objective)
        assert L[j] == pytest.approx(lp_min, rel=1e-5, abs=1e-5)
        assert U[j] == pytest.approx(lp_max, rel=1e-5, abs=1e-5)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("sense", ["min", "max"])
def test_optimum_matches_interval_and_grid(deep_model, sense):
    points = grid_points(deep_model.input_bounds_, n_per_axis=201)
    values = deep_model.predict(points)

    tightened = deep_model.optimize(sense=sense)
    interval = deep_model.optimize(sense=sense, bounds="interval")

    assert tightened.status == "optimal"
    assert interval.status == "optimal"
    assert tightened.bounds == "lp"
    assert interval.bounds == "interval"
    assert tightened.bound_time > 0.0
    assert interval.bound_time == 0.0
    assert tightened.n_binaries <= interval.n_binaries
    for result in (tightened, interval):
        assert result.objective == pytest.approx(result.predicted, rel=1e-6, abs=1e-6)
        assert result.objective == pytest.approx(deep_model.predict(result.x[None, :])[0],
                                                 rel=1e-6, abs=1e-6)
    assert tightened.objective == pytest.approx(interval.objective, rel=1e-4, abs=1e-4)
    if sense == "min":
        assert tightened.objective <= values.min() + 1e-4 * max(1.0, abs(values.min()))
    else:
        assert tightened.objective >= values.max() - 1e-4 * max(1.0, abs(values.max()))


def test_deadline_keeps_bounds_valid(deep_model):
    bounds, info = lp_tightened_bounds(deep_model.network_, deep_model.input_bounds_,
                                       time_limit=1e-9)
    points = grid_points(deep_model.input_bounds_, n_per_axis=101)
    _, preactivations = deep_model.network_.forward(points, return_preactivations=True)

    assert not info["complete"]
    assert info["n_lps"] == 0
    for z, (L, U), (L_int, U_int) in zip(preactivations, bounds, deep_model.layer_bounds_):
        assert np.all(L <= z.min(axis=0) + ROUND_OFF * (1 + np.abs(z.min(axis=0))))
        assert np.all(U >= z.max(axis=0) - ROUND_OFF * (1 + np.abs(z.max(axis=0))))
        assert np.all(U - L <= U_int - L_int + 1e-12)


def test_optimize_time_limit_covers_tightening(deep_model):
    result = deep_model.optimize(time_limit=1e-3)

    assert result.status in ("optimal", "time_limit")
    assert result.has_solution
    assert result.objective == pytest.approx(result.predicted, rel=1e-6, abs=1e-6)


def test_report_time_limit_covers_tightening(deep_model):
    report = deep_model.tractability_report(time_limit=1e-3)

    assert report["bounds"] == "lp"
    assert report["milp_status"] in ("optimal", "time_limit")
    assert report["n_unstable"] <= deep_model.n_unstable_


def test_single_hidden_layer_needs_no_lp(peaks_data):
    X, y = peaks_data
    estimator = TractableMLPRegressor(hidden_layer_sizes=(8,), **FAST_TRAINING).fit(X, y)

    bounds, info = lp_tightened_bounds(estimator.network_, estimator.input_bounds_)

    assert info["n_lps"] == 0
    np.testing.assert_array_equal(bounds[0][0], estimator.layer_bounds_[0][0])
    np.testing.assert_array_equal(bounds[0][1], estimator.layer_bounds_[0][1])


def test_report_and_model_follow_bounds(deep_model):
    tightened = deep_model.tractability_report(solve=False)
    interval = deep_model.tractability_report(solve=False, bounds="interval")
    model = deep_model.to_milp()
    n_model_binaries = sum(1 for v in model.component_data_objects(pyo.Var) if v.is_binary())

    assert tightened["bounds"] == "lp"
    assert interval["n_unstable"] == deep_model.n_unstable_
    assert tightened["n_unstable"] <= interval["n_unstable"]
    assert tightened["mean_bound_width"] < interval["mean_bound_width"]
    assert n_model_binaries == tightened["n_binaries"]
    # A tighter formulation has a root LP bound at least as strong (min sense: not lower).
    assert tightened["root_lp_bound"] >= interval["root_lp_bound"] - 1e-6


@pytest.mark.parametrize("method", ["optimize", "to_milp", "tractability_report"])
def test_unknown_bounds_method_is_rejected(deep_model, method):
    with pytest.raises(ValueError, match="bounds must be 'lp'.*got 'exact'"):
        getattr(deep_model, method)(bounds="exact")


def test_add_to_model_rejects_bad_bounds(deep_model):
    model = pyo.ConcreteModel()
    model.x = pyo.Var(range(2))
    model.y = pyo.Var(range(1))

    with pytest.raises(ValueError, match="got 'tight'"):
        deep_model.add_to_model(model, model.x, model.y, bounds="tight")


# HiGHS fixes its thread pool at the first solve of a process, so this needs a fresh process.
FRESH_PROCESS_REPORT = """
from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.datasets import make_peaks
X, y = make_peaks(n_samples=200, random_state=0)
model = TractableMLPRegressor(hidden_layer_sizes=(8, 8), max_epochs=5, random_state=0).fit(X, y)
report = model.tractability_report(solver_options={"threads": 1})
print("ROOT", report["root_lp_bound"], report["milp_status"])
"""


def test_thread_option_after_tightening_lps():
    # The tightening LPs start HiGHS with its default thread count; a later solve with
    # threads=1 must still run (it used to fail, leaving root_lp_bound as None).
    completed = subprocess.run([sys.executable, "-c", FRESH_PROCESS_REPORT],
                               capture_output=True, text=True, timeout=300, check=True)
    line = next(row for row in completed.stdout.splitlines() if row.startswith("ROOT"))
    _, bound, status = line.split()

    assert bound != "None"
    assert np.isfinite(float(bound))
    assert status == "optimal"
