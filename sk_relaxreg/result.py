"""The result of optimizing over a network: solution, status and its own verification."""

from dataclasses import dataclass, field

import numpy as np

#: Solver finished and proved the solution optimal within ``mip_gap``.
OPTIMAL = "optimal"
#: A limit (time, nodes, ...) stopped the solver, which has a feasible solution.
TIME_LIMIT = "time_limit"
#: A limit stopped the solver before it found any feasible solution.
TIME_LIMIT_NO_SOLUTION = "time_limit_no_solution"
#: The MILP has no feasible point, for example because of ``output_bounds``.
INFEASIBLE = "infeasible"
#: The solver failed (numerical trouble, solver error).
ERROR = "error"

STATUSES = (OPTIMAL, TIME_LIMIT, TIME_LIMIT_NO_SOLUTION, INFEASIBLE, ERROR)


@dataclass
class OptimizationResult:
    """Outcome of :meth:`TractableMLPRegressor.optimize`.

    Attributes
    ----------
    x : ndarray of shape (n_features,) or None
        Best input found, in original units; None when no solution was found.
    objective : float or None
        MILP objective value at ``x``: ``sum_k w_k y_k`` with the output weights.
    predicted : float or None
        The network's own forward pass at ``x``, weighted the same way. It
        should equal ``objective`` up to solver tolerances.
    predicted_outputs : ndarray of shape (n_outputs,) or None
        All network outputs at ``x``.
    status : str
        One of ``"optimal"``, ``"time_limit"`` (a limit was hit, ``x`` is the best
        solution found), ``"time_limit_no_solution"``, ``"infeasible"``, ``"error"``.
    dual_bound : float or None
        Best proven bound on the objective (a lower bound for ``sense="min"``).
    mip_gap : float or None
        Relative gap between ``objective`` and ``dual_bound`` reported by the solver.
    solve_time : float
        Seconds spent in the solver, as the solver reports it (wall clock where it
        reports none).
    bounds : str
        How the big-M constants were computed: ``"lp"`` (tightened by
        :mod:`sk_relaxreg.tightening`) or ``"interval"``.
    bound_time : float
        Seconds spent tightening the bounds before the solve (0 for ``"interval"``).
    wall_time : float
        Seconds spent in the whole ``optimize`` call, model building included.
    n_nodes : int or None
        Branch-and-bound nodes, where the solver reports them.
    n_binaries, n_variables, n_constraints : int
        Size of the MILP that was solved.
    sense : str
        ``"min"`` or ``"max"``.
    solver : str
        Name of the solver used.
    incumbent_objective : float or None
        Objective of the starting solution handed to the solver, if any.
    simplex_iterations : int or None
        Simplex iterations, where the solver reports them.
    message : str
        Solver's own status text.
    extra : dict
        Free-form details; the package itself leaves it empty.
    """

    x: np.ndarray = None
    objective: float = None
    predicted: float = None
    predicted_outputs: np.ndarray = None
    status: str = ERROR
    dual_bound: float = None
    mip_gap: float = None
    solve_time: float = 0.0
    bounds: str = "interval"
    bound_time: float = 0.0
    wall_time: float = 0.0
    n_nodes: int = None
    n_binaries: int = 0
    n_variables: int = 0
    n_constraints: int = 0
    sense: str = "min"
    solver: str = "highs"
    incumbent_objective: float = None
    simplex_iterations: int = None
    message: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def success(self):
        """True when the solver proved optimality."""
        return self.status == OPTIMAL

    @property
    def has_solution(self):
        """True when ``x`` contains a feasible point."""
        return self.x is not None

    @property
    def prediction_error(self):
        """``|objective - predicted|``, or None without a solution."""
        if self.objective is None or self.predicted is None:
            return None
        return abs(self.objective - self.predicted)

    def summary(self):
        """Return a short multi-line text description."""
        lines = [
            f"status         : {self.status} ({self.message})",
            f"solver         : {self.solver}, sense {self.sense}",
            f"objective      : {self.objective}",
            f"predicted      : {self.predicted}",
            f"x              : {None if self.x is None else np.array2string(self.x, precision=6)}",
            f"dual bound     : {self.dual_bound}  (gap {self.mip_gap})",
            f"solve time     : {self.solve_time:.3f} s solver, {self.bound_time:.3f} s "
            f"{self.bounds} bounds, {self.wall_time:.3f} s total",
            f"nodes          : {self.n_nodes}",
            f"model size     : {self.n_variables} variables, {self.n_binaries} binaries, "
            f"{self.n_constraints} constraints",
        ]
        return "\n".join(lines)

    def __str__(self):
        return self.summary()
