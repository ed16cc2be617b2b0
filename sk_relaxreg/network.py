"""The ReLU network: a torch module for training and a float64 copy in original units.

Notation used throughout the package. A network with hidden layers ``1..K``
maps an input ``x`` (``n_features``) to an output ``y`` (``n_outputs``)::

    h_0 = x
    z_l = W_l h_{l-1} + b_l,   h_l = max(0, z_l)      for l = 1..K
    y   = W_{K+1} h_K + b_{K+1}

``W_l`` has shape ``(n_l, n_{l-1})``, as in ``torch.nn.Linear``.
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class ReluNetwork:
    """A fully connected ReLU network in float64, in the user's original units.

    Parameters
    ----------
    weights : tuple of ndarray
        ``weights[l]`` has shape ``(n_out, n_in)``; the last entry is the output layer.
    biases : tuple of ndarray
        ``biases[l]`` has shape ``(n_out,)``.
    """

    weights: tuple
    biases: tuple

    @property
    def n_inputs(self):
        return self.weights[0].shape[1]

    @property
    def n_outputs(self):
        return self.weights[-1].shape[0]

    @property
    def hidden_sizes(self):
        return tuple(w.shape[0] for w in self.weights[:-1])

    def forward(self, X, return_preactivations=False):
        """Evaluate the network on the rows of ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_inputs)
        return_preactivations : bool, default=False
            Also return the list of hidden pre-activations ``z_l``, each of shape
            ``(n_samples, n_l)``.

        Returns
        -------
        y : ndarray of shape (n_samples, n_outputs)
        preactivations : list of ndarray, only if ``return_preactivations``
        """
        h = np.asarray(X, dtype=float)
        preactivations = []
        for W, b in zip(self.weights[:-1], self.biases[:-1]):
            z = h @ W.T + b
            preactivations.append(z)
            h = np.maximum(z, 0.0)
        y = h @ self.weights[-1].T + self.biases[-1]
        if return_preactivations:
            return y, preactivations
        return y


def build_module(n_inputs, hidden_layer_sizes, n_outputs):
    """Build the ``nn.Sequential`` of Linear and ReLU layers that skorch trains."""
    layers = []
    width_in = n_inputs
    for width in hidden_layer_sizes:
        layers += [nn.Linear(width_in, width), nn.ReLU()]
        width_in = width
    layers.append(nn.Linear(width_in, n_outputs))
    return nn.Sequential(*layers)


def linear_layers(module):
    """Return the ``nn.Linear`` layers of a Linear/ReLU stack, in order."""
    return [layer for layer in module if isinstance(layer, nn.Linear)]


@dataclass(frozen=True)
class AffineScaling:
    """Per-column affine map ``scaled = (raw - offset) / scale`` used to train in scaled units."""

    offset: np.ndarray
    scale: np.ndarray

    @classmethod
    def standardize(cls, data):
        """Fit mean/std scaling; constant columns get scale 1 so nothing is divided by zero."""
        offset = data.mean(axis=0)
        scale = data.std(axis=0)
        scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(offset)), scale, 1.0)
        return cls(offset=offset, scale=scale)

    def transform(self, data):
        return (data - self.offset) / self.scale

    def inverse_transform(self, data):
        return data * self.scale + self.offset


def network_in_original_units(module, x_scaling, y_scaling):
    """Fold the input and output scaling into the first and last layers.

    The trained module computes ``y_s = g((x - m_x) / s_x)`` and the user's
    output is ``y = s_y * y_s + m_y``. Writing ``W_1' = W_1 diag(1/s_x)``,
    ``b_1' = b_1 - W_1' m_x``, ``W_out' = diag(s_y) W_out`` and
    ``b_out' = s_y * b_out + m_y`` gives a network with the same hidden
    pre-activations that maps raw ``x`` to raw ``y``, so the MILP and every
    bound are stated in original units.
    """
    weights = []
    biases = []
    for layer in linear_layers(module):
        weights.append(layer.weight.detach().cpu().double().numpy().copy())
        biases.append(layer.bias.detach().cpu().double().numpy().copy())

    weights[0] = weights[0] / x_scaling.scale[None, :]
    biases[0] = biases[0] - weights[0] @ x_scaling.offset
    biases[-1] = y_scaling.scale * biases[-1] + y_scaling.offset
    weights[-1] = y_scaling.scale[:, None] * weights[-1]
    return ReluNetwork(weights=tuple(weights), biases=tuple(biases))


def module_dtype(module):
    """Return the floating point dtype of the module's parameters."""
    return next(module.parameters()).dtype


def as_tensor(array, module):
    """Convert a numpy array to a tensor on the module's device and dtype."""
    parameter = next(module.parameters())
    return torch.as_tensor(np.asarray(array), dtype=parameter.dtype, device=parameter.device)
