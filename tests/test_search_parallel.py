"""Grid search with the tractability scorer: reruns, loky workers and a Dask cluster agree."""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, KFold

from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.datasets import make_peaks
from sk_relaxreg.scoring import (
    COMPONENTS,
    clear_effort_cache,
    limit_threads,
    tractability_scoring,
)

pytestmark = pytest.mark.filterwarnings("error::sk_relaxreg.SolutionMismatchWarning")

TINY = {"hidden_layer_sizes": (8,), "max_epochs": 12, "batch_size": 32, "lr": 1e-2,
        "random_state": 0}

PARAM_GRID = {"bound_width": [0.0, 1e-2, 1e-1]}

N_SPLITS = 2


def make_thread_probe():
    """Return a scorer that reports torch's thread count in the process that scores.

    It is built inside a function so that cloudpickle sends it to worker processes by
    value; those processes cannot import this test module.
    """

    def torch_threads(estimator, X, y):
        import torch

        return float(torch.get_num_threads())

    return torch_threads


def make_search(n_jobs=None):
    scoring = {**tractability_scoring(effort="simplex_iterations"), "threads": make_thread_probe()}
    return GridSearchCV(
        TractableMLPRegressor(**TINY),
        PARAM_GRID,
        scoring=scoring,
        refit="blend",
        cv=KFold(n_splits=N_SPLITS, shuffle=True, random_state=0),
        n_jobs=n_jobs,
    )


def score_columns(cv_results):
    """The per-split test scores of every tractability component."""
    return {
        f"split{split}_test_{key}": np.asarray(cv_results[f"split{split}_test_{key}"])
        for split in range(N_SPLITS)
        for key in COMPONENTS
    }


def assert_same_search(search, reference):
    assert search.best_params_ == reference.best_params_
    assert search.best_index_ == reference.best_index_
    expected = score_columns(reference.cv_results_)
    for column, values in score_columns(search.cv_results_).items():
        np.testing.assert_array_equal(values, expected[column], err_msg=column)


@pytest.fixture(scope="module")
def data():
    return make_peaks(n_samples=150, random_state=0)


@pytest.fixture(scope="module")
def serial_search(data):
    """The reference search, run in this process with one torch thread like the workers."""
    with limit_threads(1):
        return make_search().fit(*data)


def test_serial_search_scores_every_component(serial_search):
    results = serial_search.cv_results_

    for key in COMPONENTS:
        assert np.all(np.isfinite(results[f"mean_test_{key}"])), key
    assert np.all(results["mean_test_solved"] == 1.0)
    assert np.all(results["mean_test_neg_solve_effort"] < 0)


def test_rerun_gives_identical_scores(serial_search, data):
    # Without the cache the rerun solves every MILP again instead of reusing the counts.
    clear_effort_cache()
    with limit_threads(1):
        rerun = make_search().fit(*data)

    assert_same_search(rerun, serial_search)


@pytest.mark.slow
def test_loky_workers_match_serial(serial_search, data):
    with parallel_config(backend="loky", inner_max_num_threads=1):
        search = make_search(n_jobs=2).fit(*data)

    assert_same_search(search, serial_search)
    # Each worker trained and scored with one torch thread.
    np.testing.assert_array_equal(search.cv_results_["mean_test_threads"], 1.0)


@pytest.mark.slow
def test_dask_cluster_matches_serial(serial_search, data):
    distributed = pytest.importorskip("distributed")

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        with parallel_config(backend="dask"):
            search = make_search().fit(*data)

    assert_same_search(search, serial_search)
    # Dask nannies start workers with OMP_NUM_THREADS=1, so torch uses one thread there.
    np.testing.assert_array_equal(search.cv_results_["mean_test_threads"], 1.0)
