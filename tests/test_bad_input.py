"""Bad input raises a clear error that names the value, and no input is ever modified."""

import importlib.util
import re

import numpy as np
import pyomo.environ as pyo
import pytest

from sk_relaxreg import NotFittedError, SolverNotAvailableError, TractableMLPRegressor
from sk_relaxreg.optimize import get_pyomo_solver

TINY = {"hidden_layer_sizes": (4,), "max_epochs": 2, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, size=(100, 2))
    return X, X[:, 0] ** 2 - X[:, 1]


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return TractableMLPRegressor(**TINY).fit(X, y)


@pytest.fixture(scope="module")
def fitted_two_outputs(data):
    X, y = data
    return TractableMLPRegressor(**TINY).fit(X, np.column_stack([y, -y]))


def with_value(X, row, column, value):
    X = X.copy()
    X[row, column] = value
    return X


# ------------------------------------------------------------------ fit and predict


@pytest.mark.parametrize(
    "which, value, message",
    [
        ("X", np.nan, "Input X contains NaN"),
        ("X", np.inf, "Input X contains infinity"),
        ("X", -np.inf, "Input X contains infinity"),
        ("y", np.nan, "Input y contains NaN"),
        ("y", np.inf, "Input y contains infinity"),
    ],
)
def test_fit_rejects_non_finite(data, which, value, message):
    X, y = data
    if which == "X":
        X = with_value(X, 3, 1, value)
    else:
        y = y.copy()
        y[5] = value

    with pytest.raises(ValueError, match=message):
        TractableMLPRegressor(**TINY).fit(X, y)


def test_fit_rejects_mismatched_lengths(data):
    X, y = data

    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[100, 99\]"):
        TractableMLPRegressor(**TINY).fit(X, y[:-1])


@pytest.mark.parametrize("n_samples", [0, 1])
def test_fit_rejects_too_few_samples(n_samples):
    X = np.zeros((n_samples, 2))
    y = np.zeros(n_samples)

    with pytest.raises(ValueError, match=rf"{n_samples} sample\(s\) \(shape=\({n_samples}, 2\)\)"):
        TractableMLPRegressor(**TINY).fit(X, y)


def test_fit_rejects_no_features():
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        TractableMLPRegressor(**TINY).fit(np.zeros((10, 0)), np.zeros(10))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"hidden_layer_sizes": (0,)}, r"hidden_layer_sizes .* got \(0,\)"),
        ({"hidden_layer_sizes": (4, -2)}, r"hidden_layer_sizes .* got \(4, -2\)"),
        ({"hidden_layer_sizes": (4.5,)}, r"hidden_layer_sizes .* got \(4\.5,\)"),
        ({"max_epochs": 0}, r"'max_epochs' .* Got 0"),
        ({"lr": -1.0}, r"'lr' .* Got -1\.0"),
        ({"l1": -0.5}, r"'l1' .* Got -0\.5"),
        ({"bound_width": -1}, r"'bound_width' .* Got -1"),
        ({"optimizer": "adamax"}, r"'optimizer' .* Got 'adamax'"),
        ({"validation_fraction": 1.0}, r"'validation_fraction' .* Got 1\.0"),
    ],
)
def test_fit_rejects_bad_hyperparameters(data, params, message):
    X, y = data

    with pytest.raises(ValueError, match=message):
        TractableMLPRegressor(**{**TINY, **params}).fit(X, y)


@pytest.mark.parametrize(
    "input_bounds, message",
    [
        ([[0.0, 1.0]], r"shape \(n_features, 2\) = \(2, 2\).* got shape \(1, 2\)"),
        ([[0.0, np.nan], [0.0, 1.0]], r"feature\(s\) \[0\] have bounds \[\[0\.0, nan\]\]"),
        ([[1.0, 0.0], [0.0, 1.0]], r"lower > upper for feature 0 \(lower=1\.0, upper=0\.0\)"),
    ],
    ids=["shape", "nan", "inverted"],
)
def test_fit_rejects_bad_input_bounds(data, input_bounds, message):
    X, y = data

    with pytest.raises(ValueError, match=message):
        TractableMLPRegressor(**TINY, input_bounds=input_bounds).fit(X, y)


@pytest.mark.parametrize(
    "X_new, message",
    [
        (np.zeros((3, 3)), "X has 3 features, but TractableMLPRegressor is expecting 2"),
        (np.zeros((3, 1)), "X has 1 features, but TractableMLPRegressor is expecting 2"),
        (np.array([[0.0, np.nan]]), "Input X contains NaN"),
        (np.array([[0.0, np.inf]]), "Input X contains infinity"),
    ],
    ids=["three-features", "one-feature", "nan", "inf"],
)
def test_predict_rejects_bad_X(fitted, X_new, message):
    with pytest.raises(ValueError, match=message):
        fitted.predict(X_new)


@pytest.mark.parametrize(
    "call",
    [
        lambda estimator: estimator.predict(np.zeros((2, 2))),
        lambda estimator: estimator.to_milp(),
        lambda estimator: estimator.optimize(),
        lambda estimator: estimator.add_to_model(pyo.ConcreteModel(), [], []),
    ],
    ids=["predict", "to_milp", "optimize", "add_to_model"],
)
def test_unfitted_estimator_raises(call):
    with pytest.raises(NotFittedError, match="TractableMLPRegressor instance is not fitted yet"):
        call(TractableMLPRegressor(**TINY))


# ------------------------------------------------------------- optimize and to_milp

BAD_INPUT_BOUNDS = [
    ([[0.0, 1.0]], r"shape \(n_features, 2\) = \(2, 2\).* got shape \(1, 2\)"),
    ([[0.0, 1.0]] * 3, r"= \(2, 2\).* got shape \(3, 2\)"),
    ([0.0, 1.0], r"= \(2, 2\).* got shape \(2,\)"),
    ([[0.0, 1.0], [0.0, np.nan]], r"feature\(s\) \[1\] have bounds \[\[0\.0, nan\]\]"),
    ([[-np.inf, 1.0], [0.0, 1.0]], r"feature\(s\) \[0\] have bounds \[\[-inf, 1\.0\]\]"),
    ([[0.0, 1.0], [0.5, -0.5]], r"lower > upper for feature 1 \(lower=0\.5, upper=-0\.5\)"),
    ([["0", "1"], ["0", "1"]], r"must be numeric .* got \[\['0', '1'\], \['0', '1'\]\]"),
    ("box", r"must be numeric .* got 'box'"),
    ([[0.0, 1.0], [0.0]], r"must be numeric .* got \[\[0\.0, 1\.0\], \[0\.0\]\]"),
]
BAD_INPUT_BOUNDS_IDS = [
    "one-row", "three-rows", "flat", "nan", "inf", "inverted", "strings", "text", "ragged",
]


@pytest.mark.parametrize("input_bounds, message", BAD_INPUT_BOUNDS, ids=BAD_INPUT_BOUNDS_IDS)
def test_optimize_rejects_bad_input_bounds(fitted, input_bounds, message):
    with pytest.raises(ValueError, match=message):
        fitted.optimize(input_bounds=input_bounds)


@pytest.mark.parametrize("input_bounds, message", BAD_INPUT_BOUNDS, ids=BAD_INPUT_BOUNDS_IDS)
def test_to_milp_rejects_bad_input_bounds(fitted, input_bounds, message):
    with pytest.raises(ValueError, match=message):
        fitted.to_milp(input_bounds=input_bounds)


@pytest.mark.parametrize("sense", ["MIN", "minimize", None, 1])
def test_optimize_rejects_bad_sense(fitted, sense):
    with pytest.raises(ValueError, match=rf"sense must be 'min' or 'max'; got {sense!r}"):
        fitted.optimize(sense=sense)


@pytest.mark.parametrize("time_limit", [0, 0.0, -5, np.nan, np.inf, "10", True])
def test_optimize_rejects_bad_time_limit(fitted, time_limit):
    message = rf"time_limit must be a positive number .* got {time_limit!r}"
    with pytest.raises(ValueError, match=message):
        fitted.optimize(time_limit=time_limit)


@pytest.mark.parametrize("mip_gap", [-0.1, 1.0, 2, np.nan, "0.01", None, False])
def test_optimize_rejects_bad_mip_gap(fitted, mip_gap):
    with pytest.raises(ValueError, match=rf"mip_gap must be a number in \[0, 1\); got {mip_gap!r}"):
        fitted.optimize(mip_gap=mip_gap)


@pytest.mark.parametrize("n_random_starts", [-1, 2.5, "100", True])
def test_optimize_rejects_bad_n_random_starts(fitted, n_random_starts):
    with pytest.raises(ValueError, match=rf"n_random_starts .* got {n_random_starts!r}"):
        fitted.optimize(n_random_starts=n_random_starts)


@pytest.mark.parametrize(
    "output_weights, message",
    [
        (1, r"output_weights=1 is not a valid output index; the network has outputs 0\.\.0"),
        (-1, r"output_weights=-1 is not a valid output index"),
        ([1.0, 2.0], r"an output index or 1 finite weights; got \[1\.0, 2\.0\]"),
        ([np.nan], r"an output index or 1 finite weights; got \[nan\]"),
        ("first", r"an output index or 1 finite weights; got 'first'"),
        (True, r"an output index or 1 finite weights; got the bool True"),
        ([0.0], r"output_weights are all zero"),
    ],
)
def test_optimize_rejects_bad_output_weights(fitted, output_weights, message):
    with pytest.raises(ValueError, match=message):
        fitted.optimize(output_weights=output_weights)


@pytest.mark.parametrize(
    "output_weights, message",
    [
        (None, r"The network has 2 outputs; pass output_weights=k"),
        (2, r"output_weights=2 is not a valid output index; the network has outputs 0\.\.1"),
        ([1.0], r"an output index or 2 finite weights; got \[1\.0\]"),
        ([0, 0], r"output_weights are all zero"),
        ([1.0, "b"], r"an output index or 2 finite weights; got \[1\.0, 'b'\]"),
    ],
)
def test_optimize_rejects_bad_multi_output_weights(fitted_two_outputs, output_weights, message):
    with pytest.raises(ValueError, match=message):
        fitted_two_outputs.optimize(output_weights=output_weights)


@pytest.mark.parametrize(
    "output_bounds, message",
    [
        ([[1.0, 0.0]], r"lower > upper: \[\[1\.0, 0\.0\]\]"),
        ([[0.0, 1.0], [0.0, 1.0]], r"shape \(1, 2\) .* got \[\[0\.0, 1\.0\], \[0\.0, 1\.0\]\]"),
        ([[np.nan, 1.0]], r"with no NaN, .* got \[\[nan, 1\.0\]\]"),
        ([["low", 1.0]], r"shape \(1, 2\) .* got \[\['low', 1\.0\]\]"),
        ([[np.inf, np.inf]], r"need lower < inf and upper > -inf, .* got \[\[inf, inf\]\]"),
        ([[-np.inf, -np.inf]], r"need lower < inf and upper > -inf, .* got \[\[-inf, -inf\]\]"),
    ],
    ids=["inverted", "shape", "nan", "string", "lower-inf", "upper-minus-inf"],
)
def test_optimize_rejects_bad_output_bounds(fitted, output_bounds, message):
    with pytest.raises(ValueError, match=message):
        fitted.optimize(output_bounds=output_bounds)


def test_optimize_rejects_unknown_highs_option(fitted):
    with pytest.raises(ValueError, match=r"HiGHS rejected option no_such_option=1"):
        fitted.optimize(solver_options={"no_such_option": 1})


# ----------------------------------------------------------------------- solvers


@pytest.mark.parametrize("solver", ["no_such_solver", "hi_ghs"])
def test_unknown_solver_name(fitted, solver):
    with pytest.raises(SolverNotAvailableError, match=rf"{solver}"):
        fitted.optimize(solver=solver)


@pytest.mark.parametrize("solver", [None, 3, ["highs"]])
def test_solver_must_be_a_name(fitted, solver):
    message = "solver must be a solver name .* got " + re.escape(repr(solver))
    with pytest.raises(SolverNotAvailableError, match=message):
        fitted.optimize(solver=solver)


def test_gurobi_needs_gurobipy(fitted):
    if importlib.util.find_spec("gurobipy") is None:
        with pytest.raises(SolverNotAvailableError, match="solver='gurobi' needs gurobipy"):
            fitted.optimize(solver="gurobi")
    else:
        # With gurobipy installed the name resolves to a Pyomo solver object.
        assert get_pyomo_solver("gurobi") is not None


@pytest.mark.parametrize("solver", ["cbc", "glpk", "scip"])
def test_solver_executable_missing_or_working(fitted, solver):
    installed = pyo.SolverFactory(solver).available(exception_flag=False)
    if installed:
        result = fitted.optimize(solver=solver)
        assert result.status == "optimal"
        assert result.objective == pytest.approx(result.predicted, rel=1e-6, abs=1e-6)
    else:
        with pytest.raises(SolverNotAvailableError, match=rf"Solver '{solver}' is not available"):
            fitted.optimize(solver=solver)


# ------------------------------------------------------------------ no mutation


def test_fit_predict_optimize_do_not_modify_inputs(data):
    X, y = data
    X, y = X.copy(), y.copy()
    input_bounds = np.array([[-1.5, 1.5], [-1.0, 1.0]])
    sub_box = np.array([[-0.5, 0.5], [-0.5, 0.5]])
    output_bounds = np.array([[-10.0, np.inf]])
    output_weights = np.array([1.0])
    arrays = (X, y, input_bounds, sub_box, output_bounds, output_weights)
    originals = [array.copy() for array in arrays]

    estimator = TractableMLPRegressor(**TINY, input_bounds=input_bounds).fit(X, y)
    estimator.predict(X)
    estimator.to_milp(input_bounds=sub_box)
    estimator.optimize(
        input_bounds=sub_box, output_bounds=output_bounds, output_weights=output_weights
    )

    for original, array in zip(originals, arrays):
        np.testing.assert_array_equal(array, original)
    # The estimator keeps its own copy of the box, not the caller's array.
    assert estimator.input_bounds_ is not input_bounds
    assert estimator.get_params()["input_bounds"] is input_bounds


def test_read_only_inputs_are_accepted(data):
    X, y = (array.copy() for array in data)
    sub_box = np.array([[-0.5, 0.5], [-0.5, 0.5]])
    output_bounds = np.array([[-10.0, np.inf]])
    for array in (X, y, sub_box, output_bounds):
        array.setflags(write=False)

    estimator = TractableMLPRegressor(**TINY).fit(X, y)
    predictions = estimator.predict(X)
    result = estimator.optimize(input_bounds=sub_box, output_bounds=output_bounds)

    assert predictions.shape == y.shape
    assert result.status == "optimal"


def test_multi_output_inputs_not_modified(fitted_two_outputs):
    weights = [0.5, -1.0]
    output_bounds = [[-np.inf, np.inf], [-5.0, 5.0]]

    fitted_two_outputs.optimize(
        output_weights=weights, output_bounds=output_bounds, solver="appsi_highs"
    )

    assert weights == [0.5, -1.0]
    assert output_bounds == [[-np.inf, np.inf], [-5.0, 5.0]]
