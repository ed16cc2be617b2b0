"""The accuracy-versus-effort Pareto front of a hyperparameter search, and its plot."""

import numbers
from dataclasses import dataclass

import numpy as np

#: Prefix of scikit-learn metric names whose values are negated losses.
NEGATED_PREFIX = "neg_"


@dataclass(frozen=True)
class ParetoFront:
    """Accuracy and effort of every candidate of a search, and which are non-dominated.

    Attributes
    ----------
    accuracy : ndarray of shape (n_candidates,)
        Mean test accuracy score of each candidate; greater is better.
    effort : ndarray of shape (n_candidates,)
        Mean test solve effort of each candidate; smaller is better.
    params : list of dict
        Parameter setting of each candidate, as in ``cv_results_["params"]``.
    is_efficient : ndarray of bool, shape (n_candidates,)
        True for the non-dominated candidates: no other candidate has at
        least the same accuracy and at most the same effort while being
        strictly better in one of them. Candidates with a NaN score are
        never efficient.
    accuracy_key, effort_key : str
        The ``cv_results_`` columns the values come from.
    """

    accuracy: np.ndarray
    effort: np.ndarray
    params: list
    is_efficient: np.ndarray
    accuracy_key: str
    effort_key: str

    @property
    def efficient_indices(self):
        """Indices of the non-dominated candidates, by increasing effort."""
        indices = np.flatnonzero(self.is_efficient)
        return indices[np.lexsort((-self.accuracy[indices], self.effort[indices]))]

    @property
    def varying_params(self):
        """Names of the parameters that take more than one value across the candidates."""
        names = []
        for params in self.params:
            for name in params:
                if name not in names:
                    names.append(name)
        return [
            name for name in names
            if len({repr(params.get(name)) for params in self.params}) > 1
        ]


def _results_dict(results):
    cv_results = getattr(results, "cv_results_", results)
    if not isinstance(cv_results, dict) or "params" not in cv_results:
        raise TypeError(
            f"Expected a fitted search (GridSearchCV, RandomizedSearchCV) or its cv_results_ "
            f"dict; got {type(results).__name__}. Fit the search first, then pass it or "
            f"search.cv_results_."
        )
    return cv_results


def _column(cv_results, key, role):
    """Return ``(column name, values)`` for a metric name such as "accuracy" or a column name."""
    for column in (f"mean_test_{key}", key):
        if column in cv_results:
            return column, np.asarray(cv_results[column], dtype=float)
    available = sorted(
        name[len("mean_test_"):] for name in cv_results if name.startswith("mean_test_")
    )
    hint = ""
    if available == ["score"]:
        hint = (
            " The search used a single scorer; pass scoring=tractability_scoring(...) and "
            "refit='blend' to record accuracy and effort separately."
        )
    raise KeyError(
        f"No {role} column for {key!r} in cv_results_: neither 'mean_test_{key}' nor "
        f"{key!r} exists. Metrics in these results: {available}.{hint}"
    )


def non_dominated(accuracy, effort):
    """Return a boolean mask of the points that no other point dominates.

    A point dominates another if its accuracy is at least as high and its
    effort at most as high, and one of the two is strictly better. Equal
    points do not dominate each other. Points with NaN are never in the mask.

    Parameters
    ----------
    accuracy : array-like of shape (n_points,)
        Greater is better.
    effort : array-like of shape (n_points,)
        Smaller is better.

    Returns
    -------
    ndarray of bool, shape (n_points,)
    """
    accuracy = np.asarray(accuracy, dtype=float)
    effort = np.asarray(effort, dtype=float)
    if accuracy.shape != effort.shape or accuracy.ndim != 1:
        raise ValueError(
            f"accuracy and effort must be 1-D arrays of the same length; got shapes "
            f"{accuracy.shape} and {effort.shape}."
        )
    valid = ~(np.isnan(accuracy) | np.isnan(effort))
    efficient = valid.copy()
    for i in np.flatnonzero(valid):
        others = valid.copy()
        others[i] = False
        at_least_as_good = (accuracy[others] >= accuracy[i]) & (effort[others] <= effort[i])
        strictly_better = (accuracy[others] > accuracy[i]) | (effort[others] < effort[i])
        if np.any(at_least_as_good & strictly_better):
            efficient[i] = False
    return efficient


def pareto_front(results, accuracy="accuracy", effort="neg_solve_effort"):
    """Extract the accuracy-versus-effort points of a search and mark the non-dominated ones.

    Parameters
    ----------
    results : fitted GridSearchCV, RandomizedSearchCV or their ``cv_results_`` dict
        A multi-metric search, for example one scored with
        :func:`sk_relaxreg.scoring.tractability_scoring`.
    accuracy : str, default="accuracy"
        Metric name (the column ``mean_test_<accuracy>``) or full column name
        of the accuracy score; greater is better.
    effort : str, default="neg_solve_effort"
        Metric name or full column name of the effort. A metric whose name
        starts with ``"neg_"``, as scikit-learn names negated losses, is
        negated back, so ``"neg_solve_effort"`` gives the positive effort and
        ``"neg_n_unstable"`` the number of unstable neurons. Other columns
        are used as they are, with smaller meaning better.

    Returns
    -------
    ParetoFront
    """
    cv_results = _results_dict(results)
    accuracy_key, accuracy_values = _column(cv_results, accuracy, "accuracy")
    effort_key, effort_values = _column(cv_results, effort, "effort")
    metric_name = effort_key.removeprefix("mean_test_")
    if metric_name.startswith(NEGATED_PREFIX):
        effort_values = -effort_values
    return ParetoFront(
        accuracy=accuracy_values,
        effort=effort_values,
        params=[dict(params) for params in cv_results["params"]],
        is_efficient=non_dominated(accuracy_values, effort_values),
        accuracy_key=accuracy_key,
        effort_key=effort_key,
    )


def _format_value(value):
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def point_label(params, names=None):
    """Return one ``name=value`` line per parameter, for the given names (default: all)."""
    names = list(params) if names is None else names
    return "\n".join(f"{name}={_format_value(params[name])}" for name in names if name in params)


def _import_matplotlib():
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(
            "plot_pareto_front needs matplotlib, which is not installed. Install it with "
            "`pip install matplotlib` or `pip install sk_relaxreg[plot]`."
        ) from exc
    return matplotlib


def _new_axes(figsize):
    """Create Axes with pyplot if a backend is configured, else on a standalone Agg canvas."""
    matplotlib = _import_matplotlib()
    # NOTE: _get_backend_or_none is private (matplotlib >= 3.5). It returns None while no
    # backend was chosen by matplotlib.use, MPLBACKEND or a matplotlibrc file, and unlike
    # rcParams["backend"] it does not resolve one. Whether pyplot is imported says
    # nothing about the caller, because Pyomo imports pyplot whenever matplotlib is imported.
    get_backend_or_none = getattr(matplotlib.rcParams, "_get_backend_or_none", None)
    if get_backend_or_none is None or get_backend_or_none() is not None:
        import matplotlib.pyplot as plt

        figure, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax

    # A standalone figure with an Agg canvas can be saved with savefig and leaves the
    # global backend untouched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    return figure.add_subplot()


def _format_log_ticks(ax, effort):
    """Write log-axis ticks as plain numbers, adding 2x and 5x ticks when few decades show."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    n_decades = np.log10(effort.max()) - np.log10(effort.min())

    def minor_label(value, _):
        mantissa = round(value / 10 ** np.floor(np.log10(value)))
        return f"{value:g}" if n_decades < 2 and mantissa in (2, 5) else ""

    ax.xaxis.set_minor_formatter(FuncFormatter(minor_label))


def _label_points(ax, front, finite, use_log):
    """Write each point's varying parameters next to it, on the left for the right third."""
    names = front.varying_params or None
    position = np.log10(front.effort) if use_log else front.effort.copy()
    span = np.nanmax(position[finite]) - np.nanmin(position[finite]) if np.any(finite) else 0.0
    for i in np.flatnonzero(finite):
        relative = (position[i] - np.nanmin(position[finite])) / span if span > 0 else 0.0
        on_left = relative > 0.67
        ax.annotate(
            point_label(front.params[i], names),
            (front.effort[i], front.accuracy[i]),
            xytext=(-6, 4) if on_left else (6, 4),
            textcoords="offset points",
            horizontalalignment="right" if on_left else "left",
            fontsize=7,
            color="tab:red" if front.is_efficient[i] else "0.3",
        )


def _default_label(key):
    name = key.removeprefix("mean_test_")
    if name.startswith(NEGATED_PREFIX):
        name = name[len(NEGATED_PREFIX):]
    return name.replace("_", " ")


def plot_pareto_front(
    results,
    accuracy="accuracy",
    effort="neg_solve_effort",
    ax=None,
    log_effort="auto",
    label_points=True,
    accuracy_label=None,
    effort_label=None,
    title="Accuracy versus MILP solve effort",
):
    """Plot accuracy against solve effort for every candidate, with the Pareto front marked.

    Dominated candidates are hollow grey circles. Non-dominated candidates
    are filled and connected in order of effort. Each point is labelled with
    the values of the parameters that vary across the search.

    Parameters
    ----------
    results : fitted search, its ``cv_results_`` dict, or a ParetoFront
    accuracy, effort : str
        Column selection as in :func:`pareto_front`; ignored for a ParetoFront.
    ax : matplotlib Axes, optional
        Axes to draw on. Without one, the figure comes from
        ``pyplot.subplots`` when a matplotlib backend is configured (by
        ``matplotlib.use``, ``MPLBACKEND``, a matplotlibrc file or Jupyter).
        Otherwise it is a standalone figure on an Agg canvas, which
        ``ax.figure.savefig(path)`` writes but ``pyplot.show`` does not
        display. The global backend is never changed. To show the plot in a
        window, pass ``ax`` from ``pyplot.subplots()``.
    log_effort : bool or "auto", default="auto"
        Log scale on the effort axis. "auto" uses it when every effort is
        positive and they span more than a factor of 10.
    label_points : bool, default=True
        Write each point's parameter values next to it.
    accuracy_label, effort_label : str, optional
        Axis labels; default to the metric names.
    title : str or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    front = results if isinstance(results, ParetoFront) else pareto_front(results, accuracy, effort)
    if log_effort not in (True, False, "auto"):
        raise ValueError(f"log_effort must be True, False or 'auto'; got {log_effort!r}.")
    if ax is None:
        ax = _new_axes(figsize=(7.5, 5.0))
    else:
        _import_matplotlib()

    finite = ~(np.isnan(front.accuracy) | np.isnan(front.effort))
    dominated = finite & ~front.is_efficient
    ax.scatter(
        front.effort[dominated], front.accuracy[dominated],
        facecolors="none", edgecolors="0.45", s=45, label="dominated", zorder=2,
    )
    order = front.efficient_indices
    ax.plot(
        front.effort[order], front.accuracy[order],
        "o-", color="tab:red", markersize=7, linewidth=1.5, label="non-dominated", zorder=3,
    )

    positive = front.effort[finite]
    use_log = log_effort is True or (
        log_effort == "auto"
        and positive.size > 0
        and np.all(positive > 0)
        and positive.max() > 10 * positive.min()
    )
    if log_effort is True and np.any(positive <= 0):
        raise ValueError(
            f"log_effort=True needs positive efforts; the smallest effort is "
            f"{positive.min()!r}. Use log_effort='auto' or False."
        )
    if use_log:
        ax.set_xscale("log")
        _format_log_ticks(ax, positive)
    ax.margins(x=0.08, y=0.1)

    if label_points:
        _label_points(ax, front, finite, use_log)

    ax.set_xlabel(effort_label or f"{_default_label(front.effort_key)} (smaller is better)")
    ax.set_ylabel(accuracy_label or f"{_default_label(front.accuracy_key)} (greater is better)")
    if title:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    n_missing = int(np.sum(~finite))
    if n_missing:
        ax.text(
            0.01, 0.01, f"{n_missing} candidate(s) with NaN scores not shown",
            transform=ax.transAxes, fontsize=7, color="0.4",
        )
    return ax
