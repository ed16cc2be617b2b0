"""Shared data sets and fitted models for the test suite."""

import numpy as np
import pytest
import torch

from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.datasets import make_peaks

# The networks under test are tiny, so a second torch thread only adds synchronisation.
# On a busy 2-core machine two threads made a 30-epoch fit about eight times slower.
torch.set_num_threads(1)

#: Hyperparameters shared by the small test networks: a large learning rate so that a
#: few epochs fit the data well enough for the checks that need a reasonable fit.
FAST_TRAINING = {"max_epochs": 30, "lr": 1e-2, "random_state": 0}

#: The box of the raw-units data set, far from the origin in both features.
RAW_UNITS_BOX = np.array([[300.0, 500.0], [-800.0, -600.0]])


def smooth_targets(X):
    """Return two smooth outputs of the raw-units inputs, with offsets in the thousands."""
    u = (X[:, 0] - 400.0) / 50.0
    v = (X[:, 1] + 700.0) / 50.0
    first = 1000.0 + 30.0 * np.sin(u) * np.cos(v) + 5.0 * u * v
    second = -2000.0 + 40.0 * np.exp(-(u**2 + v**2) / 2.0) - 3.0 * u
    return np.column_stack([first, second])


@pytest.fixture(scope="session")
def peaks_data():
    """300 samples of MATLAB's peaks function on [-2, 2]^2."""
    return make_peaks(n_samples=300, random_state=0)


@pytest.fixture(scope="session")
def peaks_model(peaks_data):
    """A fitted 2-16-16-1 network on the peaks data; tests must not modify it."""
    X, y = peaks_data
    return TractableMLPRegressor(hidden_layer_sizes=(16, 16), **FAST_TRAINING).fit(X, y)


@pytest.fixture(scope="session")
def raw_units_data():
    """200 inputs uniform in [300, 500] x [-800, -600] with two outputs in the thousands."""
    rng = np.random.default_rng(0)
    X = rng.uniform(RAW_UNITS_BOX[:, 0], RAW_UNITS_BOX[:, 1], size=(200, 2))
    return X, smooth_targets(X)


@pytest.fixture(scope="session")
def multi_output_model(peaks_data):
    """A fitted 2-12-12-2 network whose outputs are peaks and a tilted bowl on [-2, 2]^2."""
    X, y = peaks_data
    Y = np.column_stack([y, (X[:, 0] - 0.5) ** 2 + X[:, 1] ** 2 - X[:, 1]])
    return TractableMLPRegressor(hidden_layer_sizes=(12, 12), **FAST_TRAINING).fit(X, Y)


def grid_points(box, n_per_axis=401):
    """Return the points of a regular ``n_per_axis`` x ``n_per_axis`` grid over a 2-D box."""
    first = np.linspace(box[0, 0], box[0, 1], n_per_axis)
    second = np.linspace(box[1, 0], box[1, 1], n_per_axis)
    mesh = np.meshgrid(first, second, indexing="ij")
    return np.column_stack([axis.ravel() for axis in mesh])
