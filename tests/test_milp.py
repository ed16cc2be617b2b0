"""The MILP formulations reproduce the network exactly: Pyomo model, HiGHS arrays, add_to_model."""

import numpy as np
import pyomo.environ as pyo
import pytest

from conftest import FAST_TRAINING, RAW_UNITS_BOX, grid_points
from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.bounds import interval_bounds
from sk_relaxreg.highs_milp import build_milp_arrays, make_highs
from sk_relaxreg.milp import to_pyomo_model
from sk_relaxreg.network import ReluNetwork
from sk_relaxreg.optimize import optimize_network

ARCHITECTURES = [(4,), (8, 8), (6, 6, 6)]
N_POINTS = 6
RELATIVE_TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def raw_units_models(raw_units_data):
    """Fitted networks on the raw-units data, keyed by (hidden_layer_sizes, n_outputs)."""
    X, Y = raw_units_data
    models = {}
    for hidden in ARCHITECTURES:
        for n_outputs in (1, 2):
            target = Y[:, 0] if n_outputs == 1 else Y
            estimator = TractableMLPRegressor(hidden_layer_sizes=hidden, **FAST_TRAINING)
            models[hidden, n_outputs] = estimator.fit(X, target)
    return models


@pytest.fixture(scope="module")
def appsi_highs():
    solver = pyo.SolverFactory("appsi_highs")
    assert solver.available(), "appsi_highs must be available: it ships with highspy"
    return solver


def random_box_points(box, n_points, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(box[:, 0], box[:, 1], size=(n_points, len(box)))


def assert_outputs_match(milp_outputs, expected):
    scale = np.maximum(1.0, np.abs(expected))
    np.testing.assert_array_less(np.abs(milp_outputs - expected), RELATIVE_TOLERANCE * scale)


def solve_pyomo_at(model, solver, point, sense):
    """Fix model.x at ``point``, optimize the sum of outputs and return (y, z, h) values."""
    for i in model.inputs:
        model.x[i].fix(float(point[i]))
    model.del_component("objective")
    model.objective = pyo.Objective(
        expr=sum(model.y[k] for k in model.outputs),
        sense=pyo.minimize if sense == "min" else pyo.maximize,
    )
    results = solver.solve(model)
    assert results.solver.termination_condition == pyo.TerminationCondition.optimal
    y = np.array([pyo.value(model.y[k]) for k in model.outputs])
    z = {index: pyo.value(model.z[index]) for index in model.neurons}
    h = {index: pyo.value(model.h[index]) for index in model.neurons}
    return y, z, h


def solve_arrays_at(arrays, point, sense):
    """Fix the x columns at ``point``, optimize the sum of outputs and return the column values."""
    lower, upper = arrays.col_lower.copy(), arrays.col_upper.copy()
    lower[arrays.x_cols] = point
    upper[arrays.x_cols] = point
    fixed = type(arrays)(**{**vars(arrays), "col_lower": lower, "col_upper": upper})
    highs = make_highs(fixed, sense=sense)
    highs.run()
    assert highs.modelStatusToString(highs.getModelStatus()) == "Optimal"
    return np.asarray(highs.getSolution().col_value)


@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("hidden", ARCHITECTURES, ids=str)
def test_pyomo_model_reproduces_predict(raw_units_models, appsi_highs, hidden, n_outputs):
    estimator = raw_units_models[hidden, n_outputs]
    model = estimator.to_milp()
    points = random_box_points(estimator.input_bounds_, N_POINTS, seed=1)
    expected = estimator.network_.forward(points)
    _, preactivations = estimator.network_.forward(points, return_preactivations=True)

    for n, point in enumerate(points):
        # With x fixed, the minimum and the maximum of the outputs agree only if the
        # formulation leaves the outputs no freedom.
        for sense in ("min", "max"):
            y, z, h = solve_pyomo_at(model, appsi_highs, point, sense)
            assert_outputs_match(y, expected[n])
            for (layer, j), value in z.items():
                exact = preactivations[layer][n, j]
                assert value == pytest.approx(exact, rel=RELATIVE_TOLERANCE, abs=1e-6)
                relu = max(exact, 0.0)
                assert h[layer, j] == pytest.approx(relu, rel=RELATIVE_TOLERANCE, abs=1e-6)


@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("hidden", ARCHITECTURES, ids=str)
def test_highs_arrays_reproduce_predict(raw_units_models, hidden, n_outputs):
    estimator = raw_units_models[hidden, n_outputs]
    arrays = build_milp_arrays(
        estimator.network_, estimator.input_bounds_, estimator.layer_bounds_, np.ones(n_outputs)
    )
    points = random_box_points(estimator.input_bounds_, N_POINTS, seed=2)
    expected = estimator.network_.forward(points)
    _, preactivations = estimator.network_.forward(points, return_preactivations=True)

    for n, point in enumerate(points):
        for sense in ("min", "max"):
            values = solve_arrays_at(arrays, point, sense)
            assert_outputs_match(values[arrays.y_cols], expected[n])
            for layer, z_map in enumerate(arrays.z_cols):
                kept = z_map >= 0
                exact = preactivations[layer][n, kept]
                np.testing.assert_allclose(values[z_map[kept]], exact, rtol=1e-6, atol=1e-6)
                h_map = arrays.h_cols[layer]
                np.testing.assert_allclose(
                    values[h_map[kept]], np.maximum(exact, 0.0), rtol=1e-6, atol=1e-6
                )


def test_raw_units_box_is_far_from_origin(raw_units_models):
    estimator = raw_units_models[(8, 8), 1]

    # The default box is the data range, which spans most of RAW_UNITS_BOX.
    assert np.all(np.abs(estimator.input_bounds_) >= 300.0)
    assert np.all(estimator.input_bounds_[:, 0] >= RAW_UNITS_BOX[:, 0])
    assert np.all(estimator.input_bounds_[:, 1] <= RAW_UNITS_BOX[:, 1])
    assert np.all(np.abs(estimator.predict(estimator.input_bounds_.T)) > 900.0)


def test_to_milp_structure(raw_units_models):
    estimator = raw_units_models[(6, 6, 6), 2]

    model = estimator.to_milp(bounds="interval")

    assert list(model.component_objects(pyo.Objective)) == []
    for i in model.inputs:
        assert model.x[i].bounds == tuple(estimator.input_bounds_[i])
    assert len(model.outputs) == 2
    binaries = [v for v in model.component_data_objects(pyo.Var) if v.is_binary()]
    assert len(binaries) == estimator.n_unstable_
    # Every unstable neuron has its three big-M rows; stably active ones have h = z.
    assert len(model.relu_lower) == len(model.relu_upper_z) == len(model.relu_upper_delta)
    assert len(model.relu_lower) == estimator.n_unstable_
    for (layer, j) in model.active_neurons:
        assert estimator.layer_bounds_[layer][0][j] >= 0.0


def test_to_milp_sub_box_is_tighter(raw_units_models):
    estimator = raw_units_models[(8, 8), 1]
    lower, upper = estimator.input_bounds_[:, 0], estimator.input_bounds_[:, 1]
    sub_box = np.column_stack([lower + 0.25 * (upper - lower), lower + 0.5 * (upper - lower)])

    model = estimator.to_milp(input_bounds=sub_box, bounds="interval")

    for i in model.inputs:
        assert model.x[i].bounds == pytest.approx(tuple(sub_box[i]))
    n_binaries = sum(1 for v in model.component_data_objects(pyo.Var) if v.is_binary())
    # Interval bounds shrink with the box, so no stable neuron becomes unstable.
    assert n_binaries <= estimator.n_unstable_
    assert n_binaries == sum(
        int(np.sum((L < 0) & (U > 0))) for L, U in interval_bounds(estimator.network_, sub_box)
    )


def test_zero_neuron_is_left_out():
    # Neuron 1 has zero weights and zero bias, so its bounds are L = U = 0.
    network = ReluNetwork(
        weights=(np.array([[1.0, 0.0], [0.0, 0.0], [1.0, -1.0]]), np.array([[1.0, 5.0, 1.0]])),
        biases=(np.array([0.5, 0.0, 0.0]), np.array([0.0])),
    )
    box = np.array([[0.0, 1.0], [0.0, 1.0]])
    layer_bounds = interval_bounds(network, box)
    assert layer_bounds[0][0][1] == layer_bounds[0][1][1] == 0.0

    model = to_pyomo_model(network, box, layer_bounds)
    assert (0, 1) not in model.neurons

    for solver in ("highs", "appsi_highs"):
        result = optimize_network(
            network, box, layer_bounds, np.ones(1), sense="max", solver=solver
        )
        assert result.status == "optimal", solver
        # max of relu(x0 + 0.5) + relu(x0 - x1) over the unit box is 2.5 at (1, 0).
        assert result.objective == pytest.approx(2.5, abs=1e-7), solver
        np.testing.assert_allclose(result.x, [1.0, 0.0], atol=1e-7)


def test_add_to_model_with_user_constraint(peaks_model, appsi_highs):
    model = pyo.ConcreteModel()
    box = peaks_model.input_bounds_
    model.u = pyo.Var(range(2), bounds=lambda m, i: tuple(box[i]))
    model.v = pyo.Var()
    block = peaks_model.add_to_model(model, model.u, [model.v], name="surrogate")
    # The user's own constraint and objective: stay in the half-plane u0 + u1 >= 0.5.
    model.half_plane = pyo.Constraint(expr=model.u[0] + model.u[1] >= 0.5)
    model.objective = pyo.Objective(expr=model.v + 0.1 * model.u[0], sense=pyo.minimize)

    results = appsi_highs.solve(model)

    assert results.solver.termination_condition == pyo.TerminationCondition.optimal
    assert block is model.surrogate
    u = np.array([pyo.value(model.u[i]) for i in range(2)])
    v = pyo.value(model.v)
    assert u.sum() >= 0.5 - 1e-7
    assert v == pytest.approx(peaks_model.predict(u[None, :])[0], rel=1e-6, abs=1e-6)

    # No grid point in the half-plane does better than the solver's point.
    grid = grid_points(box)
    grid = grid[grid.sum(axis=1) >= 0.5]
    grid_objective = peaks_model.predict(grid) + 0.1 * grid[:, 0]
    objective = pyo.value(model.objective)
    assert objective <= grid_objective.min() + 1e-4 * max(1.0, abs(objective))


def test_add_to_model_multi_output_expressions(multi_output_model, appsi_highs):
    model = pyo.ConcreteModel()
    model.a = pyo.Var(bounds=(-2.0, 2.0))
    model.b = pyo.Var(bounds=(-2.0, 2.0))
    model.out = pyo.Var(range(2))
    multi_output_model.add_to_model(
        model, [model.a, model.b], model.out, input_bounds=[[-1.0, 1.0], [-1.0, 1.0]]
    )
    model.objective = pyo.Objective(expr=model.out[1] - model.out[0], sense=pyo.maximize)

    results = appsi_highs.solve(model)

    assert results.solver.termination_condition == pyo.TerminationCondition.optimal
    x = np.array([pyo.value(model.a), pyo.value(model.b)])
    # The network's box [-1, 1]^2 binds the user's wider variable bounds.
    assert np.all(np.abs(x) <= 1.0 + 1e-7)
    outputs = np.array([pyo.value(model.out[k]) for k in range(2)])
    expected = multi_output_model.predict(x[None, :])[0]
    np.testing.assert_allclose(outputs, expected, rtol=1e-6, atol=1e-6)


def test_add_to_model_rejects_bad_links(peaks_model):
    model = pyo.ConcreteModel()
    model.u = pyo.Var(range(3))
    model.v = pyo.Var()

    with pytest.raises(ValueError, match="inputs has 3 entries but the network takes 2"):
        peaks_model.add_to_model(model, model.u, [model.v])
    with pytest.raises(ValueError, match="outputs has 2 entries"):
        peaks_model.add_to_model(model, [model.u[0], model.u[1]], [model.v, model.u[2]])

    peaks_model.add_to_model(model, [model.u[0], model.u[1]], [model.v], name="first")
    with pytest.raises(ValueError, match="already has a component named 'first'"):
        peaks_model.add_to_model(model, [model.u[0], model.u[1]], [model.v], name="first")
