"""Benchmark LP-tightened bounds and HiGHS's sub-MIP heuristics on 2-25x5-1 nets.

For each problem (peaks, himmelblau, ackley-2), seed and BW+LP weight (0 is the
unregularized net), it fits one net and solves its minimum four ways. The big-M bounds are
interval or LP-tightened, and HiGHS's RINS and RENS heuristics are on (HiGHS's own default)
or off (optimize()'s default when it hands over a start). It records solve time (HiGHS
time plus tightening time, with a run stopped by the limit counted at the limit), nodes,
binaries and the objective. ``optima_spread`` is the spread of the optimal objectives, which
should stay within the MIP gap.

Fits run in ``--jobs`` worker processes; the solves of one net then run one after another
in the same worker, single-threaded.

Command used for docs/benchmarks.md::

    cd benchmarks
    python bench_tightening.py --weights 0,5e-4,1e-3 --seeds 3 --time-limit 120 --jobs 2
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from bench_lp_gap import split
from sk_relaxreg import TractableMLPRegressor

RESULTS = Path(__file__).resolve().parent / "results"

#: The four ways to solve: (bounds, RINS/RENS on).
CONFIGS = {
    "interval_heuristics": ("interval", True),
    "interval": ("interval", False),
    "lp_heuristics": ("lp", True),
    "lp": ("lp", False),
}


def run(problem, weight, seed, args):
    X, y, _, _ = split(problem, args.samples, seed)
    params = {"bound_width": weight, "lp_gap": weight} if weight else {}
    model = TractableMLPRegressor(hidden_layer_sizes=(25,) * 5, max_epochs=args.epochs,
                                  random_state=seed, **params).fit(X, y)
    row = {"problem": problem, "weight": weight, "seed": seed, "n_unstable": model.n_unstable_}
    for name, (bounds, heuristics) in CONFIGS.items():
        options = {"threads": 1, "mip_heuristic_run_rins": heuristics,
                   "mip_heuristic_run_rens": heuristics}
        result = model.optimize(time_limit=args.time_limit, bounds=bounds, solver_options=options)
        total = result.solve_time + result.bound_time
        row[name] = {"time": total if result.status == "optimal" else args.time_limit,
                     "bound_time": result.bound_time, "status": result.status,
                     "nodes": result.n_nodes, "binaries": result.n_binaries,
                     "objective": result.objective, "predicted": result.predicted}
    optimal = [row[name]["objective"] for name in CONFIGS if row[name]["status"] == "optimal"]
    row["optima_spread"] = (max(optimal) - min(optimal)) if optimal else None
    print(json.dumps({k: row[k] for k in ("problem", "weight", "seed", "optima_spread")}
                     | {name: round(row[name]["time"], 2) for name in CONFIGS}), flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="peaks,himmelblau,ackley")
    parser.add_argument("--weights", default="0,5e-4,1e-3")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS / "tightening.json")
    args = parser.parse_args()

    weights = [float(w) for w in args.weights.split(",")]
    tasks = [(problem, weight, seed) for problem in args.problems.split(",")
             for weight in weights for seed in range(args.seeds)]
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    rows = Parallel(n_jobs=args.jobs)(delayed(run)(*task, args) for task in tasks)

    summary = []
    for problem in args.problems.split(","):
        for weight in weights:
            selected = [r for r in rows if r["problem"] == problem and r["weight"] == weight]
            entry = {"problem": problem, "weight": weight}
            for name in CONFIGS:
                entry[f"median_{name}_time"] = statistics.median(r[name]["time"] for r in selected)
                entry[f"median_{name}_nodes"] = statistics.median(r[name]["nodes"] for r in selected)
                entry[f"median_{name}_binaries"] = statistics.median(
                    r[name]["binaries"] for r in selected)
            entry["speedups"] = [r["interval_heuristics"]["time"] / r["lp"]["time"] for r in selected]
            summary.append(entry)
            print(json.dumps(entry), flush=True)

    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(json.dumps(
        {"rows": rows, "summary": summary, "samples": args.samples, "epochs": args.epochs,
         "time_limit": args.time_limit, "started": started}, indent=2))


if __name__ == "__main__":
    main()
