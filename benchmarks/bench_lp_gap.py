"""Benchmark the LP-gap regularizer against the bound-width penalty on 2-25x5-1 nets.

For each problem (peaks, himmelblau, ackley-2) and each setting (none; BW, LP and BW+LP at
weights 1e-4, 1e-3, 1e-2, where BW+LP means ``bound_width = lp_gap = weight``) it records:
unstable neurons, the root LP gap over the whole box (MILP optimum minus root LP bound, in
min-max-scaled output units as in Tsay, arXiv 2604.22746, Tables 3-12), HiGHS MILP time
(one thread; a run stopped by the time limit counts at the limit), the test-MSE ratio and
the training-time ratio to the unregularized fit.

Phase 1 fits every model one after another, so training times are not distorted by other
work; it also fits one LP model with the exact engine to record its per-LP time, and measures
how close the fast engine's bound comes to the exact LP value on the trained nets. Phase 2
solves the MILPs in ``--jobs`` worker processes, each single-threaded.

Commands used for docs/benchmarks.md (the first with interval bounds and HiGHS's default
heuristics, the solve before optimize() tightened bounds; the second with the current default)::

    python benchmarks/bench_lp_gap.py --samples 1000 --epochs 200 --time-limit 600 --jobs 2
    python benchmarks/bench_lp_gap.py --samples 1000 --epochs 200 --time-limit 600 --jobs 2 \
        --solve lp --output benchmarks/results/lp_gap_tightened.json
"""

import argparse
import copy
import json
import statistics
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
import torch
from joblib import Parallel, delayed

from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.bounds import interval_bounds_torch
from sk_relaxreg.datasets import make_ackley, make_himmelblau, make_peaks
from sk_relaxreg.lp_gap import ExactLPEngine, FastLPEngine

RESULTS = Path(__file__).resolve().parent / "results"
PROBLEMS = {"peaks": make_peaks, "himmelblau": make_himmelblau, "ackley": lambda n, random_state: make_ackley(n, 2, random_state)}
WEIGHTS = (1e-4, 1e-3, 1e-2)

#: The solve the recorded run used, from before optimize() tightened bounds: interval big-M
#: constants and HiGHS's own defaults (RINS and RENS on). bench_tightening.py compares it
#: with the current default.
RECORDED_SOLVE = {"bounds": "interval", "solver_options": {
    "threads": 1, "mip_heuristic_run_rins": True, "mip_heuristic_run_rens": True}}

#: Solve settings by ``--solve`` name; "lp" is optimize()'s current default on one thread.
SOLVES = {"interval": RECORDED_SOLVE, "lp": {"bounds": "lp", "solver_options": {"threads": 1}}}


def settings():
    yield "none", 0.0, {}
    for weight in WEIGHTS:
        yield "BW", weight, {"bound_width": weight}
        yield "LP", weight, {"lp_gap": weight}
        yield "BW+LP", weight, {"bound_width": weight, "lp_gap": weight}


def split(problem, n_samples, seed):
    X, y = PROBLEMS[problem](n_samples, random_state=seed)
    n_train = int(0.7 * n_samples)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def fast_engine_agreement(model, X, n_iterations=3):
    """Relative difference between the exact LP value and fresh/trained fast bounds on training points."""
    module = copy.deepcopy(model.net_.module_).double()
    box = model._x_scaling.transform(model.input_bounds_.T).T
    lower = torch.as_tensor(box[:, 0], dtype=torch.float64)
    upper = torch.as_tensor(box[:, 1], dtype=torch.float64)
    points = torch.as_tensor(model._x_scaling.transform(X[:64]), dtype=torch.float64)
    bounds = [(L.detach(), U.detach()) for L, U in interval_bounds_torch(module, lower, upper)]
    direction = torch.ones(1, dtype=torch.float64)
    exact = ExactLPEngine().lower_values(module, points, bounds, direction).detach().numpy()
    fast = FastLPEngine(n_iterations=n_iterations).lower_values(module, points, bounds, direction)
    fast = fast.detach().numpy()
    relative = (exact - fast) / np.maximum(1.0, np.abs(exact))
    return {"median": float(np.median(relative)), "max": float(np.max(relative))}


def phase_fit(args, workdir):
    # A short warm-up fit, so the first timed fit does not pay for lazy imports.
    X, y, _, _ = split("peaks", 200, args.seed)
    TractableMLPRegressor(hidden_layer_sizes=(25,) * 5, max_epochs=2, lp_gap=1e-3).fit(X, y)
    runs = []
    for problem in PROBLEMS:
        X, y, X_test, y_test = split(problem, args.samples, args.seed)
        for name, weight, params in settings():
            model = TractableMLPRegressor(
                hidden_layer_sizes=(25,) * 5, max_epochs=args.epochs, batch_size=64,
                random_state=args.seed, **params,
            )
            start = time.perf_counter()
            model.fit(X, y)
            fit_time = time.perf_counter() - start
            path = workdir / f"{problem}_{name}_{weight:g}.joblib"
            joblib.dump(model, path)
            run = {
                "problem": problem, "setting": name, "weight": weight, "fit_time": fit_time,
                "test_mse": float(np.mean((model.predict(X_test) - y_test) ** 2)),
                "n_unstable": model.n_unstable_, "path": str(path),
                "y_range": float(y.max() - y.min()),
            }
            if name in ("LP", "BW+LP"):
                run["fast_vs_exact"] = fast_engine_agreement(model, X)
            runs.append(run)
            print(f"{problem:10s} {name:6s} {weight:g}: fit {fit_time:.1f} s, unstable {model.n_unstable_}, "
                  f"mse {run['test_mse']:.4g}", flush=True)

    # The exact engine once, to record its per-LP time and training-time ratio.
    X, y, _, _ = split("peaks", args.samples, args.seed)
    model = TractableMLPRegressor(hidden_layer_sizes=(25,) * 5, max_epochs=args.epochs, batch_size=64,
                                  random_state=args.seed, lp_gap=1e-3, lp_gap_engine="exact")
    start = time.perf_counter()
    model.fit(X, y)
    exact_fit = time.perf_counter() - start
    engine = model.net_.batch_penalties[0].engine
    exact = {"fit_time": exact_fit, "n_solves": engine.n_solves, "n_failures": engine.n_failures,
             "seconds_per_lp": engine.solve_seconds / max(engine.n_solves, 1)}
    print(f"exact engine: {exact}", flush=True)
    return runs, exact


def solve_one(run, time_limit, solve):
    model = joblib.load(run["path"])
    report = model.tractability_report(time_limit=time_limit, **SOLVES[solve])
    status = report["milp_status"]
    # Tightening is part of what a user waits for, so it counts towards the MILP time.
    total = report["solve_time"] + report["bound_time"]
    return {
        "milp_status": status,
        "milp_time": total if status == "optimal" else time_limit,
        "bound_time": report["bound_time"],
        "n_binaries": report["n_binaries"],
        "n_nodes": report["n_nodes"],
        "root_lp_gap_minmax": (report.get("root_lp_gap") or float("nan")) / run["y_range"],
        "milp_objective": report["milp_objective"],
        "root_lp_bound": report["root_lp_bound"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="samples before the 70/30 split")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds per MILP")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--solve", choices=sorted(SOLVES), default="interval",
                        help="how the MILPs are solved: interval bounds with HiGHS's default "
                             "heuristics (the recorded run), or optimize()'s default")
    parser.add_argument("--output", type=Path, default=RESULTS / "lp_gap.json")
    args = parser.parse_args()

    started = time.strftime("%Y-%m-%d %H:%M:%S")
    with tempfile.TemporaryDirectory() as tmp:
        runs, exact = phase_fit(args, Path(tmp))
        solved = Parallel(n_jobs=args.jobs)(
            delayed(solve_one)(run, args.time_limit, args.solve) for run in runs
        )
    for run, result in zip(runs, solved):
        run.update(result)
        run.pop("path")

    for problem in PROBLEMS:
        base = next(r for r in runs if r["problem"] == problem and r["setting"] == "none")
        for run in (r for r in runs if r["problem"] == problem):
            run["mse_ratio"] = run["test_mse"] / base["test_mse"]
            run["fit_ratio"] = run["fit_time"] / base["fit_time"]
            print(f"{problem:10s} {run['setting']:6s} {run['weight']:g}: unstable {run['n_unstable']:3d} "
                  f"root gap {run['root_lp_gap_minmax']:.4f} milp {run['milp_time']:.2f} s "
                  f"({run['milp_status']}) mse ratio {run['mse_ratio']:.2f} fit ratio {run['fit_ratio']:.2f}")

    lp_ratios = [r["fit_ratio"] for r in runs if r["setting"] == "LP"]
    base_peaks = next(r for r in runs if r["problem"] == "peaks" and r["setting"] == "none")
    exact["fit_ratio"] = exact["fit_time"] / base_peaks["fit_time"]
    output = {
        "started": started, "samples": args.samples, "epochs": args.epochs, "seed": args.seed,
        "time_limit": args.time_limit, "solve": args.solve, "runs": runs, "exact_engine": exact,
        "median_lp_fit_ratio": statistics.median(lp_ratios),
    }
    RESULTS.mkdir(exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2))
    print(f"median LP fit ratio {output['median_lp_fit_ratio']:.2f}; exact engine {exact}")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
