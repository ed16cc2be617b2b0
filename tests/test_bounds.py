"""Interval bounds are sound, agree between numpy and torch, and set the MILP's binary count."""

import itertools

import numpy as np
import pyomo.environ as pyo
import pytest
import torch

from conftest import FAST_TRAINING
from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.bounds import count_unstable, interval_bounds, interval_bounds_torch, output_bounds
from sk_relaxreg.highs_milp import build_milp_arrays
from sk_relaxreg.network import AffineScaling, ReluNetwork, build_module, linear_layers

N_SAMPLES = 20000


@pytest.fixture(scope="module")
def deep_raw_units_model(raw_units_data):
    X, Y = raw_units_data
    return TractableMLPRegressor(hidden_layer_sizes=(6, 6, 6), **FAST_TRAINING).fit(X, Y)


@pytest.fixture(params=["peaks", "raw_units"])
def fitted(request, peaks_model, deep_raw_units_model):
    return peaks_model if request.param == "peaks" else deep_raw_units_model


def box_samples(box, n_samples, seed=0):
    """Uniform points of the box plus all its corners, where bounds are most often tight."""
    rng = np.random.default_rng(seed)
    uniform = rng.uniform(box[:, 0], box[:, 1], size=(n_samples, len(box)))
    corners = np.array(list(itertools.product(*box)))
    return np.vstack([uniform, corners])


def network_from_module(module):
    """The float64 ReluNetwork with the module's own weights, without any scaling."""
    layers = linear_layers(module)
    return ReluNetwork(
        weights=tuple(layer.weight.detach().double().numpy() for layer in layers),
        biases=tuple(layer.bias.detach().double().numpy() for layer in layers),
    )


def test_sampled_preactivations_within_bounds(fitted):
    points = box_samples(fitted.input_bounds_, N_SAMPLES)

    outputs, preactivations = fitted.network_.forward(points, return_preactivations=True)

    for layer, (z, (L, U)) in enumerate(zip(preactivations, fitted.layer_bounds_)):
        slack = 1e-9 * np.maximum(1.0, np.maximum(np.abs(L), np.abs(U)))
        assert np.all(z >= L - slack), f"layer {layer}: a sample lies below L"
        assert np.all(z <= U + slack), f"layer {layer}: a sample lies above U"
    lower, upper = output_bounds(fitted.network_, fitted.input_bounds_)
    assert np.all(outputs >= lower - 1e-9 * np.maximum(1.0, np.abs(lower)))
    assert np.all(outputs <= upper + 1e-9 * np.maximum(1.0, np.abs(upper)))


def test_first_layer_bounds_are_exact(fitted):
    # An affine function reaches its extremes over a box at corners, and interval
    # arithmetic is exact for a single affine layer.
    corners = np.array(list(itertools.product(*fitted.input_bounds_)))

    _, preactivations = fitted.network_.forward(corners, return_preactivations=True)

    L, U = fitted.layer_bounds_[0]
    scale = np.maximum(1.0, np.abs(U - L))
    np.testing.assert_array_less(np.abs(preactivations[0].min(axis=0) - L), 1e-9 * scale)
    np.testing.assert_array_less(np.abs(preactivations[0].max(axis=0) - U), 1e-9 * scale)


def test_numpy_and_torch_bounds_agree_exactly():
    torch.manual_seed(0)
    module = build_module(3, (7, 5, 4), 2).double()
    box = np.array([[-1.0, 2.0], [0.5, 0.75], [-3.0, -1.0]])

    numpy_bounds = interval_bounds(network_from_module(module), box)
    torch_bounds = interval_bounds_torch(
        module, torch.as_tensor(box[:, 0]), torch.as_tensor(box[:, 1])
    )

    assert len(numpy_bounds) == len(torch_bounds) == 3
    for (L, U), (L_torch, U_torch) in zip(numpy_bounds, torch_bounds):
        np.testing.assert_allclose(L_torch.detach().numpy(), L, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(U_torch.detach().numpy(), U, rtol=1e-12, atol=1e-12)


def test_torch_bounds_are_differentiable():
    torch.manual_seed(1)
    module = build_module(2, (4, 4), 1)
    lower, upper = -torch.ones(2), torch.ones(2)

    width = sum((U - L).sum() for L, U in interval_bounds_torch(module, lower, upper))
    width.backward()

    first = linear_layers(module)[0]
    assert first.weight.grad is not None
    assert torch.any(first.weight.grad != 0)


def test_scaled_and_original_unit_bounds_agree(fitted):
    # The module is trained on scaled inputs. Folding the scaling into the first layer keeps
    # every hidden pre-activation, so the bounds agree up to the module's float32 precision.
    torch_bounds = interval_bounds_torch(
        fitted.net_.module_, fitted.net_.box_lower, fitted.net_.box_upper
    )

    for (L, U), (L_torch, U_torch) in zip(fitted.layer_bounds_, torch_bounds):
        scale = max(1.0, np.abs(L).max(), np.abs(U).max())
        np.testing.assert_allclose(L_torch.detach().numpy(), L, rtol=0, atol=1e-5 * scale)
        np.testing.assert_allclose(U_torch.detach().numpy(), U, rtol=0, atol=1e-5 * scale)


def test_n_unstable_matches_layer_bounds(fitted):
    per_layer = [int(np.sum((L < 0) & (U > 0))) for L, U in fitted.layer_bounds_]

    assert fitted.n_unstable_per_layer_.tolist() == per_layer
    assert fitted.n_unstable_ == sum(per_layer)
    assert 0 < fitted.n_unstable_ <= sum(fitted.network_.hidden_sizes)
    assert count_unstable(fitted.layer_bounds_).tolist() == per_layer


def test_milp_binaries_equal_n_unstable(fitted):
    model = fitted.to_milp(bounds="interval")
    arrays = build_milp_arrays(
        fitted.network_, fitted.input_bounds_, fitted.layer_bounds_, np.ones(fitted.n_outputs_)
    )

    n_pyomo_binaries = sum(1 for v in model.component_data_objects(pyo.Var) if v.is_binary())
    assert n_pyomo_binaries == fitted.n_unstable_
    assert arrays.n_binaries == fitted.n_unstable_


def test_history_counts_unstable_of_final_weights(peaks_data):
    X, y = peaks_data
    # Without a validation split the fitted weights are those of the last epoch.
    estimator = TractableMLPRegressor(
        hidden_layer_sizes=(8, 8), validation_fraction=0.0, **FAST_TRAINING
    ).fit(X, y)

    assert estimator.history_["n_unstable"][-1] == estimator.n_unstable_


def test_unstable_count_with_neurons_of_each_kind():
    # Over x in [-1, 1]: x + 2 is stably active, x - 2 stably inactive, x unstable.
    network = ReluNetwork(
        weights=(np.array([[1.0], [1.0], [1.0]]), np.array([[1.0, 1.0, 1.0]])),
        biases=(np.array([2.0, -2.0, 0.0]), np.zeros(1)),
    )

    (L, U), = interval_bounds(network, np.array([[-1.0, 1.0]]))

    np.testing.assert_array_equal(L, [1.0, -3.0, -1.0])
    np.testing.assert_array_equal(U, [3.0, -1.0, 1.0])
    assert count_unstable([(L, U)]).tolist() == [1]


def test_scaling_keeps_constant_columns():
    data = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])

    scaling = AffineScaling.standardize(data)

    assert scaling.scale[1] == 1.0
    np.testing.assert_allclose(scaling.inverse_transform(scaling.transform(data)), data)
