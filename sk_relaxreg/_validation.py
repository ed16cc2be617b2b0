"""Input checks shared by the public entry points."""

import numbers

import numpy as np


def _numeric_array(value, rule):
    """Return ``value`` as a new float array, or raise ValueError starting with ``rule``.

    numpy would turn numeric strings such as ``"1.5"`` into floats; they are
    rejected here like any other non-number.
    """
    message = f"{rule}; got {value!r}."
    try:
        raw = np.asarray(value)
        array = np.array(value, dtype=float, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(message) from exc
    if raw.dtype.kind in "US" or (
        raw.dtype == object and any(isinstance(v, (str, bytes)) for v in raw.ravel())
    ):
        raise ValueError(message)
    return array


def check_input_bounds(input_bounds, n_features, name="input_bounds"):
    """Validate a box and return it as a float array of shape (n_features, 2).

    Parameters
    ----------
    input_bounds : array-like of shape (n_features, 2) or sequence of (lower, upper) pairs
        One ``(lower, upper)`` pair per feature, in original units.
    n_features : int
        Number of features the network takes.
    name : str, default="input_bounds"
        Parameter name used in error messages.

    Returns
    -------
    bounds : ndarray of shape (n_features, 2)
        A new array; the caller's object is never modified.

    Raises
    ------
    ValueError
        If a bound is not a number (strings included), the shape is wrong, a
        bound is NaN or infinite, or a lower bound exceeds its upper bound.
    """
    bounds = _numeric_array(
        input_bounds, f"{name} must be numeric (lower, upper) pairs, one per feature"
    )

    if bounds.ndim == 1 and bounds.shape == (2,) and n_features == 1:
        bounds = bounds.reshape(1, 2)
    if bounds.ndim != 2 or bounds.shape != (n_features, 2):
        raise ValueError(
            f"{name} must have shape (n_features, 2) = ({n_features}, 2), one "
            f"(lower, upper) pair per feature; got shape {bounds.shape}."
        )

    if not np.all(np.isfinite(bounds)):
        bad = [i for i in range(n_features) if not np.all(np.isfinite(bounds[i]))]
        raise ValueError(
            f"{name} must be finite because the MILP needs a bounded box; feature(s) "
            f"{bad} have bounds {bounds[bad].tolist()}. Give finite (lower, upper) "
            f"values for every feature."
        )

    inverted = np.flatnonzero(bounds[:, 0] > bounds[:, 1])
    if inverted.size:
        i = int(inverted[0])
        raise ValueError(
            f"{name} is empty: lower > upper for feature {i} "
            f"(lower={float(bounds[i, 0])!r}, upper={float(bounds[i, 1])!r}). Swap the two values "
            f"or widen the interval."
        )
    return bounds


def check_sense(sense):
    """Return ``sense`` if it is "min" or "max", else raise ValueError."""
    if sense not in ("min", "max"):
        raise ValueError(f"sense must be 'min' or 'max'; got {sense!r}.")
    return sense


#: Ways to compute the big-M constants of the MILP: see :mod:`sk_relaxreg.tightening`.
BOUND_METHODS = ("interval", "lp")


def check_bounds_method(bounds):
    """Return ``bounds`` if it is "interval" or "lp", else raise ValueError."""
    if not isinstance(bounds, str) or bounds not in BOUND_METHODS:
        raise ValueError(
            f"bounds must be 'lp' (LP-tightened big-M constants, the default) or 'interval' "
            f"(interval arithmetic only, the bounds the penalties train on); got {bounds!r}."
        )
    return bounds


def check_positive_number(value, name, allow_none=True):
    """Return ``value`` as float if it is a positive real number (or None when allowed)."""
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive number of seconds or None; got {value!r}.")
    return float(value)


def check_output_weights(output_weights, n_outputs):
    """Turn an output selection into a weight vector over the network outputs.

    Parameters
    ----------
    output_weights : None, int or array-like of shape (n_outputs,)
        None selects the only output of a single-output network; an int selects
        one output by index; an array gives the weight of each output in the
        objective ``sum_k w_k y_k``.
    n_outputs : int
        Number of network outputs.

    Returns
    -------
    weights : ndarray of shape (n_outputs,)
    """
    if output_weights is None:
        if n_outputs != 1:
            raise ValueError(
                f"The network has {n_outputs} outputs; pass output_weights=k to optimize "
                f"output k, or an array of {n_outputs} weights for a weighted sum."
            )
        return np.ones(1)

    if isinstance(output_weights, bool):
        raise ValueError(
            f"output_weights must be an output index or {n_outputs} finite weights; "
            f"got the bool {output_weights!r}."
        )
    if isinstance(output_weights, numbers.Integral):
        if not 0 <= output_weights < n_outputs:
            raise ValueError(
                f"output_weights={output_weights} is not a valid output index; the "
                f"network has outputs 0..{n_outputs - 1}."
            )
        weights = np.zeros(n_outputs)
        weights[output_weights] = 1.0
        return weights

    weights = _numeric_array(
        output_weights, f"output_weights must be an output index or {n_outputs} finite weights"
    ).ravel()
    if weights.shape != (n_outputs,) or not np.all(np.isfinite(weights)):
        raise ValueError(
            f"output_weights must be an output index or {n_outputs} finite weights; "
            f"got {output_weights!r}."
        )
    if not np.any(weights):
        raise ValueError("output_weights are all zero, so there is nothing to optimize.")
    return weights


def check_output_bounds(output_bounds, n_outputs):
    """Validate optional bounds on the network outputs; return (n_outputs, 2) with +-inf allowed."""
    if output_bounds is None:
        return None
    rule = (
        f"output_bounds must have shape ({n_outputs}, 2) with no NaN, one (lower, upper) "
        f"pair per output (use -inf/inf for no bound)"
    )
    bounds = _numeric_array(output_bounds, rule)
    if bounds.ndim == 1 and bounds.shape == (2,) and n_outputs == 1:
        bounds = bounds.reshape(1, 2)
    if bounds.shape != (n_outputs, 2) or np.any(np.isnan(bounds)):
        raise ValueError(f"{rule}; got {output_bounds!r}.")
    if np.any(bounds[:, 0] > bounds[:, 1]):
        raise ValueError(
            f"output_bounds has lower > upper: {bounds.tolist()}. Swap the two values "
            f"of each such pair."
        )
    # A lower bound of +inf or an upper bound of -inf admits no finite output.
    if np.any(bounds[:, 0] == np.inf) or np.any(bounds[:, 1] == -np.inf):
        raise ValueError(
            f"output_bounds need lower < inf and upper > -inf, because no output can "
            f"meet them otherwise; got {bounds.tolist()}. Use -inf for no lower bound "
            f"and inf for no upper bound."
        )
    return bounds
