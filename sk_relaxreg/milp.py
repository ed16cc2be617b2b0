"""The big-M MILP of a ReLU network as a Pyomo model.

Notation as in :mod:`sk_relaxreg.network`; ``[L_lj, U_lj]`` are the bounds of
the pre-activation ``z_lj`` of hidden neuron ``j`` of layer ``l`` over the
input box ``[x_lo, x_up]`` (interval bounds from :mod:`sk_relaxreg.bounds`).
Each neuron is one of three kinds, and only the unstable kind costs a binary:

- stably inactive, ``U_lj <= 0``: ``h_lj = 0``; the neuron is removed and
  contributes nothing to the next layer.
- stably active, ``L_lj >= 0`` and ``U_lj > 0``: ``h_lj = z_lj`` (one linear
  equality). A neuron with ``L_lj = U_lj = 0`` always outputs 0 and counts as
  stably inactive.
- unstable, ``L_lj < 0 < U_lj``: one binary ``delta_lj`` and the four big-M rows::

      h_lj >= 0                                (variable bound)
      h_lj >= z_lj
      h_lj <= z_lj - L_lj (1 - delta_lj)
      h_lj <= U_lj delta_lj

  With ``delta = 1`` these force ``h = z >= 0``; with ``delta = 0`` they force
  ``h = 0 >= z``. The big-M constants are each neuron's own ``-L`` and ``U``.

The full system built on a block ``B``::

    x_lo <= B.x[i] <= x_up                      inputs, original units
    B.z[l,j] = sum_i W_l[j,i] h_{l-1}[i] + b_l[j]   for kept neurons (affine rows)
    L_lj <= B.z[l,j] <= U_lj,  max(0, L_lj) <= B.h[l,j] <= max(0, U_lj)
    (stably active)  B.h[l,j] = B.z[l,j]
    (unstable)       the big-M rows above with B.delta[l,j] in {0, 1}
    B.y[k] = sum_j W_out[k,j] h_K[j] + b_out[k]      outputs, original units

where ``h_0 = B.x`` and ``h_{l-1}`` runs over the kept neurons of layer
``l-1`` only. Layers are numbered from 0 in the model components. No
objective is added.
"""

import numpy as np
import pyomo.environ as pyo

from .bounds import interval_bounds, output_bounds


def classify_neurons(layer_bounds):
    """Split the neurons of each layer into inactive, active and unstable index arrays.

    Returns
    -------
    kinds : list of dict
        Per hidden layer, ``{"active": idx, "unstable": idx, "kept": idx}`` where
        ``kept`` is the sorted union of active and unstable neurons.
    """
    kinds = []
    for L, U in layer_bounds:
        # L = U = 0 is inactive, not active: the neuron is left out, so no row may refer to it.
        active = np.flatnonzero((L >= 0) & (U > 0))
        unstable = np.flatnonzero((L < 0) & (U > 0))
        kept = np.flatnonzero(U > 0)
        kinds.append({"active": active, "unstable": unstable, "kept": kept})
    return kinds


def add_network_to_block(block, network, input_bounds, layer_bounds=None):
    """Add the big-M formulation of ``network`` over ``input_bounds`` to a Pyomo block.

    Parameters
    ----------
    block : pyomo Block or ConcreteModel
        Receives components ``x``, ``y``, ``z``, ``h``, ``delta`` and the
        constraints listed in the module docstring.
    network : ReluNetwork
        Weights in original units.
    input_bounds : ndarray of shape (n_inputs, 2)
    layer_bounds : list of (L, U), optional
        Pre-activation bounds valid over ``input_bounds``; computed by interval
        arithmetic when omitted. Tighter valid bounds give a tighter MILP.

    Returns
    -------
    block
    """
    if layer_bounds is None:
        layer_bounds = interval_bounds(network, input_bounds)
    kinds = classify_neurons(layer_bounds)
    y_lower, y_upper = output_bounds(network, input_bounds)

    block.inputs = pyo.Set(initialize=range(network.n_inputs), ordered=True)
    block.outputs = pyo.Set(initialize=range(network.n_outputs), ordered=True)
    kept = [(l, int(j)) for l, kind in enumerate(kinds) for j in kind["kept"]]
    unstable = [(l, int(j)) for l, kind in enumerate(kinds) for j in kind["unstable"]]
    active = [(l, int(j)) for l, kind in enumerate(kinds) for j in kind["active"]]
    block.neurons = pyo.Set(initialize=kept, dimen=2, ordered=True)
    block.unstable_neurons = pyo.Set(initialize=unstable, dimen=2, ordered=True)
    block.active_neurons = pyo.Set(initialize=active, dimen=2, ordered=True)

    block.x = pyo.Var(block.inputs, bounds=lambda b, i: tuple(input_bounds[i]))
    block.z = pyo.Var(
        block.neurons,
        bounds=lambda b, l, j: (layer_bounds[l][0][j], layer_bounds[l][1][j]),
    )
    block.h = pyo.Var(
        block.neurons,
        bounds=lambda b, l, j: (max(0.0, layer_bounds[l][0][j]), max(0.0, layer_bounds[l][1][j])),
    )
    block.delta = pyo.Var(block.unstable_neurons, domain=pyo.Binary)
    block.y = pyo.Var(block.outputs, bounds=lambda b, k: (y_lower[k], y_upper[k]))

    # h_{l-1} as a list of (variable, index in the weight matrix) over kept neurons.
    def previous_layer(l):
        if l == 0:
            return [(block.x[i], i) for i in range(network.n_inputs)]
        return [(block.h[l - 1, int(i)], int(i)) for i in kinds[l - 1]["kept"]]

    def affine_rule(b, l, j):
        W, bias = network.weights[l], network.biases[l]
        terms = pyo.quicksum(W[j, i] * var for var, i in previous_layer(l) if W[j, i] != 0.0)
        return b.z[l, j] == terms + bias[j]

    block.affine = pyo.Constraint(block.neurons, rule=affine_rule)
    block.active_relu = pyo.Constraint(block.active_neurons, rule=lambda b, l, j: b.h[l, j] == b.z[l, j])
    block.relu_lower = pyo.Constraint(
        block.unstable_neurons, rule=lambda b, l, j: b.h[l, j] >= b.z[l, j]
    )
    block.relu_upper_z = pyo.Constraint(
        block.unstable_neurons,
        rule=lambda b, l, j: b.h[l, j]
        <= b.z[l, j] - layer_bounds[l][0][j] * (1 - b.delta[l, j]),
    )
    block.relu_upper_delta = pyo.Constraint(
        block.unstable_neurons,
        rule=lambda b, l, j: b.h[l, j] <= layer_bounds[l][1][j] * b.delta[l, j],
    )

    n_hidden = len(layer_bounds)

    def output_rule(b, k):
        W, bias = network.weights[-1], network.biases[-1]
        terms = pyo.quicksum(W[k, i] * var for var, i in previous_layer(n_hidden) if W[k, i] != 0.0)
        return b.y[k] == terms + bias[k]

    block.output = pyo.Constraint(block.outputs, rule=output_rule)
    return block


def to_pyomo_model(network, input_bounds, layer_bounds=None):
    """Return a new ``ConcreteModel`` holding only the network formulation (no objective)."""
    model = pyo.ConcreteModel(name="relu_network")
    add_network_to_block(model, network, input_bounds, layer_bounds)
    return model


def embed_network(model, network, input_bounds, inputs, outputs, name="network", layer_bounds=None):
    """Add the network to the user's model as a sub-block linked to their variables.

    Creates ``model.<name>`` (a Block holding the formulation) and two
    constraint lists ``model.<name>_link_inputs`` / ``model.<name>_link_outputs``
    with ``inputs[i] == block.x[i]`` and ``outputs[k] == block.y[k]``.

    Parameters
    ----------
    model : pyomo Block or ConcreteModel
    network : ReluNetwork
    input_bounds : ndarray of shape (n_inputs, 2)
    inputs : sequence of Pyomo variables or expressions, length n_inputs
        An indexed Var is accepted and read in index order.
    outputs : sequence of Pyomo variables, length n_outputs
    name : str, default="network"
        Name of the new block; must not already exist on ``model``.
    layer_bounds : list of (L, U), optional

    Returns
    -------
    block : pyomo Block
    """
    inputs = _as_list(inputs, "inputs")
    outputs = _as_list(outputs, "outputs")
    if len(inputs) != network.n_inputs:
        raise ValueError(
            f"inputs has {len(inputs)} entries but the network takes {network.n_inputs} "
            f"features; pass one Pyomo variable per feature, in training column order."
        )
    if len(outputs) != network.n_outputs:
        raise ValueError(
            f"outputs has {len(outputs)} entries but the network has {network.n_outputs} "
            f"outputs; pass one Pyomo variable per output."
        )
    if model.component(name) is not None:
        raise ValueError(
            f"The model already has a component named {name!r}; pass another name=."
        )

    block = pyo.Block(concrete=True)
    model.add_component(name, block)
    add_network_to_block(block, network, input_bounds, layer_bounds)
    model.add_component(
        f"{name}_link_inputs",
        pyo.Constraint(range(len(inputs)), rule=lambda m, i: inputs[i] == block.x[i]),
    )
    model.add_component(
        f"{name}_link_outputs",
        pyo.Constraint(range(len(outputs)), rule=lambda m, k: outputs[k] == block.y[k]),
    )
    return block


def _as_list(variables, name):
    if hasattr(variables, "is_indexed") and variables.is_indexed():
        return [variables[index] for index in variables.index_set()]
    if hasattr(variables, "is_indexed"):
        return [variables]
    try:
        return list(variables)
    except TypeError as exc:
        raise TypeError(
            f"{name} must be a Pyomo Var or a sequence of Pyomo variables; got "
            f"{type(variables).__name__}."
        ) from exc


def model_size(block):
    """Count variables, binaries and constraints of a Pyomo block (active components only)."""
    n_variables = sum(1 for _ in block.component_data_objects(pyo.Var, descend_into=True))
    n_binaries = sum(
        1 for v in block.component_data_objects(pyo.Var, descend_into=True) if v.is_binary()
    )
    n_constraints = sum(
        1 for _ in block.component_data_objects(pyo.Constraint, active=True, descend_into=True)
    )
    return {"n_variables": n_variables, "n_binaries": n_binaries, "n_constraints": n_constraints}
