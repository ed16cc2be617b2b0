"""Interval bounds on the pre-activations of every hidden neuron over an input box.

Interval arithmetic (interval bound propagation): with ``h_{l-1}`` in the box
``[lo, up]``, centre ``c = (lo + up) / 2`` and radius ``r = (up - lo) / 2``, the
pre-activation ``z_l = W_l h_{l-1} + b_l`` lies in ``[L_l, U_l]`` with::

    L_l = W_l c + b_l - |W_l| r,    U_l = W_l c + b_l + |W_l| r

and ``h_l = max(0, z_l)`` lies in ``[max(0, L_l), max(0, U_l)]``. A neuron is
stably inactive when ``U <= 0``, stably active when ``L >= 0`` and ``U > 0``,
and unstable otherwise. Only unstable neurons need a binary variable in the MILP.

The torch version is differentiable, which is what the bound penalties use.
"""

import numpy as np
import torch

from .network import linear_layers


def interval_bounds(network, input_bounds):
    """Pre-activation bounds of each hidden layer of a :class:`ReluNetwork`, in float64.

    Parameters
    ----------
    network : ReluNetwork
    input_bounds : ndarray of shape (n_inputs, 2)

    Returns
    -------
    bounds : list of (L, U) pairs of ndarray, one pair per hidden layer
    """
    lower = input_bounds[:, 0].astype(float)
    upper = input_bounds[:, 1].astype(float)
    bounds = []
    for W, b in zip(network.weights[:-1], network.biases[:-1]):
        centre = W @ ((lower + upper) / 2) + b
        radius = np.abs(W) @ ((upper - lower) / 2)
        L, U = centre - radius, centre + radius
        bounds.append((L, U))
        lower, upper = np.maximum(L, 0.0), np.maximum(U, 0.0)
    return bounds


def output_bounds(network, input_bounds):
    """Interval bounds ``(L, U)`` on the network outputs over the box."""
    layer_bounds = interval_bounds(network, input_bounds)
    if layer_bounds:
        lower = np.maximum(layer_bounds[-1][0], 0.0)
        upper = np.maximum(layer_bounds[-1][1], 0.0)
    else:
        lower, upper = input_bounds[:, 0], input_bounds[:, 1]
    W, b = network.weights[-1], network.biases[-1]
    centre = W @ ((lower + upper) / 2) + b
    radius = np.abs(W) @ ((upper - lower) / 2)
    return centre - radius, centre + radius


def interval_bounds_torch(module, lower, upper):
    """Differentiable pre-activation bounds of each hidden layer of a Linear/ReLU module.

    Parameters
    ----------
    module : torch.nn.Sequential
    lower, upper : torch.Tensor of shape (n_inputs,)
        The input box, in the units of the module's inputs (scaled units during training).

    Returns
    -------
    bounds : list of (L, U) pairs of tensors, one pair per hidden layer
    """
    bounds = []
    for layer in linear_layers(module)[:-1]:
        centre = torch.nn.functional.linear((lower + upper) / 2, layer.weight, layer.bias)
        radius = torch.nn.functional.linear((upper - lower) / 2, layer.weight.abs())
        L, U = centre - radius, centre + radius
        bounds.append((L, U))
        lower, upper = torch.relu(L), torch.relu(U)
    return bounds


def count_unstable(layer_bounds):
    """Number of unstable neurons (``L < 0 < U``) in each layer, as an int array."""
    return np.array([int(np.sum((L < 0) & (U > 0))) for L, U in layer_bounds], dtype=int)
