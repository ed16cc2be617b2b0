"""Benchmark the core: training cost of each penalty, MILP solve times, optimize() overhead.

Three parts, each writing a JSON file under ``benchmarks/results/``:

``fit-cost``
    Fit time of each penalty (weight 1e-3) relative to the unregularized fit, same
    architecture, data and seed, median over seeds. Fits run one after another.
``milp``
    On peaks, unregularized versus bound-width nets of the same architecture and seed:
    test R^2, unstable neurons and HiGHS solve time (one thread), with and without the
    starting incumbent for the unregularized nets. A solve stopped by the time limit counts
    at the limit. Seeds run in parallel worker processes (``--jobs``), each single-threaded.
``overhead``
    ``optimize()`` wall time minus HiGHS's own solve time on a 2-50x5-1 network.

Commands used for docs/benchmarks.md::

    python benchmarks/bench_core.py fit-cost --seeds 3
    python benchmarks/bench_core.py milp --seeds 3 --time-limit 300 --jobs 2 --weights 1e-2,3e-2,1e-1
    python benchmarks/bench_core.py overhead --repeats 7
"""

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.datasets import BENCHMARKS, make_peaks

RESULTS = Path(__file__).resolve().parent / "results"
ONE_THREAD = {"threads": 1}

#: The solve these recorded runs used, from before optimize() tightened bounds: interval
#: big-M constants and HiGHS's own defaults (RINS and RENS on). Kept so that the recorded
#: numbers can be reproduced; bench_tightening.py compares it with the current default.
RECORDED_SOLVE = {"bounds": "interval", "solver_options": {
    **ONE_THREAD, "mip_heuristic_run_rins": True, "mip_heuristic_run_rens": True}}


def peaks_split(n_samples, seed):
    X, y = make_peaks(n_samples, random_state=seed)
    n_train = int(0.7 * n_samples)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def machine():
    import os

    return {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()}


def fit_cost(args):
    penalties = ["none", "l1", "l2", "bound_width", "stable_neuron", "relu_stability"]
    times = {name: [] for name in penalties}
    # A short warm-up fit, so the first timed fit does not pay for lazy imports.
    X, y, _, _ = peaks_split(200, 0)
    TractableMLPRegressor(hidden_layer_sizes=args.hidden, max_epochs=2, bound_width=1e-3).fit(X, y)
    for seed in range(args.seeds):
        X, y, _, _ = peaks_split(args.samples, seed)
        for name in penalties:
            weights = {} if name == "none" else {name: 1e-3}
            model = TractableMLPRegressor(
                hidden_layer_sizes=args.hidden, max_epochs=args.epochs, random_state=seed, **weights
            )
            start = time.perf_counter()
            model.fit(X, y)
            times[name].append(time.perf_counter() - start)
            print(f"seed {seed} {name:15s} {times[name][-1]:.2f} s", flush=True)

    rows = {}
    for name in penalties:
        ratios = [t / base for t, base in zip(times[name], times["none"])]
        rows[name] = {"times": times[name], "median_time": statistics.median(times[name]),
                      "median_ratio": statistics.median(ratios)}
        print(f"{name:15s} median {rows[name]['median_time']:.2f} s  ratio {rows[name]['median_ratio']:.2f}")
    return {"hidden": args.hidden, "epochs": args.epochs, "samples": args.samples, "rows": rows}


def _solve(model, time_limit, warm_start):
    result = model.optimize(time_limit=time_limit, warm_start=warm_start, **RECORDED_SOLVE)
    solve_time = result.solve_time if result.status == "optimal" else time_limit
    truth = float(BENCHMARKS["peaks"](result.x)[0]) if result.x is not None else None
    return {
        "status": result.status,
        "solve_time": solve_time,
        "reported_time": result.solve_time,
        "n_nodes": result.n_nodes,
        "x": None if result.x is None else result.x.tolist(),
        "objective": result.objective,
        "predicted": result.predicted,
        "true_value": truth,
        "incumbent_objective": result.incumbent_objective,
        "dual_bound": result.dual_bound,
        "mip_gap": result.mip_gap,
    }


def _milp_seed(seed, args):
    X, y, X_test, y_test = peaks_split(args.samples, seed)
    rows = []
    for weight in [0.0] + args.weights:
        model = TractableMLPRegressor(
            hidden_layer_sizes=args.hidden, max_epochs=args.epochs, random_state=seed, bound_width=weight
        )
        start = time.perf_counter()
        model.fit(X, y)
        row = {
            "seed": seed,
            "bound_width": weight,
            "fit_time": time.perf_counter() - start,
            "test_r2": model.score(X_test, y_test),
            "n_unstable": model.n_unstable_,
            "seeded": _solve(model, args.time_limit, warm_start=True),
        }
        if weight == 0.0:
            row["unseeded"] = _solve(model, args.time_limit, warm_start=False)
        print(json.dumps({k: v for k, v in row.items() if k not in ("seeded", "unseeded")})
              + f" solve {row['seeded']['solve_time']:.2f} s {row['seeded']['status']}", flush=True)
        rows.append(row)
    return rows


def milp(args):
    per_seed = Parallel(n_jobs=args.jobs)(delayed(_milp_seed)(seed, args) for seed in range(args.seeds))
    rows = [row for seed_rows in per_seed for row in seed_rows]
    summary = {}
    for weight in [0.0] + args.weights:
        selected = [row for row in rows if row["bound_width"] == weight]
        entry = {
            "median_solve_time": statistics.median(r["seeded"]["solve_time"] for r in selected),
            "median_test_r2": statistics.median(r["test_r2"] for r in selected),
            "median_unstable": statistics.median(r["n_unstable"] for r in selected),
            "statuses": [r["seeded"]["status"] for r in selected],
        }
        if weight == 0.0:
            entry["median_solve_time_unseeded"] = statistics.median(
                r["unseeded"]["solve_time"] for r in selected
            )
        summary[str(weight)] = entry
        print(f"bound_width {weight:g}: {entry}")
    base = summary["0.0"]
    for weight in args.weights:
        entry = summary[str(weight)]
        entry["speedup"] = base["median_solve_time"] / max(entry["median_solve_time"], 1e-9)
        entry["r2_drop"] = base["median_test_r2"] - entry["median_test_r2"]
    return {"hidden": args.hidden, "epochs": args.epochs, "samples": args.samples,
            "time_limit": args.time_limit, "rows": rows, "summary": summary}


def overhead(args):
    X, y, _, _ = peaks_split(args.samples, 0)
    model = TractableMLPRegressor(
        hidden_layer_sizes=(50,) * 5, max_epochs=args.epochs, random_state=0, bound_width=args.overhead_weight
    ).fit(X, y)
    extra = []
    for _ in range(args.repeats):
        result = model.optimize(time_limit=args.time_limit, **RECORDED_SOLVE)
        extra.append(result.wall_time - result.solve_time)
        print(f"wall {result.wall_time:.3f} s solver {result.solve_time:.3f} s status {result.status}", flush=True)
    start = time.perf_counter()
    model.to_milp(bounds="interval")
    pyomo_build = time.perf_counter() - start
    return {
        "hidden": [50] * 5,
        "n_unstable": model.n_unstable_,
        "overheads": extra,
        "median_overhead": statistics.median(extra),
        "pyomo_build_time": pyomo_build,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["fit-cost", "milp", "overhead"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=2000, help="samples before the 70/30 split")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--hidden", type=lambda s: tuple(int(v) for v in s.split(",")), default=(50, 50, 50))
    parser.add_argument("--weights", type=lambda s: [float(v) for v in s.split(",")],
                        default=[1e-2, 3e-2, 1e-1], help="bound_width weights for the milp part")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per MILP")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for the milp part")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--overhead-weight", type=float, default=1e-2)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()

    run = {"fit-cost": fit_cost, "milp": milp, "overhead": overhead}[args.part]
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    result = run(args)
    result.update(part=args.part, started=started, machine=machine())
    RESULTS.mkdir(exist_ok=True)
    output = args.output or RESULTS / f"core_{args.part}.json"
    output.write_text(json.dumps(result, indent=2))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
