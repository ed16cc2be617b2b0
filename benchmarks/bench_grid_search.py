"""Benchmark a tractability grid search run serially and on a 2-worker Dask LocalCluster.

A 3 x 3 grid over ``bound_width`` x ``stable_neuron`` on peaks, 3-fold CV, scored by
:func:`sk_relaxreg.scoring.tractability_scoring` in deterministic-effort mode (HiGHS
simplex iterations, a node limit instead of relying on the clock) and refit on the blend.
The same search runs twice:

* serially in this process, with one torch and BLAS thread (``limit_threads``), which
  is what each Dask worker uses, so that both runs train identical weights;
* through joblib's Dask back end on a ``LocalCluster`` of 2 worker processes with 1
  thread each.

It prints the wall-time ratio serial / Dask and whether the selected parameters and
all per-split scores are identical, and writes the results as JSON under
``benchmarks/results/``. Cluster start-up (including importing the package on the
workers) is timed separately and not part of the Dask search time.

The full run (1500 samples, (16, 16) nets, 200 epochs) took 238 s serially and 160 s on
Dask on an idle 2-core machine (see docs/benchmarks.md). Commands::

    python benchmarks/bench_grid_search.py            # full: writes bench_grid_search.json
    python benchmarks/bench_grid_search.py --quick    # smoke test: bench_grid_search_quick.json
"""

import argparse
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, KFold

from sk_relaxreg import TractableMLPRegressor, __version__
from sk_relaxreg.datasets import make_peaks
from sk_relaxreg.scoring import COMPONENTS, limit_threads, tractability_scoring

RESULTS = Path(__file__).resolve().parent / "results"

PARAM_GRID = {"bound_width": [0.0, 1e-2, 1e-1], "stable_neuron": [0.0, 1e-2, 1e-1]}

N_SPLITS = 3

#: Settings of the full run and of the --quick smoke test.
SETTINGS = {
    "full": {"n_samples": 1500, "hidden_layer_sizes": (16, 16), "max_epochs": 200},
    "quick": {"n_samples": 150, "hidden_layer_sizes": (8,), "max_epochs": 10},
}

#: Scorer settings: deterministic effort, and a node limit so that a hard MILP stops
#: at the same count on every machine. The time limit only guards against runaways.
SCORER = {"effort": "simplex_iterations", "effort_weight": 0.1, "node_limit": 20000,
          "time_limit": 300.0}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny networks and data, to check that the script runs")
    parser.add_argument("--n-workers", type=int, default=2,
                        help="Dask worker processes, one thread each (default: 2)")
    parser.add_argument("--no-worker-profile", action="store_true",
                        help="turn off the Dask workers' statistical profiler, which samples "
                             "the running task every 10 ms")
    parser.add_argument("--with-loky", action="store_true",
                        help="also run the search with joblib's loky back end, n_jobs=n_workers")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON output path (default: benchmarks/results/"
                             "bench_grid_search[_quick].json)")
    return parser.parse_args()


def make_search(settings, n_jobs=None):
    estimator = TractableMLPRegressor(
        hidden_layer_sizes=settings["hidden_layer_sizes"],
        max_epochs=settings["max_epochs"],
        batch_size=32,
        lr=1e-2,
        random_state=0,
    )
    return GridSearchCV(
        estimator,
        PARAM_GRID,
        scoring=tractability_scoring(**SCORER),
        refit="blend",
        cv=KFold(n_splits=N_SPLITS, shuffle=True, random_state=0),
        n_jobs=n_jobs,
    )


def split_scores(search):
    results = search.cv_results_
    return np.array([
        results[f"split{split}_test_{key}"] for split in range(N_SPLITS) for key in COMPONENTS
    ])


def run_serial(settings, X, y):
    search = make_search(settings)
    start = time.perf_counter()
    with limit_threads(1):
        search.fit(X, y)
    return search, time.perf_counter() - start


def run_dask(settings, X, y, n_workers, worker_profile=True):
    import dask
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    profile = {"distributed.worker.profile.enabled": worker_profile}
    with (
        dask.config.set(profile),
        LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                     dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(n_workers)
        # Import the package on every worker before timing, as a long-lived cluster would have.
        client.run(lambda: __import__("sk_relaxreg.scoring"))
        startup = time.perf_counter() - start
        search = make_search(settings)
        start = time.perf_counter()
        with parallel_config(backend="dask"):
            search.fit(X, y)
        elapsed = time.perf_counter() - start
    return search, elapsed, startup


def run_loky(settings, X, y, n_jobs):
    """Run the same search on joblib's default process back end, for comparison with Dask."""
    search = make_search(settings, n_jobs=n_jobs)
    start = time.perf_counter()
    with parallel_config(backend="loky", inner_max_num_threads=1):
        search.fit(X, y)
    return search, time.perf_counter() - start


def candidates(serial, dask):
    rows = []
    for i, params in enumerate(serial.cv_results_["params"]):
        row = {"params": params}
        for name, search in (("serial", serial), ("dask", dask)):
            row[name] = {
                key: float(search.cv_results_[f"mean_test_{key}"][i]) for key in COMPONENTS
            }
            row[name]["mean_fit_time_s"] = float(search.cv_results_["mean_fit_time"][i])
            row[name]["mean_score_time_s"] = float(search.cv_results_["mean_score_time"][i])
        rows.append(row)
    return rows


def machine():
    import distributed
    import highspy
    import sklearn
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sk_relaxreg": __version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "distributed": distributed.__version__,
        "highspy": getattr(highspy, "__version__", "unknown"),
    }


def main():
    args = parse_args()
    mode = "quick" if args.quick else "full"
    settings = SETTINGS[mode]
    output = args.output or RESULTS / (
        "bench_grid_search_quick.json" if args.quick else "bench_grid_search.json"
    )
    X, y = make_peaks(n_samples=settings["n_samples"], random_state=0)
    n_fits = N_SPLITS * int(np.prod([len(values) for values in PARAM_GRID.values()]))
    print(f"{mode} run: {n_fits} fits of a {settings['hidden_layer_sizes']} network, "
          f"{settings['max_epochs']} epochs, {settings['n_samples']} samples")

    serial, serial_time = run_serial(settings, X, y)
    print(f"serial search: {serial_time:.1f} s, best {serial.best_params_}")
    dask, dask_time, startup = run_dask(
        settings, X, y, args.n_workers, worker_profile=not args.no_worker_profile
    )
    print(f"Dask search ({args.n_workers} workers x 1 thread): {dask_time:.1f} s "
          f"(cluster start-up {startup:.1f} s, not included), best {dask.best_params_}")

    if args.with_loky:
        loky, loky_time = run_loky(settings, X, y, args.n_workers)
        print(f"loky search (n_jobs={args.n_workers}): {loky_time:.1f} s, ratio "
              f"{serial_time / loky_time:.2f}, best {loky.best_params_}")

    serial_scores, dask_scores = split_scores(serial), split_scores(dask)
    same_params = serial.best_params_ == dask.best_params_
    same_scores = bool(np.array_equal(serial_scores, dask_scores))
    ratio = serial_time / dask_time
    print(f"wall-time ratio serial / Dask: {ratio:.2f}")
    print(f"identical selected parameters: {same_params}")
    print(f"identical per-split scores: {same_scores} "
          f"(max difference {np.max(np.abs(serial_scores - dask_scores)):.3g})")

    record = {
        "benchmark": "grid_search_serial_vs_dask",
        "mode": mode,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/bench_grid_search.py" + (" --quick" if args.quick else ""),
        "settings": {
            **{key: list(value) if isinstance(value, tuple) else value
               for key, value in settings.items()},
            "param_grid": PARAM_GRID,
            "cv_splits": N_SPLITS,
            "scorer": SCORER,
            "n_workers": args.n_workers,
            "threads_per_worker": 1,
        },
        "machine": machine(),
        "serial": {"wall_time_s": serial_time, "best_params": serial.best_params_,
                   "best_blend": float(serial.best_score_)},
        "dask": {"wall_time_s": dask_time, "cluster_startup_s": startup,
                 "best_params": dask.best_params_, "best_blend": float(dask.best_score_)},
        "wall_time_ratio_serial_over_dask": ratio,
        "identical_best_params": same_params,
        "identical_split_scores": same_scores,
        "candidates": candidates(serial, dask),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    # Write to a temporary name first (ignored by git) so a crash leaves no half file.
    partial = output.with_name(output.name + ".tmp")
    partial.write_text(json.dumps(record, indent=2) + "\n")
    partial.replace(output)
    print(f"results written to {output}")


if __name__ == "__main__":
    main()
