"""A starting solution for the MILP: the best of many cheap forward passes.

HiGHS can find feasible points late on these models: on three unregularized
2-50-50-50-1 peaks nets it found none in 300 s without a start (see
docs/benchmarks.md). Candidates are the training inputs and uniform random
points of the box. The best one by the objective, among those meeting any
output bounds, is returned.
"""

import numpy as np


def best_candidate(
    network,
    input_bounds,
    output_weights,
    sense="min",
    candidates=None,
    n_random=1000,
    output_bounds=None,
    random_state=0,
):
    """Return ``(x, objective)`` of the best candidate input, or ``(None, None)``.

    Parameters
    ----------
    network : ReluNetwork
    input_bounds : ndarray of shape (n_inputs, 2)
    output_weights : ndarray of shape (n_outputs,)
    sense : {"min", "max"}
    candidates : ndarray of shape (n_candidates, n_inputs), optional
        Extra points such as the training inputs; rows outside the box are
        clipped into it.
    n_random : int, default=1000
        Number of uniform random points of the box to add.
    output_bounds : ndarray of shape (n_outputs, 2), optional
        Candidates whose outputs violate these bounds are discarded.
    random_state : int, default=0
    """
    rng = np.random.default_rng(random_state)
    lower, upper = input_bounds[:, 0], input_bounds[:, 1]
    points = [lower + (upper - lower) * rng.random((n_random, len(lower)))]
    if candidates is not None and len(candidates):
        points.append(np.clip(candidates, lower, upper))
    points = np.vstack(points)
    if not len(points):
        return None, None

    outputs = network.forward(points)
    if output_bounds is not None:
        feasible = np.all((outputs >= output_bounds[:, 0]) & (outputs <= output_bounds[:, 1]), axis=1)
        points, outputs = points[feasible], outputs[feasible]
        if not len(points):
            return None, None

    objective = outputs @ output_weights
    best = int(np.argmin(objective) if sense == "min" else np.argmax(objective))
    return points[best], float(objective[best])
