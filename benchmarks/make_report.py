"""Print the markdown tables of docs/benchmarks.md from the JSON files in benchmarks/results/.

Usage::

    python benchmarks/make_report.py > /tmp/tables.md
"""

import json
import statistics
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def load(name):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def fit_cost_table(data):
    lines = [
        f"Architecture 2-{'-'.join(map(str, data['hidden']))}-1, {data['samples']} samples (70% used "
        f"for training), {data['epochs']} epochs, penalty weight 1e-3.",
        "",
        "| penalty | median fit time (s) | median ratio to unregularized |",
        "|---|---|---|",
    ]
    for name, row in data["rows"].items():
        lines.append(f"| {name} | {row['median_time']:.2f} | {row['median_ratio']:.2f} |")
    return "\n".join(lines)


def milp_table(data):
    lines = [
        f"Architecture 2-{'-'.join(map(str, data['hidden']))}-1, {data['samples']} samples (70/30 "
        f"split), {data['epochs']} epochs, HiGHS one thread, time limit {data['time_limit']:g} s "
        f"(a run stopped by the limit counts at the limit).",
        "",
        "| bound_width | median solve time (s) | speed-up | median test R^2 | R^2 drop | median unstable | statuses |",
        "|---|---|---|---|---|---|---|",
    ]
    for weight, entry in data["summary"].items():
        speedup = f"{entry['speedup']:.1f}x" if "speedup" in entry else "1x"
        drop = f"{entry['r2_drop']:+.4f}" if "r2_drop" in entry else "-"
        lines.append(
            f"| {float(weight):g} | {entry['median_solve_time']:.2f} | {speedup} | "
            f"{entry['median_test_r2']:.4f} | {drop} | {entry['median_unstable']:g} | "
            f"{', '.join(entry['statuses'])} |"
        )
    lines += ["", "Starting incumbent on the unregularized nets (per seed):", "",
              "| seed | seeded: status, time, objective, gap | unseeded: status, time, objective, gap |",
              "|---|---|---|"]
    for row in data["rows"]:
        if row["bound_width"] != 0.0:
            continue

        def cell(solve):
            gap = "-" if solve["mip_gap"] is None else f"{solve['mip_gap']:.3g}"
            objective = "-" if solve["objective"] is None else f"{solve['objective']:.4f}"
            return f"{solve['status']}, {solve['reported_time']:.1f} s, {objective}, {gap}"

        lines.append(f"| {row['seed']} | {cell(row['seeded'])} | {cell(row['unseeded'])} |")
    return "\n".join(lines)


def overhead_table(data):
    return (
        f"2-50x5-1 net ({data['n_unstable']} unstable neurons): median optimize() wall time minus "
        f"HiGHS run time {statistics.median(data['overheads']) * 1000:.1f} ms over "
        f"{len(data['overheads'])} calls (max {max(data['overheads']) * 1000:.1f} ms); building the "
        f"Pyomo model with to_milp() took {data['pyomo_build_time']:.3f} s."
    )


def lp_gap_table(data):
    lines = [
        f"2-25x5-1 nets, {data['samples']} samples (70/30 split), {data['epochs']} epochs, batch 64, "
        f"seed {data['seed']}, LP gap on 8 points per batch with the fast engine (mode direct), "
        f"HiGHS one thread, time limit {data['time_limit']:g} s.",
        "",
        "| problem | setting | weight | unstable | root LP gap (min-max units) | MILP time (s) | status | test-MSE ratio | fit-time ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in data["runs"]:
        weight = "-" if run["setting"] == "none" else f"{run['weight']:g}"
        lines.append(
            f"| {run['problem']} | {run['setting']} | {weight} | {run['n_unstable']} | "
            f"{run['root_lp_gap_minmax']:.4f} | {run['milp_time']:.2f} | {run['milp_status']} | "
            f"{run['mse_ratio']:.2f} | {run['fit_ratio']:.2f} |"
        )
    exact = data["exact_engine"]
    agreement = [run["fast_vs_exact"] for run in data["runs"] if "fast_vs_exact" in run]
    lines += [
        "",
        f"Median LP fit-time ratio (fast engine): {data['median_lp_fit_ratio']:.2f}. Exact engine "
        f"(peaks, LP 1e-3): fit-time ratio {exact['fit_ratio']:.2f}, {exact['n_solves']} LPs at "
        f"{exact['seconds_per_lp'] * 1000:.2f} ms each, {exact['n_failures']} failures.",
        f"Fast engine (3 slope steps, the default, from a cold start) against the exact LP value on 64 training "
        f"points of each trained LP net, relative to max(1, |V|): median of medians "
        f"{statistics.median(a['median'] for a in agreement):.2e}, worst "
        f"{max(a['max'] for a in agreement):.2e}.",
    ]
    return "\n".join(lines)


def lp_gap_tightened_table(data):
    """Render the lp_gap table solved with LP-tightened bounds, binaries next to unstable neurons."""
    lines = [
        "| problem | setting | weight | unstable (interval) | binaries (LP bounds) | root LP gap "
        "(min-max units) | MILP time (s) | status | test-MSE ratio | fit-time ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in data["runs"]:
        weight = "-" if run["setting"] == "none" else f"{run['weight']:g}"
        lines.append(
            f"| {run['problem']} | {run['setting']} | {weight} | {run['n_unstable']} | "
            f"{run['n_binaries']} | {run['root_lp_gap_minmax']:.4f} | {run['milp_time']:.2f} | "
            f"{run['milp_status']} | {run['mse_ratio']:.2f} | {run['fit_ratio']:.2f} |"
        )
    return "\n".join(lines)


def seeds_table(data):
    """Render BW+LP over seeds with both solves: per-seed MSE ratios and times, and medians."""
    lines = [
        "| problem | BW+LP weight | test-MSE ratio per seed | median | LP-bounds time per seed (s) "
        "| median (s) | interval-bounds median (s) | seeds with ratio <= 1.5 and <= 6 s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in data["summary"]:
        rows = [r for r in data["rows"]
                if r["problem"] == entry["problem"] and r["weight"] == entry["weight"]]
        ratios = ", ".join(f"{r:.2f}" for r in entry["mse_ratios"])
        times = ", ".join(f"{r['lp_time']:.1f}" for r in rows)
        meeting = sum(r["mse_ratio"] <= 1.5 and r["lp_time"] <= 6.0 for r in rows)
        lines.append(
            f"| {entry['problem']} | {entry['weight']:g} | {ratios} | "
            f"{entry['median_mse_ratio']:.2f} | {times} | "
            f"{entry['median_lp_time']:.1f} | {entry['median_interval_time']:.1f} | "
            f"{meeting} of {len(rows)} |"
        )
    return "\n".join(lines)


def tightening_table(data):
    """Render median solve time, nodes and binaries of the four solves per problem and weight."""
    names = ("interval_heuristics", "interval", "lp_heuristics", "lp")
    lines = [
        "| problem | BW+LP weight | " + " | ".join(f"{n} time (s) / nodes" for n in names)
        + " | binaries interval / lp | speed-up per seed |",
        "|---|---|" + "---|" * len(names) + "---|---|",
    ]
    for entry in data["summary"]:
        cells = [f"{entry['median_' + n + '_time']:.1f} / {entry['median_' + n + '_nodes']:.0f}"
                 for n in names]
        lines.append(
            f"| {entry['problem']} | {entry['weight']:g} | " + " | ".join(cells)
            + f" | {entry['median_interval_binaries']:.0f} / {entry['median_lp_binaries']:.0f}"
            + " | " + ", ".join(f"{s:.1f}" for s in entry["speedups"]) + " |"
        )
    return "\n".join(lines)


def grid_table(data):
    return json.dumps({k: v for k, v in data.items() if not isinstance(v, (list, dict))}, indent=1)


def main():
    sections = [
        ("core_fit-cost.json", fit_cost_table),
        ("core_milp.json", milp_table),
        ("core_overhead.json", overhead_table),
        ("lp_gap.json", lp_gap_table),
        ("lp_gap_tightened.json", lp_gap_tightened_table),
        ("lp_gap_seeds_tightened.json", seeds_table),
        ("tightening.json", tightening_table),
        ("bench_grid_search.json", grid_table),
    ]
    for name, render in sections:
        data = load(name)
        if data is None:
            print(f"<!-- {name}: not run -->\n")
            continue
        print(f"<!-- from benchmarks/results/{name}, started {data.get('started', '?')} -->")
        print(render(data))
        print()


if __name__ == "__main__":
    main()
