"""Train ReLU network surrogates whose MILP is easy to solve, then optimize them globally."""

from .estimator import TractableMLPRegressor
from .exceptions import (
    ExtrapolationWarning,
    NotFittedError,
    SolutionMismatchWarning,
    SolverNotAvailableError,
)
from .network import ReluNetwork
from .result import OptimizationResult

__version__ = "0.1.0"

__all__ = [
    "ExtrapolationWarning",
    "NotFittedError",
    "OptimizationResult",
    "ReluNetwork",
    "SolutionMismatchWarning",
    "SolverNotAvailableError",
    "TractableMLPRegressor",
    "__version__",
]
