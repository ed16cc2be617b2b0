"""Tests of the LP-relaxation-gap regularizer: values, gradients, engines and training."""

import numpy as np
import pyomo.environ as pyo
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.bounds import interval_bounds_torch
from sk_relaxreg.datasets import make_peaks
from sk_relaxreg.lp_gap import ExactLPEngine, FastLPEngine, lp_gap
from sk_relaxreg.milp import to_pyomo_model
from sk_relaxreg.network import ReluNetwork, build_module, linear_layers


def random_module(hidden, n_inputs=2, n_outputs=1, seed=0):
    torch.manual_seed(seed)
    return build_module(n_inputs, hidden, n_outputs).double()


def unit_box(n_inputs=2):
    return -torch.ones(n_inputs, dtype=torch.float64), torch.ones(n_inputs, dtype=torch.float64)


def sample_points(n, n_inputs=2, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, n_inputs, generator=generator, dtype=torch.float64) * 2 - 1


def exact_value(module, X, layer_bounds, direction):
    detached = [(L.detach(), U.detach()) for L, U in layer_bounds]
    return ExactLPEngine().lower_values(module, X, detached, direction).detach().numpy()


def as_network(module):
    layers = linear_layers(module)
    return ReluNetwork(
        tuple(layer.weight.detach().numpy().astype(float) for layer in layers),
        tuple(layer.bias.detach().numpy().astype(float) for layer in layers),
    )


@pytest.mark.parametrize("hidden", [(6,), (8, 8), (10, 10, 10)])
def test_exact_engine_matches_pyomo_relaxation(hidden):
    module = random_module(hidden)
    lower, upper = unit_box()
    layer_bounds = interval_bounds_torch(module, lower, upper)
    X = sample_points(4)
    direction = torch.ones(1, dtype=torch.float64)
    values = exact_value(module, X, layer_bounds, direction)

    # Independent check: the Pyomo big-M model with x fixed and binaries relaxed.
    network = as_network(module)
    box = np.column_stack([lower.numpy(), upper.numpy()])
    bounds = [(L.detach().numpy(), U.detach().numpy()) for L, U in layer_bounds]
    model = to_pyomo_model(network, box, bounds)
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    model.objective = pyo.Objective(expr=model.y[0], sense=pyo.minimize)
    solver = pyo.SolverFactory("appsi_highs")
    for i, x in enumerate(X.numpy()):
        for j in model.inputs:
            model.x[j].fix(float(x[j]))
        solver.solve(model)
        assert pyo.value(model.objective) == pytest.approx(values[i], abs=1e-7)


@pytest.mark.parametrize("hidden", [(6,), (8, 8), (10, 10, 10)])
@pytest.mark.parametrize("sense", ["min", "max", "both"])
def test_relaxation_brackets_prediction(hidden, sense):
    module = random_module(hidden, seed=3)
    layer_bounds = interval_bounds_torch(module, *unit_box())
    X = sample_points(16, seed=4)
    direction = torch.ones(1, dtype=torch.float64)
    for engine in (ExactLPEngine(), FastLPEngine(n_iterations=20)):
        gaps = lp_gap(module, X, layer_bounds, direction, sense=sense, engine=engine)
        assert torch.all(gaps >= -1e-9), f"negative gap from the {engine.name} engine"

    prediction = module(X)[:, 0].detach().numpy()
    v_min = exact_value(module, X, layer_bounds, direction)
    v_max = -exact_value(module, X, layer_bounds, -direction)
    assert np.all(v_min <= prediction + 1e-9)
    assert np.all(prediction <= v_max + 1e-9)


def test_gap_is_zero_when_every_neuron_is_stable():
    module = random_module((8, 8), seed=5)
    with torch.no_grad():
        # Positive weights and biases on the box [0, 1]^2 make every pre-activation positive.
        for layer in linear_layers(module):
            layer.weight.abs_()
            layer.bias.abs_().add_(0.1)
    lower = torch.zeros(2, dtype=torch.float64)
    upper = torch.ones(2, dtype=torch.float64)
    layer_bounds = interval_bounds_torch(module, lower, upper)
    assert all(bool((L >= 0).all()) for L, _ in layer_bounds)

    X = sample_points(8, seed=6).abs()
    direction = torch.ones(1, dtype=torch.float64)
    for engine in (ExactLPEngine(), FastLPEngine()):
        gaps = lp_gap(module, X, layer_bounds, direction, sense="both", engine=engine)
        assert torch.allclose(gaps, torch.zeros_like(gaps), atol=1e-9)


def finite_difference(module, X, direction, mode, parameter, index, step=1e-6):
    """Central difference of the exact LP value; bounds are recomputed only in mode "total"."""
    fixed_bounds = interval_bounds_torch(module, *unit_box())
    values = []
    for sign in (1.0, -1.0):
        with torch.no_grad():
            parameter[index] += sign * step
        bounds = interval_bounds_torch(module, *unit_box()) if mode == "total" else fixed_bounds
        values.append(exact_value(module, X, bounds, direction).sum())
        with torch.no_grad():
            parameter[index] -= sign * step
    return (values[0] - values[1]) / (2 * step)


@pytest.mark.parametrize("mode", ["direct", "total"])
@pytest.mark.parametrize("engine_name", ["exact", "fast"])
def test_gradient_matches_finite_differences(mode, engine_name):
    module = random_module((8, 8), seed=7)
    X = sample_points(3, seed=8)
    direction = torch.ones(1, dtype=torch.float64)
    engine = ExactLPEngine() if engine_name == "exact" else FastLPEngine(n_iterations=300, learning_rate=0.1)

    module.zero_grad()
    layer_bounds = interval_bounds_torch(module, *unit_box())
    engine.lower_values(module, X, layer_bounds, direction, mode=mode).sum().backward()

    checked = 0
    for layer in linear_layers(module):
        for parameter in (layer.weight, layer.bias):
            gradient = parameter.grad.clone()
            flat_indices = torch.randperm(parameter.numel(), generator=torch.Generator().manual_seed(9))[:4]
            for flat in flat_indices.tolist():
                index = np.unravel_index(flat, parameter.shape)
                expected = finite_difference(module, X, direction, mode, parameter, index)
                assert gradient[index].item() == pytest.approx(expected, rel=1e-4, abs=1e-6), (
                    f"{engine_name}/{mode}: gradient of parameter {tuple(parameter.shape)}"
                    f"{index} is {gradient[index].item()}, finite difference {expected}"
                )
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("hidden", [(8, 8), (12, 12, 12)])
def test_fast_engine_agrees_with_exact(hidden):
    module = random_module(hidden, seed=11)
    layer_bounds = interval_bounds_torch(module, *unit_box())
    X = sample_points(16, seed=12)
    direction = torch.ones(1, dtype=torch.float64)
    exact = exact_value(module, X, layer_bounds, direction)
    fast = (
        FastLPEngine(n_iterations=300, learning_rate=0.1)
        .lower_values(module, X, layer_bounds, direction)
        .detach()
        .numpy()
    )
    assert np.all(fast <= exact + 1e-9), "the fast bound must never exceed the LP value"
    tolerance = 1e-3 * np.maximum(1.0, np.abs(exact))
    assert np.all(exact - fast <= tolerance)


def test_fast_engine_warm_start_does_not_loosen_bound():
    module = random_module((12, 12, 12), seed=13)
    layer_bounds = interval_bounds_torch(module, *unit_box())
    X = sample_points(16, seed=14)
    direction = torch.ones(1, dtype=torch.float64)
    engine = FastLPEngine(n_iterations=5)
    first = engine.lower_values(module, X, layer_bounds, direction).detach()
    second = engine.lower_values(module, X, layer_bounds, direction).detach()
    assert torch.all(second >= first - 1e-9)
    assert torch.all(second <= torch.as_tensor(exact_value(module, X, layer_bounds, direction)) + 1e-9)


@pytest.fixture(scope="module")
def peaks_split():
    X, y = make_peaks(400, random_state=0)
    return X[:300], y[:300], X[300:], y[300:]


def test_training_with_lp_gap_lowers_root_gap(peaks_split):
    X, y, _, _ = peaks_split
    settings = dict(hidden_layer_sizes=(16, 16), max_epochs=30, random_state=0)
    plain = TractableMLPRegressor(**settings).fit(X, y)
    regularized = TractableMLPRegressor(**settings, lp_gap=0.05).fit(X, y)

    plain_report = plain.tractability_report(time_limit=60)
    regularized_report = regularized.tractability_report(time_limit=60)
    assert plain_report["milp_status"] == "optimal"
    assert regularized_report["milp_status"] == "optimal"
    assert regularized_report["root_lp_gap"] < plain_report["root_lp_gap"]
    assert np.all(np.isfinite(regularized.history_["lp_gap"]))
    assert sum(regularized.history_["lp_failures"]) == 0


@pytest.mark.parametrize(
    "options",
    [
        {"lp_gap_engine": "exact"},
        {"lp_gap_mode": "total", "lp_gap_sense": "both"},
        {"lp_gap_samples": None, "lp_gap_sense": "max"},
    ],
)
def test_lp_gap_options_train(peaks_split, options):
    X, y, _, _ = peaks_split
    model = TractableMLPRegressor(
        hidden_layer_sizes=(8, 8), max_epochs=3, random_state=0, lp_gap=0.01, **options
    ).fit(X, y)
    assert len(model.history_["lp_gap"]) == 3
    assert np.all(np.asarray(model.history_["lp_gap"]) >= 0)


def test_lp_gap_with_bound_width_in_grid_search(peaks_split):
    X, y, _, _ = peaks_split
    base = TractableMLPRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    model = clone(base).set_params(lp_gap=0.01, bound_width=0.01)
    assert model.get_params()["lp_gap"] == 0.01
    model.fit(X, y)
    assert "lp_gap" in model.history_

    search = GridSearchCV(base, {"lp_gap": [0.0, 0.01], "bound_width": [0.0, 0.01]}, cv=2)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_multi_output_direction(peaks_split):
    X, y, _, _ = peaks_split
    Y = np.column_stack([y, -y])
    model = TractableMLPRegressor(
        hidden_layer_sizes=(8,), max_epochs=2, random_state=0, lp_gap=0.01, lp_gap_direction=[1.0, 0.0]
    ).fit(X, Y)
    assert model.predict(X).shape == (len(X), 2)

    bad = TractableMLPRegressor(max_epochs=1, lp_gap=0.01, lp_gap_direction=[1.0, -1.0])
    with pytest.raises(ValueError, match="lp_gap_direction"):
        bad.fit(X, Y)


def test_invalid_lp_gap_options_are_rejected(peaks_split):
    X, y, _, _ = peaks_split
    for name, value in [("lp_gap_engine", "gurobi"), ("lp_gap_mode", "partial"), ("lp_gap", -1.0)]:
        with pytest.raises(ValueError, match=name):
            TractableMLPRegressor(max_epochs=1, **{name: value}).fit(X, y)
