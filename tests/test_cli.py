"""Tests for the ``sk-relaxreg`` command line and its ``demo`` subcommand."""

import subprocess
import sys

import numpy as np
import pytest

from sk_relaxreg import __version__
from sk_relaxreg.cli import compare_surrogates, format_table, main, parse_hidden_layer_sizes
from sk_relaxreg.datasets import BENCHMARKS
from sk_relaxreg.result import OPTIMAL, STATUSES

TINY_DEMO = [
    "demo", "--hidden", "8", "--samples", "200", "--epochs", "5", "--time-limit", "10", "--quiet",
]
REGULARIZED_LABEL = "bound_width=0.01"


def parse_table(text):
    """Return ``(headers, {row label: [cells]})`` of the table that ``demo`` prints."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    # Columns are separated by two spaces. Cells such as "(0.1, -1.6)" contain single spaces.
    headers = [cell.strip() for cell in lines[rule - 1].split("  ") if cell.strip()]
    rows = {}
    for line in lines[rule + 1:]:
        cells = [cell.strip() for cell in line.split("  ") if cell.strip()]
        rows[cells[0]] = cells[1:]
    return headers, rows


def parse_point(text):
    return np.array([float(value) for value in text.strip("()").split(",")])


def test_demo_table_has_both_models(capsys):
    exit_code = main(TINY_DEMO)
    captured = capsys.readouterr()

    assert exit_code == 0
    assert "Training" not in captured.err  # --quiet hides the status lines
    headers, rows = parse_table(captured.out)
    assert headers == ["unregularized", REGULARIZED_LABEL]
    for label in ("test R^2", "unstable neurons", "binaries in MILP", "solve time [s]",
                  "B&B nodes", "status", "x*", "surrogate at x*", "peaks at x*"):
        assert len(rows[label]) == 2, label

    minimum = f"{BENCHMARKS['peaks'].minimum:.4f}"
    assert rows["known global minimum"] == [minimum, minimum]
    for column in range(2):
        assert rows["status"][column] in STATUSES
        # Over the box the MILP was built on, every unstable neuron costs one binary.
        assert rows["binaries in MILP"][column] == rows["unstable neurons"][column]
        x_star = parse_point(rows["x*"][column])
        assert np.all(np.abs(x_star) <= 2.0)
        # The "peaks at x*" row is the true function, not the surrogate, at the printed x*.
        true_value = BENCHMARKS["peaks"](x_star)[0]
        assert float(rows["peaks at x*"][column]) == pytest.approx(true_value, abs=5e-3)


def test_demo_shows_progress_without_quiet(capsys):
    exit_code = main([argument for argument in TINY_DEMO if argument != "--quiet"])
    captured = capsys.readouterr()

    assert exit_code == 0
    assert "Training the unregularized model" in captured.err
    assert f"Training the {REGULARIZED_LABEL} model" in captured.err
    assert "training:" in captured.err  # the estimator's tqdm bar


def test_comparison_optimum_matches_dense_grid():
    runs, n_train, n_test = compare_surrogates(
        hidden_layer_sizes=(8,), bound_width=1.0, n_samples=200, max_epochs=5,
        time_limit=10, seed=3, batch_size=32,
    )

    assert (n_train, n_test) == (140, 60)
    unregularized, regularized = runs
    assert unregularized.estimator.bound_width == 0.0
    assert regularized.estimator.bound_width == 1.0
    # With the same seed and data the penalty is the only difference, and it narrows the bounds.
    widths = [sum(float(np.sum(U - L)) for L, U in run.estimator.layer_bounds_) for run in runs]
    assert widths[1] < widths[0]

    grid_axis = np.linspace(-2.0, 2.0, 201)
    grid = np.array(np.meshgrid(grid_axis, grid_axis)).reshape(2, -1).T
    for run in runs:
        result = run.result
        assert result.status == OPTIMAL
        assert result.predicted == pytest.approx(run.estimator.predict(result.x[None, :])[0])
        # No grid point of the surrogate lies below the proven MILP minimum.
        assert result.predicted <= run.estimator.predict(grid).min() + 1e-6


def test_module_entry_point_runs():
    completed = subprocess.run(
        [sys.executable, "-m", "sk_relaxreg", *TINY_DEMO],
        capture_output=True, text=True, timeout=300,
    )

    assert completed.returncode == 0, completed.stderr
    assert "unregularized" in completed.stdout
    assert REGULARIZED_LABEL in completed.stdout


@pytest.mark.parametrize(
    ("arguments", "bad_value"),
    [
        (["--hidden", "50,x"], "50,x"),
        (["--hidden", "50,0"], "50,0"),
        (["--epochs", "-3"], "-3"),
        (["--epochs", "2.5"], "2.5"),
        (["--samples", "5"], "5"),
        (["--time-limit", "0"], "0"),
        (["--bound-width", "nan"], "nan"),
        (["--seed", "-1"], "-1"),
        (["--batch-size", "many"], "many"),
    ],
)
def test_invalid_argument_exits_2(capsys, arguments, bad_value):
    exit_code = main(["demo", *arguments])
    captured = capsys.readouterr()

    assert exit_code == 2
    assert f"argument {arguments[0]}" in captured.err
    assert repr(bad_value) in captured.err


def test_no_subcommand_prints_help(capsys):
    exit_code = main([])
    captured = capsys.readouterr()

    assert exit_code == 2
    assert "usage: sk-relaxreg" in captured.err
    assert "demo" in captured.err


def test_version_flag(capsys):
    exit_code = main(["--version"])

    assert exit_code == 0
    assert capsys.readouterr().out.strip() == f"sk-relaxreg {__version__}"


def test_hidden_layer_sizes_parsing():
    assert parse_hidden_layer_sizes("50, 50,50") == (50, 50, 50)
    assert parse_hidden_layer_sizes("8") == (8,)


def test_format_table_aligns_columns():
    table = format_table({
        "first": {"row": "1", "longer row": "123456"},
        "second header": {"row": "(0.1, 2.0)", "longer row": "x"},
    })
    lines = table.splitlines()

    assert len(lines) == 4
    assert len({len(line) for line in lines}) == 1  # values are right-aligned
    assert lines[2].startswith("row ")
    assert lines[3].endswith("  x")
