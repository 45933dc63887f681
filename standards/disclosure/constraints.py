"""The constraints of secondary suppression, shared by the exact model and the greedy fallback.

From every relation of the table (a total and its parts, a region and its members, a subset
and its superset; within this release or an earlier one):

* capacity (``atleast``): a cell that needs protection must be able to move as far as its
  level asks within each relation it is in, so the other unknowns of the relation need room
  enough: the ones that can move without bound (a total above its parts, a part below its
  total) have all the room there is, the others as much as their value. Unknowns whatever we
  do count as they are; free cells count if suppressed. This is the audit's cut for the LP
  that sees one relation only: most of what the full audit asks, known before the first
  solve.
* counting (``notone``, ``atleast``): a suppressed cell must never be the only unknown of an
  equation, or the equation gives it away: the number suppressed among the free cells of an
  equation is 0 or at least 2, and at least 1 where one other cell is unknown whatever we do;
  an equation with an unknown that needs no protection (a group of states without consent
  whose sum protects them all) already has slack. A free cell that is alone with known cells
  can never be hidden (``never``).

Audit cuts join as further ``atleast`` rows. Rows are sparse matrices over the table's
variables (only free ones appear).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from standards.disclosure.audit import Cut
from standards.disclosure.primary import REQ_HI, REQ_LO
from standards.disclosure.table import CANDIDATE, EARLIER_KNOWN, FREE, KNOWN, Table

_TOL = 1e-9


@dataclass
class Constraints:
    """``atleast @ s >= rhs`` and "not exactly one of each ``notone`` row" over free
    variables; ``never``: free variables that can never be hidden. ``general``: per
    ``atleast`` row, every pattern the audit passes meets it (the capacity rows and the
    audit's capacity cuts; not the counting rows of a lone suppressed cell without a level of
    its own, nor neighbourhood cuts): those rows, with ``notone`` and ``never`` (which some
    cheapest safe pattern meets), bound the persons of any safe pattern (``bound``)."""

    atleast: sparse.csr_matrix
    rhs: np.ndarray
    notone: sparse.csr_matrix
    never: np.ndarray
    general: np.ndarray

    def add_cuts(self, cuts: list[Cut]) -> None:
        if not cuts:
            return
        rows = np.repeat(np.arange(len(cuts)), [c.vars.size for c in cuts])
        extra = sparse.csr_matrix(
            (np.concatenate([c.coefs for c in cuts]),
             (rows, np.concatenate([c.vars for c in cuts]))),
            shape=(len(cuts), self.atleast.shape[1]))
        self.atleast = sparse.vstack([self.atleast, extra], format="csr")
        self.rhs = np.concatenate([self.rhs, [c.rhs for c in cuts]])
        self.general = np.concatenate([self.general, [c.general for c in cuts]])


def _entries(matrix: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    matrix = matrix.tocsr()
    row = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    return row, matrix.indices.astype(np.int64), matrix.data.astype(float)


def _rows(row: np.ndarray, col: np.ndarray, data: np.ndarray, size: int
          ) -> sparse.csr_matrix:
    """Rows renumbered densely in order of their first appearance."""
    if row.size == 0:
        return sparse.csr_matrix((0, size))
    _, dense = np.unique(row, return_inverse=True)
    return sparse.csr_matrix((data, (dense, col)), shape=(int(dense.max()) + 1, size))


def from_relations(table: Table, *, capacity: bool = True) -> Constraints:
    """The capacity and counting constraints of every relation of ``table``. Without
    ``capacity``: the counting constraints alone (a lone sensitive cell asks for one more
    suppression in its equation, whatever its size: the naive rule)."""
    n = table.size
    fixed = table.array("FIXED")
    kind = table.array("KIND")
    needs = table.needs()
    values = table.values
    free = fixed == FREE
    known = (fixed == KNOWN) | (kind == EARLIER_KNOWN)
    unknown = ~free & ~known
    protected = unknown & (needs | (kind == CANDIDATE))
    slack = unknown & ~protected
    margin = {1: np.maximum(table.array(REQ_HI) - values, 0.0),
              -1: np.maximum(values - table.array(REQ_LO), 0.0)}
    atleast: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    rhs: list[np.ndarray] = []
    general: list[np.ndarray] = []
    offset = 0
    eq = table.relations.equations.tocsr()
    ub = table.relations.inequalities.tocsr()
    for matrix, equation in ((eq, True), (ub, False)) if capacity else ():
        row_slack = np.zeros(matrix.shape[0]) if equation else -(matrix @ values)
        built = _capacity(matrix, equation, row_slack, margin, needs & unknown, free, unknown,
                          values)
        if built is not None:
            r, c, d, h = built
            atleast.append((r + offset, c, d))
            rhs.append(h)
            general.append(np.ones(h.size, dtype=bool))
            offset += h.size
    # Counting, over equations.
    row, col, _ = _entries(eq)
    m = eq.shape[0]
    n_slack = np.bincount(row, weights=slack[col], minlength=m)
    n_fixed = np.bincount(row, weights=protected[col], minlength=m)
    lone_kind = protected & ~needs if capacity else protected
    n_lone_plain = np.bincount(row, weights=lone_kind[col], minlength=m)
    n_free = np.bincount(row, weights=free[col], minlength=m)
    open_ = n_slack == 0
    plain = open_ & (n_fixed == 1) & (n_lone_plain == 1) & (n_free > 0)
    pick = plain[row] & free[col]
    if pick.any():
        r = row[pick]
        _, dense = np.unique(r, return_inverse=True)
        atleast.append((dense + offset, col[pick], np.ones(pick.sum())))
        rhs.append(np.ones(int(dense.max()) + 1))
        general.append(np.zeros(int(dense.max()) + 1, dtype=bool))
    alone = open_ & (n_fixed == 0) & (n_free == 1)
    never = np.unique(col[alone[row] & free[col]])
    several = open_ & (n_fixed == 0) & (n_free >= 2)
    pick = several[row] & free[col]
    notone = _rows(row[pick], col[pick], np.ones(pick.sum()), n)
    if atleast:
        r = np.concatenate([a[0] for a in atleast])
        matrix = sparse.csr_matrix((np.concatenate([a[2] for a in atleast]),
                                    (r, np.concatenate([a[1] for a in atleast]))),
                                   shape=(int(sum(h.size for h in rhs)), n))
        matrix.sum_duplicates()
        bounds = np.concatenate(rhs)
    else:
        matrix, bounds = sparse.csr_matrix((0, n)), np.zeros(0)
    return Constraints(matrix, bounds, notone, never,
                       np.concatenate(general) if general else np.zeros(0, dtype=bool))


def _capacity(matrix: sparse.csr_matrix, equation: bool, row_slack: np.ndarray,
              margin: dict[int, np.ndarray], anchor: np.ndarray, free: np.ndarray,
              unknown: np.ndarray, values: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Capacity rows (row ids from 0, cols, coefs, rhs) of every (relation, cell that needs
    protection, direction)."""
    row, col, coef = _entries(matrix)
    indptr = matrix.indptr
    a_entries: list[np.ndarray] = []
    a_dirs: list[np.ndarray] = []
    for direction in (1, -1):
        hit = np.flatnonzero(anchor[col] & (margin[direction][col] > _TOL))
        a_entries.append(hit)
        a_dirs.append(np.full(hit.size, direction))
    entry = np.concatenate(a_entries)
    direction = np.concatenate(a_dirs)
    if entry.size == 0:
        return None
    a_row, a_col, a_coef = row[entry], col[entry], coef[entry]
    delta = direction * np.where(direction == 1, margin[1][a_col], margin[-1][a_col])
    push = a_coef * delta
    if equation:
        need = np.abs(push)
        up_side = -push > 0
    else:
        need = push - row_slack[a_row]
        up_side = np.zeros(entry.size, dtype=bool)
    live = need > _TOL
    a_row, a_col, need, up_side = a_row[live], a_col[live], need[live], up_side[live]
    if a_row.size == 0:
        return None
    # Every other entry of each anchor's row.
    lens = np.diff(indptr)[a_row]
    owner = np.repeat(np.arange(a_row.size), lens)
    first = np.repeat(np.cumsum(lens) - lens, lens)
    pos = indptr[a_row][owner] + (np.arange(owner.size) - first)
    p_col, p_coef = col[pos], coef[pos]
    other = p_col != a_col[owner]
    owner, p_col, p_coef = owner[other], p_col[other], p_coef[other]
    towards = (p_coef > 0) == up_side[owner]
    room = np.where(towards, np.inf, np.abs(p_coef) * values[p_col])
    always = unknown[p_col] & ~free[p_col]
    infinite = np.bincount(owner, weights=always & towards, minlength=a_row.size) > 0
    have = np.bincount(owner, weights=np.where(always & ~towards, room, 0.0),
                       minlength=a_row.size)
    rhs = need - have
    usable = free[p_col] & (room > _TOL)
    has_free = np.bincount(owner, weights=usable, minlength=a_row.size) > 0
    keep = ~infinite & (rhs > _TOL) & has_free
    pick = usable & keep[owner]
    if not pick.any():
        return None
    owners = owner[pick]
    _, dense = np.unique(owners, return_inverse=True)
    kept = np.unique(owners)
    return dense, p_col[pick], np.minimum(room[pick], rhs[owners]), rhs[kept]


def model(constraints: Constraints, rows: np.ndarray, notone_rows: np.ndarray,
          block: np.ndarray, values: np.ndarray
          ) -> tuple[np.ndarray, sparse.csr_matrix, np.ndarray, np.ndarray]:
    """The 0-1 programme of one block: (cost, A, lower bounds of A's rows, upper bounds of the
    variables); the first ``block.size`` variables are the block's cells, in order, the rest
    indicators of long ``notone`` rows. Cost: ``(n + 1) * value + 1`` (persons, then cells)."""
    n = block.size
    local = np.full(constraints.atleast.shape[1], -1, dtype=np.int64)
    local[block] = np.arange(n)
    a = constraints.atleast[rows]
    pair_r: list[int] = []
    pair_c: list[int] = []
    pair_d: list[float] = []
    count = 0
    long_sets: list[np.ndarray] = []
    nt = constraints.notone[notone_rows]
    for i in range(nt.shape[0]):
        cells = local[nt.indices[nt.indptr[i]:nt.indptr[i + 1]]]
        if cells.size <= PAIRWISE:
            for j in cells.tolist():  # sum of the others >= s_j
                for x in cells.tolist():
                    pair_r.append(count)
                    pair_c.append(x)
                    pair_d.append(-1.0 if x == j else 1.0)
                count += 1
        else:
            long_sets.append(cells)
    total = n + len(long_sets)
    for y, cells in enumerate(long_sets):
        for x in cells.tolist():  # y >= s_x
            pair_r.extend([count, count])
            pair_c.extend([n + y, x])
            pair_d.extend([1.0, -1.0])
            count += 1
        pair_r.extend([count] * (cells.size + 1))  # sum s >= 2 y
        pair_c.extend([*cells.tolist(), n + y])
        pair_d.extend([1.0] * cells.size + [-2.0])
        count += 1
    parts = [sparse.csr_matrix((a.data, local[a.indices], a.indptr), shape=(rows.size, total)),
             sparse.csr_matrix((pair_d, (pair_r, pair_c)), shape=(count, total))]
    lower = [constraints.rhs[rows], np.zeros(count)]
    cost = np.zeros(total)
    cost[:n] = values[block] * (n + 1) + 1
    upper = np.ones(total)
    upper[:n][np.isin(block, constraints.never)] = 0
    return cost, sparse.vstack(parts, format="csr"), np.concatenate(lower), upper


# Pairwise "not exactly one" up to this many cells; an indicator variable beyond.
PAIRWISE = 4


def solve(cost: np.ndarray, matrix: sparse.csr_matrix, lower: np.ndarray, low: np.ndarray,
          high: np.ndarray, *, seconds: float, gap: float) -> OptimizeResult:
    """A programme of ``model``'s shape (``matrix @ x >= lower``, ``low <= x <= high``, x in
    {0, 1}) by SciPy's ``milp`` (HiGHS), within ``seconds`` and relative gap ``gap``."""
    return milp(cost, constraints=LinearConstraint(matrix, lower, np.inf),
                integrality=np.ones(cost.size), bounds=Bounds(low, high),
                options={"time_limit": seconds, "disp": False, "mip_rel_gap": gap})
