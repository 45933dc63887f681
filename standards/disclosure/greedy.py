"""The greedy fallback, for blocks the exact model cannot finish in its time limit, and the
naive baseline of the benchmark.

``complete``: while a constraint is violated, add the cheapest cell that mends it (the
smallest sibling; for a capacity row, the smallest cell with room enough, else the one with
the most room). It only ever adds, so it terminates, and it is deterministic (ties by id).

``heuristic`` (the fallback proper): the LP relaxation of the block's programme says which
cells an optimum would likely hide; those are taken first, ``complete`` mends the rest, and
``prune`` then drops, most persons first, every cell whose removal breaks no constraint.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from scipy.optimize import linprog

from standards.disclosure.constraints import Constraints, model

_TOL = 1e-9


def complete(constraints: Constraints, selected: np.ndarray, values: np.ndarray,
             rows: np.ndarray | None = None, notone_rows: np.ndarray | None = None
             ) -> np.ndarray:
    """``selected`` (a boolean per variable) grown until every constraint holds, or no free
    cell can mend it. ``rows``/``notone_rows``: only these constraints (all when None; pass
    whole blocks, so every constraint of a chosen cell is among them)."""
    selected = selected.copy()
    never = np.zeros(selected.size, dtype=bool)
    never[constraints.never] = True
    at = constraints.atleast
    nt = constraints.notone
    rows = np.arange(at.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    notone_rows = (np.arange(nt.shape[0]) if notone_rows is None
                   else np.asarray(notone_rows, dtype=np.int64))
    at_cols = at[rows].tocsc()
    nt_cols = nt[notone_rows].tocsc()
    queue = deque([(0, int(i)) for i in rows] + [(1, int(i)) for i in notone_rows])

    def pick(candidates: np.ndarray) -> int | None:
        candidates = candidates[~selected[candidates] & ~never[candidates]]
        if candidates.size == 0:
            return None
        order = np.lexsort((candidates, values[candidates]))
        return int(candidates[order[0]])

    while queue:
        kind, i = queue.popleft()
        added: int | None = None
        if kind == 0:
            vars_ = at.indices[at.indptr[i]:at.indptr[i + 1]]
            coefs = at.data[at.indptr[i]:at.indptr[i + 1]]
            chosen = selected[vars_]
            deficit = constraints.rhs[i] - float(coefs[chosen].sum())
            if deficit <= _TOL:
                continue
            open_ = ~chosen & ~never[vars_]
            if not open_.any():
                continue
            enough = open_ & (coefs >= deficit - _TOL)
            if enough.any():
                added = pick(vars_[enough])
            else:
                added = pick(vars_[open_ & (coefs >= coefs[open_].max() - _TOL)])
        else:
            vars_ = nt.indices[nt.indptr[i]:nt.indptr[i + 1]]
            if int(selected[vars_].sum()) != 1:
                continue
            added = pick(vars_)
        if added is None:
            continue
        selected[added] = True
        queue.append((kind, i))
        for a in at_cols.indices[at_cols.indptr[added]:at_cols.indptr[added + 1]].tolist():
            queue.append((0, int(rows[a])))
        for a in nt_cols.indices[nt_cols.indptr[added]:nt_cols.indptr[added + 1]].tolist():
            queue.append((1, int(notone_rows[a])))
    return selected


def prune(constraints: Constraints, selected: np.ndarray, keep: np.ndarray,
          values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Unselect, most persons first, each of ``candidates`` whose removal leaves every
    constraint satisfied (``keep``: never unselected)."""
    selected = selected.copy()
    at = constraints.atleast.tocsc()
    nt = constraints.notone.tocsc()
    atr = constraints.atleast
    ntr = constraints.notone
    have = atr @ selected.astype(float)
    count = ntr @ selected.astype(float)
    order = candidates[np.lexsort((-candidates, -values[candidates]))]
    for j in order.tolist():
        if not selected[j] or keep[j]:
            continue
        a_rows = at.indices[at.indptr[j]:at.indptr[j + 1]]
        a_coef = at.data[at.indptr[j]:at.indptr[j + 1]]
        if (have[a_rows] - a_coef < constraints.rhs[a_rows] - _TOL).any():
            continue
        n_rows = nt.indices[nt.indptr[j]:nt.indptr[j + 1]]
        if (count[n_rows] == 2).any():
            continue
        selected[j] = False
        have[a_rows] -= a_coef
        count[n_rows] -= 1
    return selected


def heuristic(constraints: Constraints, selected: np.ndarray, values: np.ndarray,
              blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """LP-guided greedy for ``blocks`` (cells, capacity rows, notone rows each): returns
    ``selected`` with their cells decided anew."""
    start = selected.copy()
    for block, rows, notone_rows in blocks:
        start[block] = False
        cost, matrix, lower, upper = model(constraints, rows, notone_rows, block, values)
        res = linprog(cost, A_ub=-matrix, b_ub=-lower,
                      bounds=np.c_[np.zeros(upper.size), upper], method="highs")
        if res.status == 0:
            start[block] = (np.asarray(res.x[:block.size]) >= 0.5 - _TOL) & \
                (upper[:block.size] > 0)
    rows = np.concatenate([b[1] for b in blocks]) if blocks else np.zeros(0, dtype=np.int64)
    notone_rows = (np.concatenate([b[2] for b in blocks]) if blocks
                   else np.zeros(0, dtype=np.int64))
    grown = complete(constraints, start, values, rows, notone_rows)
    cells = np.concatenate([b[0] for b in blocks]) if blocks else np.zeros(0, dtype=np.int64)
    return prune(constraints, grown, np.zeros(grown.size, dtype=bool), values, cells)


def naive(constraints: Constraints, size: int, values: np.ndarray) -> np.ndarray:
    """The naive baseline: from the primaries alone, the smallest sibling of every cell left
    alone in an equation, until none is (``constraints`` from
    ``from_relations(table, capacity=False)``)."""
    return complete(constraints, np.zeros(size, dtype=bool), values)
