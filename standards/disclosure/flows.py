"""The cheapest protecting move of one cell, by linear programming (Fischetti and Salazar's
attacker problem turned round): a deviation ``y`` of the table that keeps every relation,
keeps every value >= 0 and every inequality within its slack, is 0 on every cell that stays
published, and moves the cell by the margin its level asks. The cells where ``y`` is not 0
are the ones to hide; a deviation is a protecting direction, so it is kept as a certificate
(``cubes.Direction``) the audit trusts without an LP.

Why not only cubes (``cubes``): a cube moves one cell per corner of a product of kernel
vectors, each by the full margin. For a large total with a relative level (dominance, a
sender's flag) the margin is thousands of persons and only huge cells have room for it; a
deviation found by LP can split the move over several smaller cells (a flow), which a cube
cannot, and can end in a cell that is unknown already (a group of states without consent).

The LP minimises the relaxation of "persons of the published cells that move": moving a
published cell by ``t`` costs ``t * cost / cap`` (``cap``: the margin, or less when the cell
has less room downwards), moving an unknown one almost nothing. A few reweighted solves
(weights ``cost / |y|`` of the last solution, after Candes, Wakin and Boyd) push the support
towards few cells; the cheapest support wins. It runs over the cell's neighbourhood (cells
``HOPS`` relations away; cells further away stay put, a restriction, never an error).

Exactness: the LP's solution is a float; the direction is snapped to small rationals and
every relation it touches is checked to sum to zero exactly as the cubes' are, its room
computed by ``Cubes.room`` (non-negativity, inequality slack). A direction that fails the
check is not returned.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from standards.disclosure.cubes import Cubes, Direction, gather

HOPS = 6
# Neighbourhoods are cut at this many cells (the hop that passes it is the last).
MAX_CELLS = 8000
REWEIGHTS = 3
_TOL = 1e-9
ROOM_TOL = 1e-7
# Denominators tried when snapping the LP's solution to an exact kernel vector.
_DENOMINATORS = (1, 2, 3, 4, 6, 12, 24, 60, 120)


class Flows:
    """LP-found protecting directions over one table (shares the cubes' relations)."""

    def __init__(self, cubes: Cubes) -> None:
        self.cubes = cubes
        self.values = cubes.values
        self.costs = cubes.costs
        self.frozen = cubes.frozen
        self.eq = cubes.eq
        self.eq_cols = cubes.eq_cols
        self.ub = cubes.ub_cols.tocsr()
        self.ub_cols = cubes.ub_cols
        self.slack = np.maximum(cubes.slack, 0.0)

    def _near(self, cell: int, movable: np.ndarray) -> np.ndarray:
        cells = np.array([cell], dtype=np.int64)
        for _ in range(HOPS):
            eq_rows = np.unique(self.eq_cols[:, cells].indices)
            ub_rows = np.unique(self.ub_cols[:, cells].indices)
            reach = np.unique(np.concatenate([self.eq[eq_rows].indices,
                                              self.ub[ub_rows].indices, cells]))
            cells = reach[movable[reach] | (reach == cell)]
            if cells.size > MAX_CELLS:
                break
        return cells

    def direction(self, cell: int, side: int, need: float, unknown: np.ndarray,
                  suppressible: np.ndarray) -> Direction | None:
        """A checked direction moving ``cell`` by ``need`` (``side`` 1 up, -1 down) through
        unknown and suppressible cells, the cheapest found (cost: persons of the cells not
        yet unknown), or None."""
        if need <= _TOL or self.frozen[cell]:
            return None
        movable = (unknown | suppressible) & ~self.frozen
        cells = self._near(cell, movable)
        n = cells.size
        eq_rows = np.unique(self.eq_cols[:, cells].indices)
        ub_rows = np.unique(self.ub_cols[:, cells].indices)
        a_eq = self.eq[eq_rows][:, cells]
        a_ub = self.ub[ub_rows][:, cells]
        values = self.values[cells]
        costs = self.costs[cells]
        hidden = unknown[cells]
        target = int(np.flatnonzero(cells == cell)[0])
        # Variables: up moves (n), then down moves (n).
        up_cap = np.full(n, np.inf)
        down_cap = values.copy()
        up_cap[target], down_cap[target] = (need, 0.0) if side == 1 else (0.0, need)
        per_up = np.where(hidden, 0.0, costs / need)
        per_down = np.where(hidden, 0.0, costs / np.maximum(np.minimum(values, need), 1.0))
        # A hair for moving unknowns: bounded, and no needless wandering.
        eps = 1e-6 / need
        a_eq_full = sparse.hstack([a_eq, -a_eq], format="csr") if eq_rows.size else None
        a_ub_full = sparse.hstack([a_ub, -a_ub], format="csr") if ub_rows.size else None
        fix = sparse.csr_matrix(([1.0, -1.0], ([0, 0], [target, n + target])), shape=(1, 2 * n))
        a_eq_all = fix if a_eq_full is None else sparse.vstack([a_eq_full, fix], format="csr")
        b_eq = np.r_[np.zeros(eq_rows.size), side * need]
        bounds = np.c_[np.zeros(2 * n), np.r_[up_cap, down_cap]]
        weights_up, weights_down = per_up, per_down
        best: Direction | None = None
        for _ in range(REWEIGHTS):
            cost = np.r_[weights_up, weights_down] + eps
            res = linprog(cost, A_ub=a_ub_full, b_ub=self.slack[ub_rows] if ub_rows.size
                          else None, A_eq=a_eq_all, b_eq=b_eq, bounds=bounds, method="highs")
            if res.status != 0 or res.x is None:
                break
            y = np.asarray(res.x[:n]) - np.asarray(res.x[n:])
            found = self._checked(cells, y, target, side, need, unknown)
            if found is not None and (best is None or found.cost < best.cost):
                best = found
            moved = np.abs(y)
            scale = need / 10.0
            weights_up = np.where(hidden, 0.0, costs / np.maximum(moved, scale))
            weights_down = weights_up
        return best

    def _checked(self, cells: np.ndarray, y: np.ndarray, target: int, side: int,
                 need: float, unknown: np.ndarray) -> Direction | None:
        """``y`` as an exact direction (target first, coefficient 1), or None: snapped to
        the first of ``_DENOMINATORS`` that keeps the target's move and every relation
        exactly (the LP's float solution is only as exact as its tolerances)."""
        others = np.flatnonzero((np.abs(y) > 1e-7) & (np.arange(cells.size) != target))
        order = np.r_[target, others]
        members, raw = cells[order], y[order]
        for denominator in _DENOMINATORS:
            snapped = np.round(raw * denominator) / denominator
            if abs(snapped[0] - side * need) > 1e-9:
                continue
            nz = snapped != 0
            m, moved = members[nz], snapped[nz]
            rows, weights = gather(self.eq_cols, m, moved)
            if rows.size and np.any(np.abs(np.bincount(rows, weights=weights)) > 1e-9):
                continue
            coefs = moved / moved[0]
            up, down = self.cubes.room(m, coefs)
            # Within the audit's own tolerance (a move of 58 may come out 57.99999999999).
            if (up if side == 1 else down) < need - ROOM_TOL:
                continue
            new = ~unknown[m]
            cost = float(self.costs[m][new].sum() + 1e-3 * new.sum())
            return Direction(m, coefs, up, down, cost)
        return None
