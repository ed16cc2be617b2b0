"""Command line ``sk-relaxreg``: its ``demo`` compares a plain and a bound-regularized surrogate."""

import argparse
import math
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from . import __version__
from .datasets import BENCHMARKS, make_peaks
from .estimator import TractableMLPRegressor
from .result import OptimizationResult

#: Share of the samples held out as the test set.
TEST_FRACTION = 0.3

#: Minimum number of samples the demo accepts, because the 30% test split and the
#: estimator's 10% validation split each need a few points.
MIN_SAMPLES = 10

DEFAULT_HIDDEN = "50,50,50"
DEFAULT_BOUND_WIDTH = 1e-2
DEFAULT_SAMPLES = 2000
DEFAULT_EPOCHS = 200
DEFAULT_TIME_LIMIT = 60.0
DEFAULT_SEED = 0
DEFAULT_BATCH_SIZE = 64

#: Placeholder shown in the table where a value does not exist, such as x* without a solution.
MISSING = "-"


# ------------------------------------------------------------ argument types


def parse_hidden_layer_sizes(text):
    """Parse a comma-separated list of positive layer widths such as ``"50,50"``."""
    sizes = []
    for part in text.split(","):
        try:
            width = int(part)
        except ValueError:
            width = 0
        if width < 1:
            raise argparse.ArgumentTypeError(
                f"invalid value {text!r}: {part.strip()!r} is not a positive int. Give the "
                f"widths of the hidden layers as positive ints separated by commas, for "
                f"example 50,50."
            )
        sizes.append(width)
    return tuple(sizes)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected a positive int.")
    return value


def _sample_count(text):
    value = _positive_int(text)
    if value < MIN_SAMPLES:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: the demo needs at least {MIN_SAMPLES} samples for its "
            f"test and validation splits."
        )
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = None
    # NumPy and scikit-learn accept seeds in [0, 2**32 - 1].
    if value is None or not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: expected an int in [0, 2**32 - 1]."
        )
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: expected a finite number greater than 0."
        )
    return value


# ------------------------------------------------------------------- parser


def build_parser():
    """Build the ``sk-relaxreg`` argument parser with its ``demo`` subcommand."""
    parser = argparse.ArgumentParser(
        prog="sk-relaxreg",
        description=(
            "Train ReLU network surrogates whose MILP is easy to solve, then optimize them "
            "globally with HiGHS."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = subparsers.add_parser(
        "demo",
        help="train a plain and a bound-regularized surrogate of peaks and optimize both",
        description=(
            "Sample the peaks function on [-2, 2]^2 by Latin hypercube, hold out "
            f"{TEST_FRACTION:.0%} as test set, train an unregularized network and one with the "
            "bound-width penalty (same architecture and seed), minimize both by MILP with "
            "HiGHS and print one table that compares them."
        ),
    )
    demo.add_argument(
        "--hidden",
        type=parse_hidden_layer_sizes,
        default=DEFAULT_HIDDEN,
        metavar="W1,W2,...",
        help="number of neurons in each hidden layer, comma-separated (default: %(default)s)",
    )
    demo.add_argument(
        "--bound-width",
        type=_positive_float,
        default=DEFAULT_BOUND_WIDTH,
        help="weight of the bound-width penalty in the regularized model (dimensionless, "
        "relative to the MSE on standardized y; default: %(default)g)",
    )
    demo.add_argument(
        "--samples",
        type=_sample_count,
        default=DEFAULT_SAMPLES,
        help=f"number of Latin hypercube samples before the {TEST_FRACTION * 100:.0f}%% test "
        f"split, at least {MIN_SAMPLES} (default: %(default)s)",
    )
    demo.add_argument(
        "--epochs",
        type=_positive_int,
        default=DEFAULT_EPOCHS,
        help="number of training epochs (passes over the training data) per model "
        "(default: %(default)s)",
    )
    demo.add_argument(
        "--time-limit",
        type=_positive_float,
        default=DEFAULT_TIME_LIMIT,
        help="HiGHS time limit per MILP, in seconds (default: %(default)g)",
    )
    demo.add_argument(
        "--seed",
        type=_non_negative_int,
        default=DEFAULT_SEED,
        help="random seed for sampling, the test split and both trainings (default: %(default)s)",
    )
    demo.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        help="mini-batch size, in samples (default: %(default)s)",
    )
    demo.add_argument(
        "--quiet",
        action="store_true",
        help="hide progress bars and status lines on stderr and print only the results",
    )
    return parser


# --------------------------------------------------------------------- demo


@dataclass
class SurrogateRun:
    """One trained and optimized surrogate of the demo.

    Attributes
    ----------
    label : str
        Column header in the table.
    estimator : TractableMLPRegressor
        The fitted surrogate.
    result : OptimizationResult
        Its minimum over the domain found by HiGHS.
    test_r2 : float
        R^2 on the held-out test samples.
    """

    label: str
    estimator: TractableMLPRegressor
    result: OptimizationResult
    test_r2: float


def compare_surrogates(
    hidden_layer_sizes,
    bound_width,
    n_samples,
    max_epochs,
    time_limit,
    seed,
    batch_size,
    verbose=0,
    report=None,
):
    """Train and minimize an unregularized and a bound-regularized surrogate of peaks.

    Both surrogates share the architecture, the training data and ``seed``, so
    they differ only in the bound-width penalty. Each is minimized over the
    whole peaks domain [-2, 2]^2.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
    bound_width : float
        Penalty weight of the regularized surrogate.
    n_samples : int
        Latin hypercube samples; ``TEST_FRACTION`` of them are held out.
    max_epochs, batch_size : int
    time_limit : float
        HiGHS time limit per MILP, in seconds.
    seed : int
        Seeds the sampling, the split and both trainings.
    verbose : int, default=0
        Passed to the estimators; 1 shows a progress bar over epochs.
    report : callable, optional
        Called with one status line before and after each training and solve.

    Returns
    -------
    runs : list of SurrogateRun
        The unregularized surrogate first.
    n_train, n_test : int
        Sizes of the training and test splits.
    """
    report = report or (lambda message: None)
    domain = BENCHMARKS["peaks"].domain(n_features=2)
    X, y = make_peaks(n_samples=n_samples, random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_FRACTION, random_state=seed
    )
    hidden_text = ",".join(str(width) for width in hidden_layer_sizes)

    runs = []
    for label, weight in (("unregularized", 0.0), (f"bound_width={bound_width:g}", bound_width)):
        estimator = TractableMLPRegressor(
            hidden_layer_sizes=hidden_layer_sizes,
            max_epochs=max_epochs,
            batch_size=batch_size,
            random_state=seed,
            # The MILP covers the whole domain, not only the range of the training points.
            input_bounds=domain,
            bound_width=weight,
            verbose=verbose,
        )
        report(f"Training the {label} model ({hidden_text} hidden, {max_epochs} epochs)...")
        start = time.perf_counter()
        estimator.fit(X_train, y_train)
        report(
            f"  trained in {time.perf_counter() - start:.1f} s: "
            f"{estimator.n_unstable_} unstable neurons over the box."
        )

        report(f"Minimizing the {label} model with HiGHS (time limit {time_limit:g} s)...")
        result = estimator.optimize(sense="min", time_limit=time_limit)
        report(f"  HiGHS finished in {result.solve_time:.1f} s with status {result.status}.")
        runs.append(SurrogateRun(label, estimator, result, estimator.score(X_test, y_test)))
    return runs, len(X_train), len(X_test)


def run_demo(args, out=None, err=None):
    """Run :func:`compare_surrogates` with the parsed arguments and print the table to ``out``.

    Status lines and progress bars go to ``err`` (stderr by default) unless
    ``args.quiet`` is set. Returns the exit code 0, also when a solver limit
    stops a solve, because the table shows it as the status.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err

    def report(message):
        if not args.quiet:
            print(message, file=err, flush=True)

    # Mini-batches of a few dozen samples through layers this narrow give each thread
    # little work. On a 2-core machine shared with other jobs, one thread trained the
    # 2-50-50-1 network in 0.07 s per epoch against 0.3 s with two threads. The caller's
    # setting is restored after.
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs, n_train, n_test = compare_surrogates(
            hidden_layer_sizes=args.hidden,
            bound_width=args.bound_width,
            n_samples=args.samples,
            max_epochs=args.epochs,
            time_limit=args.time_limit,
            seed=args.seed,
            batch_size=args.batch_size,
            verbose=0 if args.quiet else 1,
            report=report,
        )
    finally:
        torch.set_num_threads(previous_threads)

    # The settings go out with the table, after the solves, because HiGHS prints its
    # banner straight to the process's stdout when the first solver object is created.
    benchmark = BENCHMARKS["peaks"]
    hidden_text = ",".join(str(width) for width in args.hidden)
    print(
        f"peaks on [{benchmark.lower:g}, {benchmark.upper:g}]^2: {n_train} training and "
        f"{n_test} test samples (Latin hypercube), hidden layers {hidden_text}, "
        f"{args.epochs} epochs, batch size {args.batch_size}, seed {args.seed}, "
        f"HiGHS time limit {args.time_limit:g} s per model.",
        file=out,
    )
    print(file=out)
    columns = {run.label: describe_run(run, benchmark) for run in runs}
    print(format_table(columns), file=out)
    return 0


def describe_run(run, benchmark):
    """Return the table rows of one surrogate as ``{row label: text}``."""
    estimator, result = run.estimator, run.result
    minimizer = np.asarray(benchmark.minimizers[0], dtype=float)
    if result.x is None:
        x_text = surrogate_text = true_text = distance_text = MISSING
    else:
        x_text = "(" + ", ".join(f"{value:.4f}" for value in result.x) + ")"
        surrogate_text = f"{result.predicted:.4f}"
        true_text = f"{float(benchmark(result.x)[0]):.4f}"
        distance_text = f"{float(np.linalg.norm(result.x - minimizer)):.4f}"
    return {
        "test R^2": f"{run.test_r2:.4f}",
        "unstable neurons": str(estimator.n_unstable_),
        "binaries in MILP": str(result.n_binaries),
        "solve time [s]": f"{result.solve_time:.2f}",
        "B&B nodes": MISSING if result.n_nodes is None else str(result.n_nodes),
        "status": result.status,
        "MIP gap": MISSING if result.mip_gap is None else f"{result.mip_gap:.2e}",
        "x*": x_text,
        "surrogate at x*": surrogate_text,
        "peaks at x*": true_text,
        "known global minimum": f"{benchmark.minimum:.4f}",
        "distance to minimizer": distance_text,
    }


def format_table(columns):
    """Format ``{column header: {row label: text}}`` as an aligned plain-text table.

    Row labels come from the first column and are left-aligned, and values are right-aligned.
    """
    headers = list(columns)
    row_labels = list(columns[headers[0]])
    label_width = max(len(label) for label in row_labels)
    widths = [
        max([len(header)] + [len(columns[header][label]) for label in row_labels])
        for header in headers
    ]

    def format_line(label, cells):
        padded = [cell.rjust(width) for cell, width in zip(cells, widths)]
        return "  ".join([label.ljust(label_width)] + padded).rstrip()

    lines = [format_line("", headers)]
    lines.append("  ".join(["-" * label_width] + ["-" * width for width in widths]))
    for label in row_labels:
        lines.append(format_line(label, [columns[header][label] for header in headers]))
    return "\n".join(lines)


# --------------------------------------------------------------------- main


def main(argv=None):
    """Run the ``sk-relaxreg`` command line and return its exit code.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 for invalid arguments or a missing subcommand.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse exits for --help, --version (code 0) and invalid arguments (code 2).
        return 0 if exc.code is None else exc.code

    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return run_demo(args)
