"""Each regularizer lowers the quantity it penalizes, compared with an unregularized fit."""

import numpy as np
import pytest
import torch

from conftest import FAST_TRAINING
from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg import regularizers
from sk_relaxreg.bounds import interval_bounds_torch

#: Weights large enough for a clear effect in 30 epochs. Penalties are computed in
#: standardized units, so these weights do not depend on the units of the data.
PENALTY_WEIGHTS = {
    "l1": 1e-2,
    "l2": 1e-2,
    "bound_width": 0.1,
    "stable_neuron": 0.1,
    "relu_stability": 0.1,
}

#: validation_fraction=0 keeps the weights of the last epoch, so the last row of
#: history_ describes the fitted network.
SETTINGS = {"hidden_layer_sizes": (16, 16), "validation_fraction": 0.0, **FAST_TRAINING}


def penalties_of(estimator):
    """Every penalty of the fitted module, in the scaled units it was trained in."""
    module = estimator.net_.module_
    with torch.no_grad():
        layer_bounds = interval_bounds_torch(
            module, estimator.net_.box_lower, estimator.net_.box_upper
        )
        names = list(regularizers.PENALTY_FUNCTIONS)
        values = regularizers.penalty_values(module, layer_bounds, names)
    return {name: float(value) for name, value in values.items()}


@pytest.fixture(scope="module")
def unregularized(peaks_data):
    X, y = peaks_data
    return TractableMLPRegressor(**SETTINGS).fit(X, y)


@pytest.mark.parametrize("name", list(PENALTY_WEIGHTS))
def test_regularizer_lowers_its_target(unregularized, peaks_data, name):
    X, y = peaks_data
    regularized = TractableMLPRegressor(**SETTINGS, **{name: PENALTY_WEIGHTS[name]}).fit(X, y)

    baseline = penalties_of(unregularized)[name]
    value = penalties_of(regularized)[name]

    # relu_stability can be negative, so the margin is taken from its magnitude.
    assert value < baseline - 0.2 * abs(baseline), f"{name}: {value} vs unregularized {baseline}"
    assert regularized.history_[name][-1] == pytest.approx(value, rel=1e-5, abs=1e-6)
    # The penalty enters the training loss; relu_stability may make it negative.
    assert regularized.history_["penalty"][-1] != 0.0
    assert regularized.score(X, y) > 0.3


@pytest.mark.parametrize("name", ["bound_width", "stable_neuron", "relu_stability"])
def test_bound_penalty_reduces_unstable_neurons(unregularized, peaks_data, name):
    X, y = peaks_data

    regularized = TractableMLPRegressor(**SETTINGS, **{name: PENALTY_WEIGHTS[name]}).fit(X, y)

    assert regularized.n_unstable_ < unregularized.n_unstable_


def test_unregularized_loss_has_no_penalty(unregularized):
    np.testing.assert_array_equal(unregularized.history_["penalty"], 0.0)
    # The penalties are still recorded, so an unregularized fit shows how its bounds evolve.
    assert np.all(np.array(unregularized.history_["bound_width"]) > 0.0)


def test_penalties_independent_of_data_units(peaks_data):
    X, y = peaks_data
    settings = {**SETTINGS, "bound_width": PENALTY_WEIGHTS["bound_width"]}
    shift = np.array([400.0, -700.0])

    standard = TractableMLPRegressor(**settings).fit(X, y)
    raw = TractableMLPRegressor(**settings).fit(100.0 * X + shift, 50.0 * y + 1000.0)

    # Standardization maps both data sets to the same scaled data, so training is the same.
    for key in ("bound_width", "l1", "n_unstable", "train_loss"):
        np.testing.assert_allclose(raw.history_[key], standard.history_[key], rtol=1e-5)
    assert raw.n_unstable_ == standard.n_unstable_
    np.testing.assert_allclose(
        raw.predict(100.0 * X + shift), 50.0 * standard.predict(X) + 1000.0, rtol=1e-9
    )


def test_penalty_formulas_on_known_bounds():
    # Two neurons: stable [1, 3] and unstable [-2, 4].
    lower = torch.tensor([1.0, -2.0], dtype=torch.float64)
    upper = torch.tensor([3.0, 4.0], dtype=torch.float64)
    layer_bounds = [(lower, upper)]

    assert float(regularizers.bound_width(layer_bounds)) == pytest.approx((2.0 + 6.0) / 2)
    assert float(regularizers.stable_neuron(layer_bounds)) == pytest.approx((0.0 + 2.0) / 2)
    expected = (-np.tanh(1.0 + 3.0) - np.tanh(1.0 - 8.0)) / 2
    assert float(regularizers.relu_stability(layer_bounds)) == pytest.approx(expected)


def test_weight_penalties_count_biases():
    module = torch.nn.Sequential(torch.nn.Linear(2, 1))
    with torch.no_grad():
        module[0].weight.copy_(torch.tensor([[1.0, -2.0]]))
        module[0].bias.copy_(torch.tensor([3.0]))

    assert float(regularizers.l1(module).detach()) == pytest.approx(6.0)
    assert float(regularizers.l2(module).detach()) == pytest.approx(14.0)
