"""Train ReLU network surrogates whose MILP is easy to solve, then optimize them globally."""

from .estimator import TractableMLPRegressor
from .exceptions import (
    ExtrapolationWarning,
    NotFittedError,
    SolutionMismatchWarning,
    SolverNotAvailableError,
)
from .network import ReluNetwork
from .pareto import ParetoFront, pareto_front, plot_pareto_front
from .result import OptimizationResult
from .scoring import TractabilityScorer, make_tractability_scorer, tractability_scoring

__version__ = "0.1.0"

__all__ = [
    "ExtrapolationWarning",
    "NotFittedError",
    "OptimizationResult",
    "ParetoFront",
    "ReluNetwork",
    "SolutionMismatchWarning",
    "SolverNotAvailableError",
    "TractabilityScorer",
    "TractableMLPRegressor",
    "make_tractability_scorer",
    "pareto_front",
    "plot_pareto_front",
    "tractability_scoring",
    "__version__",
]
