"""Tests of TractableMLPRegressor as a scikit-learn estimator: fitting, shapes, persistence."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import FAST_TRAINING, grid_points
from sk_relaxreg import TractableMLPRegressor

pytestmark = pytest.mark.filterwarnings("error::sk_relaxreg.SolutionMismatchWarning")


def assert_same_weights(first, second):
    for W_first, W_second in zip(first.network_.weights, second.network_.weights):
        np.testing.assert_array_equal(W_first, W_second)
    for b_first, b_second in zip(first.network_.biases, second.network_.biases):
        np.testing.assert_array_equal(b_first, b_second)


def test_clone_set_params_then_fit(peaks_data):
    X, y = peaks_data
    original = TractableMLPRegressor(hidden_layer_sizes=(8,), max_epochs=4, random_state=0)

    copy = clone(original).set_params(hidden_layer_sizes=(4, 3), max_epochs=2, l2=1e-3)
    copy.fit(X, y)

    assert copy.network_.hidden_sizes == (4, 3)
    assert copy.n_iter_ == 2
    assert len(copy.history_["train_loss"]) == 2
    assert copy.get_params()["l2"] == 1e-3
    # The original keeps its parameters and stays unfitted.
    assert original.get_params()["hidden_layer_sizes"] == (8,)
    assert original.get_params()["l2"] == 0.0
    assert not hasattr(original, "network_")


def test_pipeline_with_standard_scaler(peaks_data):
    X, y = peaks_data
    plain = TractableMLPRegressor(hidden_layer_sizes=(8, 8), **FAST_TRAINING).fit(X, y)

    pipeline = make_pipeline(
        StandardScaler(), TractableMLPRegressor(hidden_layer_sizes=(8, 8), **FAST_TRAINING)
    )
    pipeline.fit(X, y)
    predictions = pipeline.predict(X)

    assert predictions.shape == (len(X),)
    assert pipeline.score(X, y) > 0.5
    # The estimator standardizes X itself, so scaling X first does not change the fit.
    np.testing.assert_allclose(predictions, plain.predict(X), rtol=1e-6, atol=1e-6)


def test_cross_val_score_1d_target(peaks_data):
    X, y = peaks_data
    estimator = TractableMLPRegressor(hidden_layer_sizes=(8, 8), **FAST_TRAINING)

    scores = cross_val_score(estimator, X, y, cv=3)

    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))
    assert scores.mean() > 0.3


@pytest.fixture(scope="module")
def peaks_optimum(peaks_model):
    return peaks_model.optimize()


@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_round_trip_keeps_predictions_and_optimum(
    peaks_model, peaks_optimum, peaks_data, tmp_path, how
):
    X, _ = peaks_data
    if how == "pickle":
        restored = pickle.loads(pickle.dumps(peaks_model))
    else:
        path = tmp_path / "model.joblib"
        joblib.dump(peaks_model, path)
        restored = joblib.load(path)

    np.testing.assert_array_equal(restored.predict(X), peaks_model.predict(X))
    assert restored.n_unstable_ == peaks_model.n_unstable_

    expected = peaks_optimum
    actual = restored.optimize()
    assert actual.status == expected.status == "optimal"
    np.testing.assert_allclose(actual.x, expected.x, rtol=0, atol=1e-9)
    assert actual.objective == pytest.approx(expected.objective, rel=1e-12, abs=1e-12)


def test_same_random_state_same_weights(peaks_data):
    X, y = peaks_data
    params = {"hidden_layer_sizes": (8, 8), "max_epochs": 5, "lr": 1e-2}

    first = TractableMLPRegressor(random_state=7, **params).fit(X, y)
    second = TractableMLPRegressor(random_state=7, **params).fit(X, y)
    other = TractableMLPRegressor(random_state=8, **params).fit(X, y)

    assert_same_weights(first, second)
    assert first.history_["train_loss"] == second.history_["train_loss"]
    assert not np.array_equal(first.network_.weights[0], other.network_.weights[0])


def test_refit_same_estimator_same_weights(peaks_data):
    X, y = peaks_data
    estimator = TractableMLPRegressor(hidden_layer_sizes=(6,), max_epochs=3, random_state=3)

    first_weights = [W.copy() for W in estimator.fit(X, y).network_.weights]
    second_weights = estimator.fit(X, y).network_.weights

    for W_first, W_second in zip(first_weights, second_weights):
        np.testing.assert_array_equal(W_first, W_second)


@pytest.mark.parametrize("n_columns", [None, 1, 2], ids=["1d", "2d-one-column", "2d-two-columns"])
def test_prediction_shape_follows_y(peaks_data, n_columns):
    X, y = peaks_data
    if n_columns is None:
        target = y
    else:
        target = np.column_stack([y, -y])[:, :n_columns]
    estimator = TractableMLPRegressor(hidden_layer_sizes=(4,), max_epochs=2, random_state=0)

    estimator.fit(X, target)

    assert estimator.predict(X).shape == target.shape
    assert estimator.predict(X[:1]).shape == (1,) + target.shape[1:]
    assert estimator.n_outputs_ == (n_columns or 1)


def test_fitted_attributes(peaks_model, peaks_data):
    X, _ = peaks_data

    assert peaks_model.n_features_in_ == 2
    assert peaks_model.n_outputs_ == 1
    np.testing.assert_array_equal(
        peaks_model.input_bounds_, np.column_stack([X.min(axis=0), X.max(axis=0)])
    )
    assert peaks_model.n_iter_ == FAST_TRAINING["max_epochs"]
    assert 1 <= peaks_model.best_epoch_ <= peaks_model.n_iter_
    # The kept weights are those of the epoch with the lowest validation loss.
    valid_loss = peaks_model.history_["valid_loss"]
    assert valid_loss[peaks_model.best_epoch_ - 1] == min(valid_loss)
    for key in ("train_loss", "valid_loss", "l1", "bound_width", "n_unstable"):
        assert len(peaks_model.history_[key]) == peaks_model.n_iter_, key


def test_given_input_bounds_are_used(peaks_data):
    X, y = peaks_data
    box = [[-3.0, 3.0], [-2.5, 2.5]]

    estimator = TractableMLPRegressor(
        hidden_layer_sizes=(4,), max_epochs=2, random_state=0, input_bounds=box
    ).fit(X, y)

    np.testing.assert_array_equal(estimator.input_bounds_, box)
    model = estimator.to_milp()
    for i in range(2):
        assert model.x[i].bounds == tuple(box[i])


def test_multi_output_fit_predict(multi_output_model, peaks_data):
    X, y = peaks_data

    predictions = multi_output_model.predict(X)

    assert predictions.shape == (len(X), 2)
    assert multi_output_model.n_outputs_ == 2
    np.testing.assert_allclose(predictions, multi_output_model.network_.forward(X))
    # Each output is fitted, not only the first.
    second_target = (X[:, 0] - 0.5) ** 2 + X[:, 1] ** 2 - X[:, 1]
    residual = np.mean((predictions[:, 1] - second_target) ** 2)
    assert residual < 0.5 * np.var(second_target)


@pytest.mark.parametrize(
    "output_weights, sense",
    [(0, "min"), (1, "min"), (1, "max"), ([1.0, -1.0], "min"), (np.array([0.5, 2.0]), "max")],
    ids=["index0-min", "index1-min", "index1-max", "list-min", "array-max"],
)
def test_multi_output_optimize(multi_output_model, output_weights, sense):
    result = multi_output_model.optimize(sense=sense, output_weights=output_weights)

    if isinstance(output_weights, int):
        weights = np.eye(2)[output_weights]
    else:
        weights = np.asarray(output_weights, dtype=float)
    assert result.status == "optimal"
    outputs = multi_output_model.predict(result.x[None, :])[0]
    np.testing.assert_allclose(result.predicted_outputs, outputs, rtol=1e-12)
    assert result.objective == pytest.approx(outputs @ weights, rel=1e-6, abs=1e-6)

    grid_values = multi_output_model.predict(grid_points(multi_output_model.input_bounds_))
    grid_values = grid_values @ weights
    tolerance = 1e-4 * max(1.0, abs(result.objective)) + 1e-6
    if sense == "min":
        assert result.objective <= grid_values.min() + tolerance
    else:
        assert result.objective >= grid_values.max() - tolerance


def test_optimize_leaves_estimator_unchanged(peaks_model):
    before = {key: value for key, value in vars(peaks_model).items()}
    weights_before = [W.copy() for W in peaks_model.network_.weights]
    candidates_before = peaks_model.candidate_inputs_.copy()

    peaks_model.optimize(input_bounds=[[-1.0, 1.0], [-1.0, 1.0]], warm_start=True)

    assert vars(peaks_model).keys() == before.keys()
    for key, value in before.items():
        assert vars(peaks_model)[key] is value, key
    for W_before, W_after in zip(weights_before, peaks_model.network_.weights):
        np.testing.assert_array_equal(W_before, W_after)
    np.testing.assert_array_equal(candidates_before, peaks_model.candidate_inputs_)

