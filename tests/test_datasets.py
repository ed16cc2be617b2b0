"""Benchmark functions: sampling, reproducibility and the stated global minima."""

import numpy as np
import pytest

from conftest import grid_points
from sk_relaxreg.datasets import (
    BENCHMARKS,
    make_ackley,
    make_himmelblau,
    make_peaks,
    make_rastrigin,
)

MAKERS = {
    "peaks": make_peaks,
    "himmelblau": make_himmelblau,
    "ackley": make_ackley,
    "rastrigin": make_rastrigin,
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_shapes_and_domain(name):
    benchmark = BENCHMARKS[name]

    X, y = MAKERS[name](n_samples=50, random_state=0)

    assert X.shape == (50, 2)
    assert y.shape == (50,)
    assert np.all(X >= benchmark.lower)
    assert np.all(X <= benchmark.upper)
    np.testing.assert_allclose(y, benchmark(X))
    np.testing.assert_array_equal(benchmark.domain(), [[benchmark.lower, benchmark.upper]] * 2)


@pytest.mark.parametrize("name", ["ackley", "rastrigin"])
def test_any_dimension(name):
    benchmark = BENCHMARKS[name]

    X, y = MAKERS[name](n_samples=40, n_features=5, random_state=1)

    assert X.shape == (40, 5)
    assert y.shape == (40,)
    assert np.all((X >= benchmark.lower) & (X <= benchmark.upper))
    assert benchmark.domain(5).shape == (5, 2)
    assert benchmark(np.zeros(5))[0] == pytest.approx(benchmark.minimum, abs=1e-12)
    assert np.all(y >= benchmark.minimum - 1e-12)


@pytest.mark.parametrize("name", list(MAKERS))
def test_latin_hypercube_strata(name):
    benchmark = BENCHMARKS[name]
    n_samples = 64

    X, _ = MAKERS[name](n_samples=n_samples, random_state=3)

    # Each of the n equal slices of every axis contains exactly one sample.
    strata = np.floor((X - benchmark.lower) / (benchmark.upper - benchmark.lower) * n_samples)
    for column in strata.T:
        assert sorted(column.astype(int).tolist()) == list(range(n_samples))


@pytest.mark.parametrize("name", list(MAKERS))
def test_reproducible_with_random_state(name):
    make = MAKERS[name]

    X_first, y_first = make(n_samples=30, random_state=42)
    X_second, y_second = make(n_samples=30, random_state=42)
    X_other, _ = make(n_samples=30, random_state=43)
    X_instance, _ = make(n_samples=30, random_state=np.random.RandomState(42))

    np.testing.assert_array_equal(X_first, X_second)
    np.testing.assert_array_equal(y_first, y_second)
    assert not np.array_equal(X_first, X_other)
    np.testing.assert_array_equal(X_instance, X_first)


@pytest.mark.parametrize("name", list(MAKERS))
def test_stated_minimum_at_minimizers(name):
    benchmark = BENCHMARKS[name]

    values = benchmark(np.array(benchmark.minimizers))

    # The minimizers are given to 6 or more decimals; the value is flat around them.
    np.testing.assert_allclose(values, benchmark.minimum, rtol=0, atol=1e-8)
    for point in benchmark.minimizers:
        assert benchmark.lower <= min(point)
        assert max(point) <= benchmark.upper


@pytest.mark.parametrize("name", list(MAKERS))
def test_no_grid_point_below_minimum(name):
    benchmark = BENCHMARKS[name]
    grid = grid_points(benchmark.domain(), 401)

    values = benchmark(grid)

    assert values.min() >= benchmark.minimum - 1e-9
    # The grid gets close to the minimum, so the stated value is not far too low either.
    assert values.min() <= benchmark.minimum + 0.05 * max(1.0, abs(benchmark.minimum))


def test_known_values():
    # Values worked out by hand from the formulas.
    assert BENCHMARKS["himmelblau"]([0.0, 0.0])[0] == pytest.approx(170.0)
    assert BENCHMARKS["peaks"]([0.0, 0.0])[0] == pytest.approx(3 * np.exp(-1) - np.exp(-1) / 3)
    assert BENCHMARKS["rastrigin"]([1.0, 0.0])[0] == pytest.approx(1.0)
    assert BENCHMARKS["rastrigin"]([0.5, 0.5])[0] == pytest.approx(20.0 + 2 * (0.25 + 10.0))
    expected_ackley = -20 * np.exp(-0.2) - np.exp(1.0) + 20 + np.e
    assert BENCHMARKS["ackley"]([1.0, 1.0])[0] == pytest.approx(expected_ackley)


@pytest.mark.parametrize("make", [make_peaks, make_ackley])
@pytest.mark.parametrize("n_samples", [0, -3, 2.5, True, "10"])
def test_bad_n_samples(make, n_samples):
    with pytest.raises(ValueError, match=rf"n_samples must be a positive int; got {n_samples!r}"):
        make(n_samples=n_samples)


@pytest.mark.parametrize("n_features", [0, 1.0, False])
def test_bad_n_features(n_features):
    with pytest.raises(ValueError, match=rf"n_features must be a positive int; got {n_features!r}"):
        make_rastrigin(n_samples=10, n_features=n_features)
