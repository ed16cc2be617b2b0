"""Tractability scorer and Pareto helpers: blend, effort, limits, pipelines, refit and plots."""

import pickle
import sys

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_relaxreg import NotFittedError, TractableMLPRegressor
from sk_relaxreg.datasets import make_peaks
from sk_relaxreg.pareto import non_dominated, pareto_front, plot_pareto_front, point_label
from sk_relaxreg.scoring import (
    COMPONENTS,
    DEFAULT_EFFORT_SCALES,
    TractabilityScorer,
    clear_effort_cache,
    limit_threads,
    make_tractability_scorer,
    tractability_scoring,
)

pytestmark = pytest.mark.filterwarnings("error::sk_relaxreg.SolutionMismatchWarning")

#: A network small enough that a fit takes a fraction of a second.
TINY = {"hidden_layer_sizes": (8,), "max_epochs": 15, "batch_size": 32, "lr": 1e-2,
        "random_state": 0}

#: A network whose MILP needs branching (thousands of simplex iterations, several nodes).
SMALL = {**TINY, "hidden_layer_sizes": (16, 16)}

#: A box three times wider than the [-2, 2]^2 training data.
WIDE_BOX = [[-6.0, 6.0], [-6.0, 6.0]]

BOUND_WIDTHS = [0.0, 1e-2, 1e-1]


@pytest.fixture(scope="module")
def tiny_data():
    return make_peaks(n_samples=150, random_state=0)


@pytest.fixture(scope="module")
def tiny_model(tiny_data):
    return TractableMLPRegressor(**TINY).fit(*tiny_data)


@pytest.fixture(scope="module")
def small_model(tiny_data):
    return TractableMLPRegressor(**SMALL).fit(*tiny_data)


@pytest.fixture(scope="module")
def tiny_search(tiny_data):
    """A multi-metric grid search over bound_width, refit on the blend."""
    search = GridSearchCV(
        TractableMLPRegressor(**TINY),
        {"bound_width": BOUND_WIDTHS},
        scoring=tractability_scoring(),
        refit="blend",
        cv=KFold(n_splits=2, shuffle=True, random_state=0),
    )
    return search.fit(*tiny_data)


def direct_effort(estimator, effort, bounds="lp", **solver_options):
    """Solve the estimator's MILP as the scorer does and check the result against the network."""
    result = estimator.optimize(solver_options={"threads": 1, **solver_options}, bounds=bounds)
    assert result.x is not None
    forward = estimator.network_.forward(result.x[None, :])[0, 0]
    assert result.objective == pytest.approx(forward, rel=1e-6, abs=1e-6)
    value = result.n_nodes if effort == "n_nodes" else result.simplex_iterations
    return result, float(value)


# ------------------------------------------------------------------ blend formula


def test_blend_formula_values():
    scorer = make_tractability_scorer(effort_weight=0.2, effort_scale=50.0)

    assert scorer.blend_score(0.9, 0.0) == pytest.approx(0.9)
    # log10(1 + 450 / 50) = 1, so the blend loses exactly one effort_weight.
    assert scorer.blend_score(0.9, 450.0) == pytest.approx(0.7)
    assert scorer.blend_score(0.9, 4950.0) == pytest.approx(0.5)
    np.testing.assert_allclose(scorer.blend_score([0.9, 0.8], [0.0, 450.0]), [0.9, 0.6])


def test_blend_prefers_lower_effort_and_higher_accuracy():
    scorer = make_tractability_scorer()

    assert scorer.blend_score(0.9, 100.0) > scorer.blend_score(0.9, 5000.0)
    assert scorer.blend_score(0.95, 2000.0) > scorer.blend_score(0.90, 2000.0)


def test_blend_rejects_negative_effort():
    with pytest.raises(ValueError, match="non-negative"):
        make_tractability_scorer().blend_score(0.9, -1.0)


def test_effort_weight_zero_gives_accuracy(tiny_model, tiny_data):
    measured = make_tractability_scorer(effort_weight=0.0).measure(tiny_model, *tiny_data)

    assert measured["blend"] == measured["accuracy"]


def test_auto_effort_scale_per_mode():
    for effort, scale in DEFAULT_EFFORT_SCALES.items():
        assert make_tractability_scorer(effort=effort).effort_scale == scale


# --------------------------------------------------------- real fitted estimators


def test_lower_effort_wins_at_equal_accuracy(tiny_data):
    X, y = tiny_data
    narrow = TractableMLPRegressor(**SMALL).fit(X, y)
    wide = TractableMLPRegressor(**SMALL, input_bounds=WIDE_BOX).fit(X, y)
    # With no bound penalty the box does not affect training, so the two networks
    # are identical and only their MILPs (over different boxes) differ.
    for narrow_weights, wide_weights in zip(narrow.network_.weights, wide.network_.weights):
        np.testing.assert_array_equal(narrow_weights, wide_weights)
    _, narrow_iterations = direct_effort(narrow, "simplex_iterations")
    _, wide_iterations = direct_effort(wide, "simplex_iterations")
    assert wide_iterations > narrow_iterations

    scorer = make_tractability_scorer(effort="simplex_iterations")
    narrow_scores = scorer.measure(narrow, X, y)
    wide_scores = scorer.measure(wide, X, y)

    assert narrow_scores["accuracy"] == wide_scores["accuracy"]
    assert narrow_scores["effort"] == narrow_iterations
    assert wide_scores["effort"] == wide_iterations
    assert scorer(narrow, X, y) > scorer(wide, X, y)


def test_higher_accuracy_wins_at_equal_effort(small_model, tiny_data):
    X, y = tiny_data
    noisy_y = y + np.random.default_rng(0).normal(scale=1.0, size=y.shape)
    scorer = make_tractability_scorer(effort="simplex_iterations")

    clean = scorer.measure(small_model, X, y)
    noisy = scorer.measure(small_model, X, noisy_y)

    assert clean["accuracy"] == pytest.approx(r2_score(y, small_model.predict(X)))
    assert noisy["accuracy"] == pytest.approx(r2_score(noisy_y, small_model.predict(X)))
    assert clean["effort"] == noisy["effort"]
    assert clean["accuracy"] > noisy["accuracy"]
    assert scorer(small_model, X, y) > scorer(small_model, X, noisy_y)


@pytest.mark.parametrize("effort", ["n_nodes", "simplex_iterations"])
def test_count_effort_matches_direct_solve(small_model, tiny_data, effort):
    result, expected = direct_effort(small_model, effort)
    assert result.status == "optimal"

    measured = make_tractability_scorer(effort=effort).measure(small_model, *tiny_data)

    assert measured["effort"] == expected
    assert measured["neg_solve_effort"] == -expected
    assert measured["statuses"] == ["optimal"]
    assert measured["solved"] == 1.0
    assert measured["neg_n_unstable"] == -small_model.n_unstable_


def test_interval_bounds_measured_separately(small_model, tiny_data):
    _, expected = direct_effort(small_model, "simplex_iterations", bounds="interval")

    interval = make_tractability_scorer(bounds="interval").measure(small_model, *tiny_data)
    tightened = make_tractability_scorer().measure(small_model, *tiny_data)

    assert interval["effort"] == expected
    assert make_tractability_scorer().get_params()["bounds"] == "lp"
    assert tightened["statuses"] == ["optimal"]
    assert interval["statuses"] == ["optimal"]


def test_time_effort_uses_repeats(tiny_model, tiny_data):
    measured = make_tractability_scorer(effort="time", n_repeats=3).measure(tiny_model, *tiny_data)

    assert measured["statuses"] == ["optimal"] * 3
    assert measured["effort"] > 0.0
    assert np.isfinite(measured["blend"])


def test_sample_weight_reaches_accuracy(small_model, tiny_data):
    X, y = tiny_data
    weights = np.linspace(0.1, 2.0, len(y))
    scorer = tractability_scoring()["accuracy"]

    weighted = scorer(small_model, X, y, sample_weight=weights)

    assert weighted == pytest.approx(r2_score(y, small_model.predict(X), sample_weight=weights))
    assert weighted != pytest.approx(r2_score(y, small_model.predict(X)))
    assert scorer._accept_sample_weight()


def test_maximize_sense_solves_max(small_model, tiny_data):
    scorer = make_tractability_scorer(sense="max", effort="simplex_iterations")
    result = small_model.optimize(sense="max", solver_options={"threads": 1})

    measured = scorer.measure(small_model, *tiny_data)

    assert measured["effort"] == result.simplex_iterations


# ------------------------------------------------------------------ solver limits


def test_node_limit_penalty_is_deterministic(small_model, tiny_data):
    unlimited, _ = direct_effort(small_model, "simplex_iterations")
    assert unlimited.n_nodes > 1
    limited = small_model.optimize(solver_options={"threads": 1, "mip_max_nodes": 1})
    assert limited.status == "time_limit"
    scorer = make_tractability_scorer(effort="simplex_iterations", node_limit=1, limit_penalty=5.0)

    measured = scorer.measure(small_model, *tiny_data)

    expected = 5.0 * max(limited.simplex_iterations, scorer.effort_scale)
    assert measured["statuses"] == ["time_limit"]
    assert measured["effort"] == expected
    assert measured["solved"] == 0.0
    assert measured["blend"] == pytest.approx(scorer.blend_score(measured["accuracy"], expected))


@pytest.mark.parametrize("effort", ["time", "simplex_iterations"])
def test_time_limit_charges_penalty(small_model, tiny_data, effort):
    unlimited, iterations = direct_effort(small_model, "simplex_iterations")
    assert unlimited.status == "optimal"
    assert iterations > 500
    scorer = make_tractability_scorer(effort=effort, time_limit=1e-3, n_repeats=1)

    measured = scorer.measure(small_model, *tiny_data)

    assert measured["statuses"][0] in ("time_limit", "time_limit_no_solution")
    assert measured["solved"] == 0.0
    assert measured["effort"] >= scorer.limit_penalty * scorer.effort_scale
    # Any charged solve loses at least log10(1 + limit_penalty) effort weights.
    worst_finished = measured["accuracy"] - 0.1 * np.log10(1 + scorer.limit_penalty)
    assert measured["blend"] <= worst_finished + 1e-12


# ---------------------------------------------------------- estimators and pipelines


def test_pipeline_uses_last_step(tiny_data):
    X, y = tiny_data
    pipeline = make_pipeline(StandardScaler(), TractableMLPRegressor(**SMALL)).fit(X, y)
    network = pipeline[-1]
    _, iterations = direct_effort(network, "simplex_iterations")

    measured = make_tractability_scorer().measure(pipeline, X, y)

    assert measured["accuracy"] == pytest.approx(r2_score(y, pipeline.predict(X)))
    assert measured["effort"] == iterations
    assert measured["neg_n_unstable"] == -network.n_unstable_
    # The MILP box is the range of the scaled inputs, not the [-2, 2]^2 of the raw X.
    scaled = pipeline[0].transform(X)
    np.testing.assert_allclose(network.input_bounds_[:, 0], scaled.min(axis=0))
    np.testing.assert_allclose(network.input_bounds_[:, 1], scaled.max(axis=0))


def test_rejects_other_estimators(tiny_data):
    X, y = tiny_data
    scorer = make_tractability_scorer()

    with pytest.raises(TypeError, match="LinearRegression"):
        scorer(LinearRegression().fit(X, y), X, y)
    with pytest.raises(TypeError, match="last step"):
        scorer(make_pipeline(StandardScaler(), LinearRegression()).fit(X, y), X, y)
    with pytest.raises(NotFittedError):
        scorer(TractableMLPRegressor(**TINY), X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"accuracy": "no_such_metric"}, "accuracy='no_such_metric'"),
        ({"accuracy": 3}, "accuracy must be"),
        ({"effort": "seconds"}, "effort must be one of"),
        ({"effort_weight": -0.1}, "effort_weight"),
        ({"effort_weight": float("nan")}, "effort_weight"),
        ({"effort_scale": 0}, "effort_scale"),
        ({"effort_scale": "big"}, "effort_scale"),
        ({"sense": "minimize"}, "sense"),
        ({"n_repeats": 0}, "n_repeats"),
        ({"n_repeats": 2.5}, "n_repeats"),
        ({"time_limit": -1}, "time_limit"),
        ({"node_limit": 0}, "node_limit"),
        ({"node_limit": True}, "node_limit"),
        ({"limit_penalty": 0.5}, "limit_penalty"),
        ({"mip_gap": 1.0}, "mip_gap"),
        ({"solver": "cbc"}, "needs solver='highs'"),
        ({"solver": "cbc", "effort": "time", "node_limit": 10}, "node_limit needs"),
        ({"solver_options": [("threads", 2)]}, "solver_options"),
        ({"bounds": "exact"}, "bounds must be 'lp'"),
    ],
)
def test_rejects_invalid_parameters(params, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_tractability_scorer(**params)


def test_rejects_invalid_component():
    with pytest.raises(ValueError, match="component must be one of"):
        TractabilityScorer(component="effort")


def test_solver_options_not_mutated(small_model, tiny_data):
    options = {"mip_rel_gap": 1e-3}
    scorer = make_tractability_scorer(solver_options=options)

    scorer(small_model, *tiny_data)

    assert options == {"mip_rel_gap": 1e-3}


# ----------------------------------------------------------- pickling and multi-metric


def test_scorer_pickle_round_trip(small_model, tiny_data):
    scorer = make_tractability_scorer(effort="n_nodes", effort_weight=0.05, node_limit=1000)

    restored = pickle.loads(pickle.dumps(scorer))

    assert type(restored) is TractabilityScorer
    assert restored.get_params() == scorer.get_params()
    assert repr(restored) == repr(scorer)
    assert restored(small_model, *tiny_data) == scorer(small_model, *tiny_data)


def test_scoring_dict_components(small_model, tiny_data):
    scoring = tractability_scoring(effort="simplex_iterations")
    measured = scoring["blend"].measure(small_model, *tiny_data)

    assert list(scoring) == list(COMPONENTS)
    for key, scorer in scoring.items():
        assert scorer.component == key
        assert scorer(small_model, *tiny_data) == measured[key]
    assert pickle.loads(pickle.dumps(scoring))["solved"].component == "solved"


def test_scoring_dict_shares_one_solve(tiny_data, monkeypatch):
    X, y = tiny_data
    model = TractableMLPRegressor(**{**TINY, "random_state": 7}).fit(X, y)
    calls = []
    original_optimize = TractableMLPRegressor.optimize

    def counting_optimize(self, *args, **kwargs):
        calls.append(kwargs)
        return original_optimize(self, *args, **kwargs)

    monkeypatch.setattr(TractableMLPRegressor, "optimize", counting_optimize)
    clear_effort_cache()

    for scorer in tractability_scoring().values():
        scorer(model, X, y)

    assert len(calls) == 1
    assert calls[0]["solver_options"] == {"threads": 1}

    clear_effort_cache()
    tractability_scoring()["blend"](model, X, y)

    assert len(calls) == 2


def test_refit_picks_best_blend(tiny_search):
    results = tiny_search.cv_results_
    best = int(np.argmax(results["mean_test_blend"]))

    assert tiny_search.best_index_ == best
    assert tiny_search.best_params_ == results["params"][best]
    assert tiny_search.best_estimator_.bound_width == results["params"][best]["bound_width"]
    assert tiny_search.best_score_ == results["mean_test_blend"][best]
    scorer = tiny_search.scorer_["blend"]
    for split in range(2):
        np.testing.assert_allclose(
            results[f"split{split}_test_blend"],
            scorer.blend_score(
                results[f"split{split}_test_accuracy"],
                -results[f"split{split}_test_neg_solve_effort"],
            ),
        )


def test_limit_threads_restores_torch_threads():
    import torch

    before = torch.get_num_threads()
    with limit_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="n_threads"):
        with limit_threads(0):
            pass


# ------------------------------------------------------------------ Pareto front


def test_non_dominated_hand_built_case():
    accuracy = [0.9, 0.8, 0.95, 0.7, 0.9, np.nan]
    effort = [100.0, 10.0, 1000.0, 50.0, 100.0, 1.0]

    efficient = non_dominated(accuracy, effort)

    # Point 3 loses to point 1 (more accurate, less effort); equal points 0 and 4 both stay.
    np.testing.assert_array_equal(efficient, [True, True, True, False, True, False])


def test_non_dominated_matches_sweep():
    rng = np.random.default_rng(0)
    accuracy = rng.integers(0, 8, size=200).astype(float)
    effort = rng.integers(0, 8, size=200).astype(float)

    efficient = non_dominated(accuracy, effort)

    # Independent check: a point is efficient iff it has the best accuracy among
    # all points with at most its effort and no equally accurate point with less effort.
    for i in range(200):
        cheaper_or_equal = effort <= effort[i]
        best_accuracy = accuracy[cheaper_or_equal].max()
        strictly_cheaper_equal = (effort < effort[i]) & (accuracy >= accuracy[i])
        expected = accuracy[i] == best_accuracy and not np.any(strictly_cheaper_equal)
        assert efficient[i] == expected, i


def test_pareto_front_from_search(tiny_search):
    results = tiny_search.cv_results_

    front = pareto_front(tiny_search)

    np.testing.assert_array_equal(front.accuracy, results["mean_test_accuracy"])
    np.testing.assert_array_equal(front.effort, -results["mean_test_neg_solve_effort"])
    np.testing.assert_array_equal(front.is_efficient, non_dominated(front.accuracy, front.effort))
    assert front.params == list(results["params"])
    assert front.varying_params == ["bound_width"]
    assert np.all(np.diff(front.effort[front.efficient_indices]) >= 0)
    # Of the candidates with the maximum accuracy, the one with the least effort is
    # not dominated.
    most_accurate = np.flatnonzero(front.accuracy == front.accuracy.max())
    assert front.is_efficient[most_accurate[np.argmin(front.effort[most_accurate])]]


def test_pareto_front_unstable_neurons_axis(tiny_search):
    front = pareto_front(tiny_search.cv_results_, effort="neg_n_unstable")

    expected = -tiny_search.cv_results_["mean_test_neg_n_unstable"]
    np.testing.assert_array_equal(front.effort, expected)


def test_pareto_front_missing_column_message(tiny_data):
    single = GridSearchCV(
        TractableMLPRegressor(**TINY), {"bound_width": [0.0]}, cv=2,
        scoring=make_tractability_scorer(),
    ).fit(*tiny_data)

    with pytest.raises(KeyError, match="tractability_scoring"):
        pareto_front(single)
    with pytest.raises(TypeError, match="cv_results_"):
        pareto_front([1, 2, 3])


def test_point_label_formats_values():
    assert point_label({"bound_width": 0.001, "hidden_layer_sizes": (8,)}) == (
        "bound_width=0.001\nhidden_layer_sizes=(8,)"
    )
    assert point_label({"a": 1, "b": 2}, names=["b"]) == "b=2"


def test_plot_pareto_front_draws_front(tiny_search, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    backend_before = matplotlib.rcParams._get_backend_or_none()
    front = pareto_front(tiny_search)

    ax = plot_pareto_front(tiny_search, effort_label="simplex iterations")

    order = front.efficient_indices
    front_line = [line for line in ax.get_lines() if line.get_label() == "non-dominated"][0]
    np.testing.assert_array_equal(front_line.get_xdata(), front.effort[order])
    np.testing.assert_array_equal(front_line.get_ydata(), front.accuracy[order])
    labels = [text.get_text() for text in ax.texts]
    assert sorted(labels) == sorted(f"bound_width={value:g}" for value in BOUND_WIDTHS)
    assert ax.get_xlabel() == "simplex iterations"
    assert matplotlib.rcParams._get_backend_or_none() == backend_before
    path = tmp_path / "front.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 0


def test_plot_draws_on_given_axes(tiny_search):
    pytest.importorskip("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()

    assert plot_pareto_front(tiny_search, ax=ax, log_effort=False) is ax
    assert ax.get_xscale() == "linear"


def test_plot_without_matplotlib_raises(tiny_search, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)

    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_pareto_front(tiny_search)


def test_plot_rejects_bad_log_effort(tiny_search):
    with pytest.raises(ValueError, match="log_effort"):
        plot_pareto_front(tiny_search, log_effort="yes")
