"""Standard test functions with known global minima, sampled by Latin hypercube.

Each ``make_*`` function returns ``(X, y)`` with ``X`` drawn by Latin
hypercube sampling (:class:`scipy.stats.qmc.LatinHypercube`) over the
function's standard domain. :data:`BENCHMARKS` contains each function with its
domain and known global minimum, so code can check an optimum against it.
"""

from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc
from sklearn.utils import check_random_state


def peaks(X):
    """MATLAB's ``peaks`` function of two variables."""
    x, y = X[:, 0], X[:, 1]
    return (
        3 * (1 - x) ** 2 * np.exp(-(x**2) - (y + 1) ** 2)
        - 10 * (x / 5 - x**3 - y**5) * np.exp(-(x**2) - y**2)
        - np.exp(-((x + 1) ** 2) - y**2) / 3
    )


def himmelblau(X):
    """Himmelblau's function ``(x^2 + y - 11)^2 + (x + y^2 - 7)^2``."""
    x, y = X[:, 0], X[:, 1]
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def ackley(X):
    """Ackley's function in any dimension, with a = 20, b = 0.2, c = 2 pi."""
    n = X.shape[1]
    root_mean_square = np.sqrt(np.sum(X**2, axis=1) / n)
    mean_cos = np.sum(np.cos(2 * np.pi * X), axis=1) / n
    return -20 * np.exp(-0.2 * root_mean_square) - np.exp(mean_cos) + 20 + np.e


def rastrigin(X):
    """Rastrigin's function ``10 d + sum_i (x_i^2 - 10 cos(2 pi x_i))``."""
    return 10 * X.shape[1] + np.sum(X**2 - 10 * np.cos(2 * np.pi * X), axis=1)


@dataclass(frozen=True)
class BenchmarkFunction:
    """A test function with its standard domain and known global minimum.

    Attributes
    ----------
    name : str
    function : callable
        Maps an array of shape (n_samples, n_features) to shape (n_samples,).
    lower, upper : float
        Every feature ranges over ``[lower, upper]``.
    minimum : float
        Global minimum value over the domain.
    minimizers : tuple of tuple
        Known global minimizers for the 2-D case (or the general pattern for
        functions defined in any dimension, evaluated at ``n_features``).
    """

    name: str
    function: object
    lower: float
    upper: float
    minimum: float
    minimizers: tuple

    def domain(self, n_features=2):
        """Return the domain as an array of shape (n_features, 2)."""
        return np.tile([self.lower, self.upper], (n_features, 1)).astype(float)

    def __call__(self, X):
        return self.function(np.atleast_2d(np.asarray(X, dtype=float)))


BENCHMARKS = {
    # Minimum of peaks on [-2, 2]^2 from a dense grid refined by a local solver;
    # the value matches the -6.551 quoted by Tsay (arXiv 2604.22746).
    "peaks": BenchmarkFunction("peaks", peaks, -2.0, 2.0, -6.551133332835841,
                               ((0.22827891, -1.62553496),)),
    "himmelblau": BenchmarkFunction(
        "himmelblau", himmelblau, -5.0, 5.0, 0.0,
        ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
    ),
    "ackley": BenchmarkFunction("ackley", ackley, -3.5, 3.5, 0.0, ((0.0, 0.0),)),
    "rastrigin": BenchmarkFunction("rastrigin", rastrigin, -5.12, 5.12, 0.0, ((0.0, 0.0),)),
}


def _sample(benchmark, n_samples, n_features, random_state):
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int; got {n_samples!r}.")
    if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or n_features < 1:
        raise ValueError(f"n_features must be a positive int; got {n_features!r}.")
    rng = check_random_state(random_state)
    sampler = qmc.LatinHypercube(d=n_features, seed=np.random.default_rng(rng.randint(2**31)))
    X = qmc.scale(sampler.random(n_samples), benchmark.lower, benchmark.upper)
    return X, benchmark.function(X)


def make_peaks(n_samples=1000, random_state=None):
    """Sample MATLAB's peaks function on [-2, 2]^2; global minimum about -6.5511."""
    return _sample(BENCHMARKS["peaks"], n_samples, 2, random_state)


def make_himmelblau(n_samples=1000, random_state=None):
    """Sample Himmelblau's function on [-5, 5]^2; global minimum 0 at four points."""
    return _sample(BENCHMARKS["himmelblau"], n_samples, 2, random_state)


def make_ackley(n_samples=1000, n_features=2, random_state=None):
    """Sample Ackley's function on [-3.5, 3.5]^d; global minimum 0 at the origin."""
    return _sample(BENCHMARKS["ackley"], n_samples, n_features, random_state)


def make_rastrigin(n_samples=1000, n_features=2, random_state=None):
    """Sample Rastrigin's function on [-5.12, 5.12]^d; global minimum 0 at the origin."""
    return _sample(BENCHMARKS["rastrigin"], n_samples, n_features, random_state)
