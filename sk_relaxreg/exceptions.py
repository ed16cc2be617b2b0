"""Exception and warning classes raised by sk_relaxreg."""

from sklearn.exceptions import NotFittedError

__all__ = [
    "ExtrapolationWarning",
    "NotFittedError",
    "SolutionMismatchWarning",
    "SolverNotAvailableError",
]


class SolverNotAvailableError(RuntimeError):
    """Raised when the requested MILP solver is unknown or not installed."""


class SolutionMismatchWarning(UserWarning):
    """The MILP objective differs from the network's own prediction at the optimum.

    This points to numerical trouble in the solver (big-M constants that are
    large relative to the solver's integrality tolerance) rather than to a bug
    in the formulation. Tighter input bounds or a smaller ``mip_feasibility_tolerance``
    usually remove it.
    """


class ExtrapolationWarning(UserWarning):
    """The requested optimization box reaches outside the box the network was trained on."""
