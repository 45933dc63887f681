"""Protecting directions: for a sensitive cell, a small set of cells that can move together
(the cell up, some neighbours down, ...) without changing any published total, so hiding them
all keeps the cell's value uncertain. The classic "hypercube" of cell suppression, built from
the table's own relations.

Per dimension the relations along it (a total and its parts, a region and its states) give
small kernel vectors: two siblings moving in opposite directions, a total and a part moving
together, or, where a code sits in several breakdowns (an unknown age ``_U`` is a part of both
``_T = bands + _U`` and ``_T = Y_LT18 + Y_GE18 + _U``), three codes. The direction is the
product of one kernel vector per dimension the cell's relations run along (2 x 2 x ... cells).
Every direction is checked against all relations of the table (this release's and earlier
releases') before use, so a direction is a proof: moving along it by ``t`` is feasible, the
cell's value can be ``v +/- t``.

Used to mend cells the audit cannot certify (cheaper than one LP per cell, and it protects by
construction), and the certificates it records are part of the audit's proof.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse

from standards.disclosure.primary import REQ_HI, REQ_LO
from standards.disclosure.table import EARLIER_KNOWN, KNOWN, Table

_TOL = 1e-9
# Kernel vectors kept per dimension (cheapest first), and the largest support searched.
CHOICES = 2
MAX_SUPPORT = 3


@dataclass(frozen=True)
class Direction:
    """Cells and their coefficients, and how far the target can move up and down along it."""

    cells: np.ndarray
    coefs: np.ndarray
    up: float
    down: float
    cost: float


class Cubes:
    """Protecting directions over one table."""

    def __init__(self, table: Table) -> None:
        self.table = table
        current = table.vars.filter(pl.col("RELEASE") == 0)
        self.n_current = current.height
        self.key = list(table.key)
        codes = np.column_stack([
            current[c].rank("dense").cast(pl.Int64).to_numpy() for c in self.key])
        self.codes = codes
        self.index = {tuple(row): i for i, row in enumerate(codes.tolist())}
        # Cells as mixed-radix numbers of their codes (``_build``).
        sizes = [int(m) + 1 for m in (codes.max(axis=0) if codes.size else codes.sum(axis=0))]
        if np.prod(np.array(sizes, dtype=float)) >= 2.0 ** 62:
            raise ValueError("cubes: too many codes to number the cells in 64 bits")
        self.radix = np.cumprod(np.r_[1, sizes[:-1]]).astype(np.int64)
        self.keys = codes @ self.radix
        self.key_order = np.argsort(self.keys)
        self.sorted_keys = self.keys[self.key_order]
        self.values = table.values
        self.costs = table.costs
        fixed = table.array("FIXED")
        kind = table.array("KIND")
        self.frozen = (fixed == KNOWN) | (kind == EARLIER_KNOWN)
        self.req_lo = table.array(REQ_LO).astype(float)
        self.req_hi = table.array(REQ_HI).astype(float)
        eq = table.relations.equations.tocsr()
        self.eq = eq
        self.eq_cols = eq.tocsc()
        self.ub_cols = table.relations.inequalities.tocsc()
        self.slack = -(table.relations.inequalities @ self.values)
        # The dimension each equation runs along (where its first two cells differ).
        first = eq.indices[eq.indptr[:-1]]
        second = eq.indices[np.minimum(eq.indptr[:-1] + 1, eq.indptr[1:] - 1)]
        dim = np.full(eq.shape[0], -1)
        ok = (first < self.n_current) & (second < self.n_current) & (first != second)
        dim[ok] = np.argmax(codes[first[ok]] != codes[second[ok]], axis=1)
        self.row_dim = dim
        self.kernels: dict[tuple, list[tuple[tuple[int, ...], tuple[float, ...]]]] = {}

    # -- per dimension -------------------------------------------------------------------------

    def _rows_of(self, cell: int) -> np.ndarray:
        return self.eq_cols.indices[self.eq_cols.indptr[cell]:self.eq_cols.indptr[cell + 1]]

    def _row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.eq.indptr[row], self.eq.indptr[row + 1]
        return self.eq.indices[a:b], self.eq.data[a:b]

    def kernel(self, cell: int, dim: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Small vectors along ``dim`` through ``cell`` (coefficient 1 at ``cell``) that every
        relation along ``dim`` at the cell's coordinates sums to zero: (cells, coefficients)."""
        rows = [r for r in self._rows_of(cell).tolist() if self.row_dim[r] == dim]
        local = set()
        for r in rows:
            local.update(self._row(r)[0].tolist())
        for c in list(local):
            if c < self.n_current:
                rows.extend(r for r in self._rows_of(c).tolist() if self.row_dim[r] == dim)
        rows = sorted(set(rows))
        cells = sorted({c for r in rows for c in self._row(r)[0].tolist()})
        cells = [c for c in cells if c < self.n_current]
        position = {c: i for i, c in enumerate(cells)}
        matrix = np.zeros((len(rows), len(cells)))
        for i, r in enumerate(rows):
            cs, ds = self._row(r)
            for c, d in zip(cs.tolist(), ds.tolist(), strict=True):
                if c in position:
                    matrix[i, position[c]] = d
        # Cache by the local pattern in code space (the same breakdowns recur everywhere).
        signature = (dim, self.codes[cell, dim], tuple(self.codes[cells, dim].tolist()),
                     matrix.tobytes())
        found = self.kernels.get(signature)
        if found is None:
            found = _small_kernel(matrix, position[cell])
            self.kernels[signature] = [(tuple(self.codes[[cells[i] for i in s], dim].tolist()),
                                        c) for s, c in found]
        out = []
        for codes, coefs in self.kernels[signature]:
            members = []
            for code in codes:
                key = list(self.codes[cell])
                key[dim] = code
                members.append(self.index.get(tuple(key), -1))
            if -1 not in members:
                out.append((np.array(members), np.array(coefs)))
        return out

    # -- per cell ------------------------------------------------------------------------------

    def direction(self, cell: int, unknown: np.ndarray, need_up: float, need_down: float,
                  suppressible: np.ndarray) -> list[Direction]:
        """The cheapest checked directions giving ``cell`` room ``need_up`` above and
        ``need_down`` below (one direction doing both, or one for each), [] if none found.
        Cost: the persons of the cells not yet unknown."""
        dims = sorted({int(self.row_dim[r]) for r in self._rows_of(cell).tolist()
                       if self.row_dim[r] >= 0})
        if cell >= self.n_current:
            return []
        options = []
        for d in dims:
            vectors = self.kernel(cell, d)
            if not vectors:
                return []
            scored = sorted(vectors, key=lambda v: (self._proxy(v[0], unknown), v[0].tolist()))
            # The cheapest, and the cheapest that have room enough where the cell is.
            capable = [v for v in scored if self._fits(v, need_up, need_down)]
            chosen = scored[:1] + [v for v in capable[:CHOICES] if v is not scored[0]]
            options.append(chosen)
        best: dict[str, Direction | None] = {"both": None, "up": None, "down": None}
        for combo in itertools.product(*options) if options else [()]:
            built = self._build(cell, dims, combo)
            if built is None:
                continue
            cells, coefs = built
            if self.frozen[cells].any() or not (suppressible[cells] | unknown[cells]).all():
                continue
            up, down = self.room(cells, coefs)
            new = ~unknown[cells]
            cost = float(self.costs[cells][new].sum() + 1e-3 * new.sum())
            found = Direction(cells, coefs, up, down, cost)
            for name, fits in (("both", up >= need_up - _TOL and down >= need_down - _TOL),
                               ("up", up >= need_up - _TOL),
                               ("down", down >= need_down - _TOL)):
                current = best[name]
                if fits and (current is None or cost < current.cost):
                    best[name] = found
        if best["both"] is not None:
            return [best["both"]]
        pair = [best[n] for n, need in (("up", need_up), ("down", need_down)) if need > _TOL]
        return [d for d in pair if d is not None] if all(d is not None for d in pair) else []

    def _fits(self, vector: tuple[np.ndarray, np.ndarray], need_up: float,
              need_down: float) -> bool:
        """Room of a kernel vector at the cell's own coordinates (a necessary condition)."""
        cells, coefs = vector
        values = self.values[cells]
        up = np.min(values[coefs < 0] / -coefs[coefs < 0], initial=np.inf)
        down = np.min(values[1:][coefs[1:] > 0] / coefs[1:][coefs[1:] > 0], initial=np.inf)
        return bool(up >= need_up - _TOL and down >= need_down - _TOL)

    def _proxy(self, cells: np.ndarray, unknown: np.ndarray) -> float:
        return float(self.costs[cells][~unknown[cells]].sum())

    def _build(self, cell: int, dims: list[int], combo: tuple
               ) -> tuple[np.ndarray, np.ndarray] | None:
        """The product of one kernel vector per dimension, checked against every relation.

        Vectorised (it runs for every combination of every cell: per-corner Python was most
        of the protection's time): a cell is a mixed-radix number of its codes, the corners
        are one broadcast sum of per-dimension steps, looked up by ``searchsorted``."""
        offsets = np.zeros(1, dtype=np.int64)
        coefs = np.ones(1)
        for d, (members, factors) in zip(dims, combo, strict=True):
            step = (self.codes[members, d] - self.codes[cell, d]) * self.radix[d]
            offsets = (offsets[:, None] + step[None, :]).ravel()
            coefs = (coefs[:, None] * np.asarray(factors, dtype=float)[None, :]).ravel()
        wanted = self.keys[cell] + offsets
        pos = np.minimum(np.searchsorted(self.sorted_keys, wanted), self.sorted_keys.size - 1)
        if not (self.sorted_keys[pos] == wanted).all():
            return None
        cells = self.key_order[pos]
        if np.unique(cells).size != cells.size:
            return None
        # Every equation (this release's and earlier ones') must be unchanged.
        rows, weights = gather(self.eq_cols, cells, coefs)
        if rows.size and np.any(np.abs(np.bincount(rows, weights=weights)) > 1e-9):
            return None
        return cells, coefs

    def room(self, cells: np.ndarray, coefs: np.ndarray) -> tuple[float, float]:
        """How far the first cell can go up and down along the direction: values stay >= 0,
        inequalities keep within their slack."""
        values = self.values[cells]
        up = np.min(values[coefs < 0] / -coefs[coefs < 0], initial=np.inf)
        down = np.min(values[coefs > 0] / coefs[coefs > 0], initial=np.inf)
        rows, weights = gather(self.ub_cols, cells, coefs)
        if rows.size:
            change = np.bincount(rows, weights=weights)
            touched = np.flatnonzero(np.abs(change) > 1e-12)
            ch = change[touched]
            sl = self.slack[touched]
            up = min(up, np.min(sl[ch > 0] / ch[ch > 0], initial=np.inf))
            down = min(down, np.min(sl[ch < 0] / -ch[ch < 0], initial=np.inf))
        return float(up), float(down)


def gather(cols: sparse.csc_matrix, cells: np.ndarray, coefs: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    starts, ends = cols.indptr[cells], cols.indptr[cells + 1]
    lens = ends - starts
    if lens.sum() == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    owner = np.repeat(np.arange(cells.size), lens)
    offsets = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
    pos = np.repeat(starts, lens) + offsets
    return cols.indices[pos], cols.data[pos] * coefs[owner]


def _small_kernel(matrix: np.ndarray, p: int) -> list[tuple[tuple[int, ...], tuple[float, ...]]]:
    """Vectors u with u[p] = 1, ``matrix @ u = 0`` and at most MAX_SUPPORT non-zeros, each
    minimal (no smaller one inside it)."""
    n = matrix.shape[1]
    if not matrix[:, p].any():
        return [((p,), (1.0,))]
    others = [i for i in range(n) if i != p]
    found: list[tuple[tuple[int, ...], tuple[float, ...]]] = []
    for size in range(1, MAX_SUPPORT):
        for subset in itertools.combinations(others, size):
            if any(set(f[0][1:]) <= set(subset) for f in found):
                continue
            sub = matrix[:, list(subset)]
            coef, *_ = np.linalg.lstsq(sub, -matrix[:, p], rcond=None)
            if np.abs(sub @ coef + matrix[:, p]).max() > 1e-9 or np.any(np.abs(coef) < 1e-9):
                continue
            found.append(((p, *subset), (1.0, *np.round(coef, 9).tolist())))
    return found
