"""How close a pattern is to the fewest persons any safe pattern could hide.

The capacity rows and the audit's capacity cuts (``Constraints.general``) hold for every
pattern the audit passes. "Never exactly one suppressed cell in an equation whose other cells
are all published" (``notone``, ``never``) does not, but some cheapest safe pattern meets it:
such a cell is given away by its equation, so publishing it leaves every interval as it was
and hides fewer persons. The 0-1 programme over those rows alone is therefore a relaxation:
its optimum, and HiGHS's dual bound on it, is a lower bound on the persons of every safe
pattern. The more cuts the audit has found, the higher it is. It tells a statistician how far
from the best a release may be, and the benchmark whether a target below it is reachable at
all.
"""

from __future__ import annotations

import numpy as np

from standards.disclosure.constraints import Constraints, model, solve


def persons_bound(constraints: Constraints, costs: np.ndarray, seconds: float) -> float:
    """No pattern the audit passes hides fewer persons (``costs`` of its free suppressed
    cells) than this. ``seconds``: HiGHS's time limit; when it runs out, its dual bound
    at that time (still a lower bound, a weaker one)."""
    rows = np.flatnonzero(constraints.general)
    notone = np.arange(constraints.notone.shape[0])
    cells = np.unique(np.concatenate([constraints.atleast[rows].indices,
                                      constraints.notone.indices]))
    if cells.size == 0:
        return 0.0
    cost, matrix, lower, upper = model(constraints, rows, notone, cells, costs)
    cost[:cells.size] = costs[cells]
    res = solve(cost, matrix, lower, np.zeros(cost.size), upper, seconds=seconds, gap=1e-4)
    bound = getattr(res, "mip_dual_bound", None)
    if bound is None or not np.isfinite(bound):
        if res.status == 0 and res.fun is not None:
            return float(res.fun)
        return float("nan")
    return float(bound)
