"""How close the fast LP engine's bound comes to the exact LP value on trained networks.

For each problem a 2-25x5-1 net is trained with ``lp_gap=1e-3`` (fast engine, defaults). On
64 training points, the exact LP value V (HiGHS) is compared with the fast engine's bound
after a given number of slope steps, from a cold start (a new engine) and from the slopes the
training run left in its engine (warm start, as during training). Reported: the median and
max over points of ``(V - bound) / max(1, |V|)``, in standardized output units.

Command used for docs/benchmarks.md::

    python benchmarks/bench_fast_engine.py --samples 1000 --epochs 200
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.bounds import interval_bounds_torch
from sk_relaxreg.datasets import make_ackley, make_himmelblau, make_peaks
from sk_relaxreg.lp_gap import ExactLPEngine, FastLPEngine

RESULTS = Path(__file__).resolve().parent / "results"
PROBLEMS = {"peaks": make_peaks, "himmelblau": make_himmelblau,
            "ackley": lambda n, random_state: make_ackley(n, 2, random_state)}
STEPS = (3, 30, 300)


def relative_shortfall(exact, bound):
    relative = (exact - bound) / np.maximum(1.0, np.abs(exact))
    return {"median": float(np.median(relative)), "max": float(np.max(relative))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()

    rows = {}
    for problem, make in PROBLEMS.items():
        X, y = make(args.samples, random_state=0)
        X = X[: int(0.7 * args.samples)]
        y = y[: int(0.7 * args.samples)]
        model = TractableMLPRegressor(hidden_layer_sizes=(25,) * 5, max_epochs=args.epochs,
                                      random_state=0, lp_gap=1e-3).fit(X, y)
        module = model.net_.module_
        box = model._x_scaling.transform(model.input_bounds_.T).T
        lower = torch.as_tensor(box[:, 0], dtype=torch.float32)
        upper = torch.as_tensor(box[:, 1], dtype=torch.float32)
        # float32 rows, as during training, so the trained engine finds its stored slopes.
        points = torch.as_tensor(model._x_scaling.transform(X[:64]), dtype=torch.float32)
        bounds = [(L.detach(), U.detach()) for L, U in interval_bounds_torch(module, lower, upper)]
        direction = torch.ones(1)
        exact = ExactLPEngine().lower_values(module, points, bounds, direction).detach().numpy()

        row = {}
        for steps in STEPS:
            started = time.perf_counter()
            cold = FastLPEngine(n_iterations=steps).lower_values(module, points, bounds, direction)
            row[f"cold_{steps}"] = relative_shortfall(exact, cold.detach().numpy())
            row[f"cold_{steps}"]["seconds"] = time.perf_counter() - started
        trained = model.net_.batch_penalties[0].engine
        warm = trained.lower_values(module, points, bounds, direction)
        row["warm_3"] = relative_shortfall(exact, warm.detach().numpy())
        rows[problem] = row
        print(problem, json.dumps(row), flush=True)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fast_engine.json").write_text(json.dumps(
        {"samples": args.samples, "epochs": args.epochs, "rows": rows,
         "started": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=2))


if __name__ == "__main__":
    main()
