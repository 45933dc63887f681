"""The linear relations a reader of a published table knows, generated from the standard.

An intruder who wants a suppressed cell uses what the table's structure tells: a total is the
sum of its parts (``Standard.additive_breakdowns``, every age band system of
``standards.bands``), a group with specific needs is a subset of all persons (SPEC_NEED
``subsets`` and ``within``), a region is the sum of its member states and of its disjoint
sub-regions. Nothing here is typed by hand, so a new breakdown in the standard is protected
the day it is added.

A relation is kept as an equation where the data satisfy it exactly (absent parts are zeros),
as an inequality (total >= sum of the parts present) where parts are missing, and dropped where
even that fails (inconsistent input: no reader could rely on it either). Every row is written
``sum(coef * value) == 0`` (equations) or ``<= 0`` (inequalities) over cell ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse

from standards.bands import COARSE, SYSTEMS, derivations, system_breakdowns
from standards.model import Additivity, Standard

ID = "_ID"
VALUE = "VALUE"
AREA = "AREA"


@dataclass(frozen=True)
class Relations:
    """Equation and inequality rows over cell ids (columns of the matrices)."""

    equations: sparse.csr_matrix
    inequalities: sparse.csr_matrix

    @property
    def count(self) -> int:
        return self.equations.shape[0] + self.inequalities.shape[0]


def breakdowns(standard: Standard) -> tuple[Additivity, ...]:
    """Every total = sum(parts) relation of the standard, band systems included: a table may
    use any system (or several, after harmonization derived the others), so all are candidate
    relations and the data tell which hold."""
    out: list[Additivity] = list(standard.additive_breakdowns)
    for dim in standard.dimensions:
        if not dim.band_systems or dim.codelist is None or dim.additivity is None:
            continue
        out.extend(derivations(dim))
        for system in (*SYSTEMS, COARSE):
            out.extend(system_breakdowns(dim, system))
    unique: dict[tuple[str, str, tuple[str, ...]], Additivity] = {}
    for a in out:
        parts = tuple(p for p in a.parts if p != a.total)
        if parts:
            unique.setdefault((a.dimension, a.total, parts),
                              Additivity(a.dimension, a.total, parts))
    return tuple(unique.values())


def subsets(standard: Standard) -> tuple[tuple[str, str, str], ...]:
    """(dimension, code, superset code): a group with specific needs is never larger than all
    persons of its key (``subsets``), nor than the code it is ``within`` (SGBV in SGBV_TORT)."""
    out: list[tuple[str, str, str]] = []
    for dim in standard.dimensions:
        if dim.subsets_of is None or dim.codelist is None:
            continue
        for code in dim.codelist.codes:
            if code.id == dim.subsets_of:
                continue
            out.append((dim.id, code.id, dim.subsets_of))
            within = code.properties.get("within")
            if isinstance(within, str):
                out.append((dim.id, code.id, within))
    return tuple(dict.fromkeys(out))


def _pairs(cells: pl.DataFrame, dim: str, total: str | pl.Expr, parts: Sequence[str],
           on: Sequence[str], index: int) -> pl.DataFrame:
    """(relation, total id, part id, values) for every key where the total is present."""
    total_rows = cells.filter(total if isinstance(total, pl.Expr) else pl.col(dim) == total)
    part_rows = cells.filter(pl.col(dim).is_in(list(parts)))
    if total_rows.is_empty() or part_rows.is_empty():
        return _EMPTY
    return (total_rows.select(*on, pl.col(ID).alias("T"), pl.col(VALUE).alias("TV"))
            .join(part_rows.select(*on, pl.col(ID).alias("P"), pl.col(VALUE).alias("PV")),
                  on=list(on), how="inner")
            .select(pl.lit(index, dtype=pl.Int64).alias("R"), "T", "P", "TV", "PV"))


_EMPTY = pl.DataFrame(schema={"R": pl.Int64, "T": pl.Int64, "P": pl.Int64, "TV": pl.Float64,
                              "PV": pl.Float64})


def _rows(pairs: list[pl.DataFrame], subset: bool = False) -> tuple[np.ndarray, ...]:
    """Group (relation, total) pairs into rows and classify each: equation, inequality, drop.

    Returns (row, col, coef, is_equation per row). ``subset``: every pair is its own row
    (part <= total), never an equation.
    """
    frame = pl.concat([p.with_columns(pl.col("TV", "PV").cast(pl.Float64)) for p in pairs]
                      ) if pairs else _EMPTY
    if frame.is_empty():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), np.zeros(0, dtype=bool)
    group = ["R", "T", "P"] if subset else ["R", "T"]
    frame = frame.sort("R", "T", "P").with_columns(
        pl.struct(group).rank("dense").cast(pl.Int64).alias("ROW") - 1)
    rows = frame.group_by("ROW", maintain_order=True).agg(
        pl.col("TV").first(), pl.col("PV").sum().alias("SUM"),
        (pl.col("TV").is_null().any() | pl.col("PV").is_null().any()).alias("UNKNOWN"))
    tol = 1e-9
    exact = rows["UNKNOWN"] | ((rows["TV"] - rows["SUM"]).abs() <= tol)
    below = rows["SUM"] <= rows["TV"] + tol
    if subset:
        # A subset never equals its superset by structure: always an inequality.
        equation = np.zeros(rows.height, dtype=bool)
        keep = (rows["UNKNOWN"] | below).to_numpy()
    else:
        equation = exact.to_numpy()
        keep = (exact | below).to_numpy()
    new_index = np.cumsum(keep) - 1
    row_of = new_index[frame["ROW"].to_numpy()]
    kept = keep[frame["ROW"].to_numpy()]
    t = frame["T"].to_numpy()[kept]
    p = frame["P"].to_numpy()[kept]
    r = row_of[kept]
    eq_rows = equation[keep]
    # One entry for the total per row, one per part.
    first = np.r_[True, r[1:] != r[:-1]] if r.size else np.zeros(0, dtype=bool)
    row = np.concatenate([r[first], r])
    col = np.concatenate([t[first], p])
    coef = np.concatenate([np.ones(int(first.sum())), -np.ones(r.size)])
    # Inequalities read parts - total <= 0.
    sign = np.where(eq_rows[row], 1.0, -1.0)
    return row, col, coef * sign, eq_rows


def build(cells: pl.DataFrame, standard: Standard, key: Sequence[str],
          regions: Mapping[str, Sequence[str]] | None = None,
          subregions: Mapping[str, Sequence[str]] | None = None, *,
          size: int | None = None) -> Relations:
    """The relations among ``cells`` (columns ``_ID``, ``VALUE`` and ``key``: AREA first).

    ``regions``: region -> the areas (states, or groups of states) whose sum it is.
    ``subregions``: region -> disjoint sub-regions plus the areas outside them whose sum it
    also is. ``size``: the number of columns (ids may go beyond this frame's).
    """
    dims = [c for c in key if c != AREA]
    cells = cells.select(ID, VALUE, *key).with_columns(pl.col(VALUE).cast(pl.Float64))
    sums: list[pl.DataFrame] = []
    index = 0
    for a in breakdowns(standard):
        if a.dimension not in cells.columns:
            continue
        on = [c for c in key if c != a.dimension]
        sums.append(_pairs(cells, a.dimension, a.total, a.parts, on, index))
        index += 1
    for members in (regions or {}, subregions or {}):
        for region, areas in members.items():
            inside = cells.filter(pl.col(AREA).is_in(list(areas)))
            total = cells.filter(pl.col(AREA) == region)
            if inside.is_empty() or total.is_empty():
                index += 1
                continue
            frame = pl.concat([total, inside])
            sums.append(_pairs(frame, AREA, pl.col(AREA) == region, list(areas), dims, index))
            index += 1
    leq: list[pl.DataFrame] = []
    for dim, code, superset in subsets(standard):
        if dim not in cells.columns:
            continue
        on = [c for c in key if c != dim]
        leq.append(_pairs(cells, dim, superset, [code], on, index))
        index += 1
    n = size if size is not None else (int(cells[ID].max()) + 1 if cells.height else 0)
    row, col, coef, is_eq = _rows(sums)
    srow, scol, scoef, _ = _rows(leq, subset=True)
    eq_index = np.cumsum(is_eq) - 1
    ub_index = np.cumsum(~is_eq) - 1
    on_eq = is_eq[row] if row.size else np.zeros(0, dtype=bool)
    equations = sparse.csr_matrix(
        (coef[on_eq], (eq_index[row[on_eq]], col[on_eq])), shape=(int(is_eq.sum()), n))
    n_ub = int((~is_eq).sum())
    ub_rows = np.concatenate([ub_index[row[~on_eq]], srow + n_ub])
    inequalities = sparse.csr_matrix(
        (np.concatenate([coef[~on_eq], scoef]), (ub_rows, np.concatenate([col[~on_eq], scol]))),
        shape=(n_ub + (int(srow.max()) + 1 if srow.size else 0), n))
    return Relations(_clean(equations), _clean(inequalities))


def _clean(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Duplicate entries summed, zeros dropped, rows that say nothing removed."""
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    keep = np.diff(matrix.indptr) > 0
    return matrix[keep] if not keep.all() else matrix


def stack(parts: Iterable[Relations], size: int) -> Relations:
    """Several relation sets over the same columns as one."""
    parts = list(parts)

    def grow(m: sparse.csr_matrix) -> sparse.csr_matrix:
        m = m.tocsr().copy()
        m.resize((m.shape[0], size))
        return m

    eq = [grow(p.equations) for p in parts]
    ub = [grow(p.inequalities) for p in parts]
    return Relations(
        sparse.vstack(eq, format="csr") if eq else sparse.csr_matrix((0, size)),
        sparse.vstack(ub, format="csr") if ub else sparse.csr_matrix((0, size)))
