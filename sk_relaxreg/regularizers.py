"""Penalties added to the training loss: weight norms and bound-based tractability terms.

Every function takes the live torch module (and, for the bound penalties, the
interval bounds of its hidden pre-activations over the input box, computed by
:func:`sk_relaxreg.bounds.interval_bounds_torch`) and returns a scalar tensor
that autograd differentiates. With ``[L_j, U_j]`` the bounds of hidden neuron
``j`` and ``N`` the number of hidden neurons:

- ``bound_width``    = (1/N) sum_j (U_j - L_j)
- ``stable_neuron``  = (1/N) sum_j min(relu(-L_j), relu(U_j)), zero for stable neurons
- ``relu_stability`` = (1/N) sum_j -tanh(1 + L_j U_j), the ReLU stability loss of
  Xiao et al., "Training for faster adversarial robustness verification via
  inducing ReLU stability", ICLR 2019
- ``l1`` = sum of |theta| and ``l2`` = sum of theta^2 over all parameters,
  biases included, unnormalised (the convention of Tsay, arXiv 2604.22746)

Bounds are computed in the scaled units the module trains in, so the penalty
weights do not depend on the units of the user's data.
"""

import torch

#: Names of the penalties computed from interval bounds.
BOUND_PENALTIES = ("bound_width", "stable_neuron", "relu_stability")

#: Names of the penalties computed from the parameters alone.
WEIGHT_PENALTIES = ("l1", "l2")


def _stack(layer_bounds):
    lower = torch.cat([L for L, _ in layer_bounds])
    upper = torch.cat([U for _, U in layer_bounds])
    return lower, upper


def bound_width(layer_bounds):
    """Mean width ``U - L`` of the hidden pre-activation bounds."""
    lower, upper = _stack(layer_bounds)
    return (upper - lower).mean()


def stable_neuron(layer_bounds):
    """Mean of ``min(relu(-L), relu(U))``, the distance of each neuron from being stable."""
    lower, upper = _stack(layer_bounds)
    return torch.minimum(torch.relu(-lower), torch.relu(upper)).mean()


def relu_stability(layer_bounds):
    """Mean of ``-tanh(1 + L * U)`` (Xiao et al., 2019)."""
    lower, upper = _stack(layer_bounds)
    return (-torch.tanh(1.0 + lower * upper)).mean()


def l1(module):
    """Sum of absolute values of all parameters, biases included."""
    return sum(p.abs().sum() for p in module.parameters())


def l2(module):
    """Sum of squares of all parameters, biases included."""
    return sum((p * p).sum() for p in module.parameters())


PENALTY_FUNCTIONS = {
    "bound_width": bound_width,
    "stable_neuron": stable_neuron,
    "relu_stability": relu_stability,
    "l1": l1,
    "l2": l2,
}


def penalty_values(module, layer_bounds, names):
    """Compute the named penalties; ``layer_bounds`` may be None if no bound penalty is named."""
    values = {}
    for name in names:
        if name in BOUND_PENALTIES:
            values[name] = PENALTY_FUNCTIONS[name](layer_bounds) if layer_bounds else module_zero(module)
        else:
            values[name] = PENALTY_FUNCTIONS[name](module)
    return values


def module_zero(module):
    """Return a zero scalar on the module's device, for networks without hidden layers."""
    return next(module.parameters()).new_zeros(())
