"""Tune the bound_width penalty on the peaks function and plot accuracy against MILP effort.

Run from the repository root, optionally with the output path of the plot::

    python examples/grid_search_peaks.py [grid_search_peaks.png] [--n-jobs 2]

Each candidate is scored by 3-fold cross-validation on R^2 and on the simplex
iterations HiGHS needs to find the global minimum of the fitted network over
[-2, 2]^2. The search refits the setting with the best blend of the two, and
the plot shows which settings are Pareto-optimal.
"""

import argparse
import time
from pathlib import Path

from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, KFold

from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.datasets import BENCHMARKS, make_peaks
from sk_relaxreg.pareto import pareto_front, plot_pareto_front
from sk_relaxreg.scoring import tractability_scoring

BOUND_WIDTHS = [0.0, 1e-4, 1e-3, 1e-2, 1e-1]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "output", nargs="?", default="grid_search_peaks.png",
        help="path of the PNG plot to write (default: grid_search_peaks.png)",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=1,
        help="parallel cross-validation fits; each worker uses one thread (default: 1)",
    )
    parser.add_argument(
        "--n-samples", type=int, default=400, help="training samples of peaks (default: 400)"
    )
    parser.add_argument(
        "--max-epochs", type=int, default=150, help="training epochs per fit (default: 150)"
    )
    return parser.parse_args()


def main():
    args = parse_args()
    X, y = make_peaks(n_samples=args.n_samples, random_state=0)
    estimator = TractableMLPRegressor(
        hidden_layer_sizes=(16, 16),
        max_epochs=args.max_epochs,
        batch_size=32,
        lr=1e-2,
        random_state=0,
    )
    search = GridSearchCV(
        estimator,
        {"bound_width": BOUND_WIDTHS},
        scoring=tractability_scoring(effort="simplex_iterations", effort_weight=0.1),
        refit="blend",
        cv=KFold(n_splits=3, shuffle=True, random_state=0),
        n_jobs=args.n_jobs,
    )
    start = time.perf_counter()
    # With --n-jobs > 1, each loky worker gets one BLAS/OpenMP thread, so parallel fits
    # do not compete for cores (the estimator trains on one torch thread by default).
    with parallel_config(backend="loky", inner_max_num_threads=1):
        search.fit(X, y)
    print(f"search of {len(BOUND_WIDTHS)} settings x 3 folds: {time.perf_counter() - start:.1f} s")

    front = pareto_front(search)
    print(f"{'bound_width':>12} {'R^2':>8} {'iterations':>11} {'blend':>8}  Pareto")
    for i, params in enumerate(front.params):
        print(
            f"{params['bound_width']:>12g} {front.accuracy[i]:8.4f} {front.effort[i]:11.0f} "
            f"{search.cv_results_['mean_test_blend'][i]:8.4f}  "
            f"{'yes' if front.is_efficient[i] else ''}"
        )
    print(f"refit with the best blend: {search.best_params_}")

    result = search.best_estimator_.optimize(solver_options={"threads": 1})
    known = BENCHMARKS["peaks"].minimum
    print(
        f"minimum of the refitted network: {result.objective:.4f} at x = {result.x.round(4)} "
        f"(status {result.status}; forward pass there {result.predicted:.4f}; "
        f"true minimum of peaks {known:.4f})"
    )

    ax = plot_pareto_front(
        front,
        accuracy_label="R^2, 3-fold mean (greater is better)",
        effort_label="HiGHS simplex iterations to the global minimum, 3-fold mean",
        title="peaks, (16, 16) ReLU network: bound_width trade-off",
    )
    output = Path(args.output)
    ax.figure.savefig(output, dpi=120)
    print(f"plot written to {output.resolve()}")


if __name__ == "__main__":
    main()
