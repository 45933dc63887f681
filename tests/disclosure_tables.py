"""Small tables for the disclosure tests, and an audit written independently of the package:
the feasible interval of every hidden cell from everything published, by one LP per bound,
with the equations of the table typed out here (SEX x AGE with totals, region = sum of its
states) rather than generated from the standard; the solver's thread pool with its work done
in the worst order, and the comparison of two audits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

import numpy as np
import polars as pl
from scipy.optimize import linprog

from standards.disclosure import Protected
from standards.disclosure.audit import Result

T = TypeVar("T")
R = TypeVar("R")

BASE = {"FREQ": "Q", "COUNTERPART_AREA": "_Z", "POP_GROUP": "REF", "SPEC_NEED": "_T",
        "MEASURE": "STOCK", "CITIZENSHIP": "AFG", "TIME_PERIOD": "2026-Q3"}
SEXES = ("F", "M")
AGES = ("Y_LT18", "Y_GE18")
Grid = Mapping[tuple[str, str], int]  # (SEX, AGE) -> count, interior cells only


def area_rows(area: str, grid: Grid, **overrides: str) -> list[dict]:
    """The cells of one area: the interior, the margins and the grand total."""
    rows = []
    for (sex, age), value in grid.items():
        rows.append({**BASE, **overrides, "AREA": area, "SEX": sex, "AGE": age, "VALUE": value})
    for sex in SEXES:
        rows.append({**BASE, **overrides, "AREA": area, "SEX": sex, "AGE": "_T",
                     "VALUE": sum(grid[sex, a] for a in AGES)})
    for age in AGES:
        rows.append({**BASE, **overrides, "AREA": area, "SEX": "_T", "AGE": age,
                     "VALUE": sum(grid[s, age] for s in SEXES)})
    rows.append({**BASE, **overrides, "AREA": area, "SEX": "_T", "AGE": "_T",
                 "VALUE": sum(grid.values())})
    return rows


def release_cells(grids: Mapping[str, Grid], regions: Mapping[str, Sequence[str]],
                  flags: Mapping[tuple[str, str, str], str] | None = None) -> pl.DataFrame:
    """National cells of every state and the regional sums."""
    rows = [r for area, grid in grids.items() for r in area_rows(area, grid)]
    for region, states in regions.items():
        total = {k: sum(grids[s][k] for s in states) for k in grids[states[0]]}
        rows.extend(area_rows(region, total))
    frame = pl.DataFrame(rows).with_columns(pl.lit(None, dtype=pl.String).alias("SENDER_FLAG"))
    for (area, sex, age), flag in (flags or {}).items():
        frame = frame.with_columns(
            pl.when((pl.col("AREA") == area) & (pl.col("SEX") == sex) & (pl.col("AGE") == age))
            .then(pl.lit(flag)).otherwise(pl.col("SENDER_FLAG")).alias("SENDER_FLAG"))
    return frame


def equations(areas: Iterable[str], regions: Mapping[str, Sequence[str]]
              ) -> list[tuple[tuple[str, str, str], list[tuple[str, str, str]]]]:
    """(total, parts) over (AREA, SEX, AGE) keys."""
    out = []
    for area in [*areas, *regions]:
        for sex in (*SEXES, "_T"):
            out.append(((area, sex, "_T"), [(area, sex, a) for a in AGES]))
        for age in (*AGES, "_T"):
            out.append(((area, "_T", age), [(area, s, age) for s in SEXES]))
    for region, states in regions.items():
        for sex in (*SEXES, "_T"):
            for age in (*AGES, "_T"):
                out.append(((region, sex, age), [(s, sex, age) for s in states]))
    return out


def intervals(releases: Sequence[tuple[pl.DataFrame, Mapping[str, Sequence[str]]]],
              wanted: Iterable[tuple[int, str, str, str]]) -> dict[tuple, tuple[float, float]]:
    """[min, max] of each wanted (release number, AREA, SEX, AGE) given every release's
    published cells. ``releases``: (protected cells with VALUE, PUBLISHED_VALUE, PUBLISHED;
    the regions it summed: region -> states). A cell is one quantity across releases while its
    true value is unchanged."""
    var: dict[tuple, int] = {}
    where: dict[tuple, int] = {}
    fixed: dict[int, float] = {}
    rows = []
    for number, (cells, regions) in enumerate(releases):
        areas = [a for a in cells["AREA"].unique().to_list() if a not in regions]
        ids = {}
        for r in cells.iter_rows(named=True):
            key = (r["AREA"], r["SEX"], r["AGE"])
            ids[key] = var.setdefault((key, r["VALUE"]), len(var))
            where[(number, *key)] = ids[key]
            if r["PUBLISHED"] and r["PUBLISHED_VALUE"] is not None:
                fixed[ids[key]] = float(r["PUBLISHED_VALUE"])
        for total, parts in equations(areas, regions):
            if total in ids:
                rows.append((ids[total], [ids[p] for p in parts if p in ids]))
    n = len(var)
    matrix = np.zeros((len(rows), n))
    for i, (total, parts) in enumerate(rows):
        matrix[i, total] += 1
        for p in parts:
            matrix[i, p] -= 1
    bounds = [(fixed[j], fixed[j]) if j in fixed else (0, None) for j in range(n)]
    out = {}
    for want in wanted:
        j = where[want]
        found = []
        for sign in (1, -1):  # min, then max
            c = np.zeros(n)
            c[j] = sign
            res = linprog(c, A_eq=matrix, b_eq=np.zeros(len(rows)), bounds=bounds,
                          method="highs")
            if res.status == 3:
                found.append(np.inf)
                continue
            assert res.status == 0, res.message
            found.append(sign * res.fun)
        out[want] = (found[0], found[1])
    return out


def assert_levels_hold(out: Protected, regions: Mapping[str, Sequence[str]]) -> None:
    """Every cell the audit lists as hidden has at least its required interval, by the LP
    written here (not the audit's)."""
    hidden = out.audit.filter(pl.col("RELEASE") == 0)
    found = intervals([(out.cells, regions)],
                      [(0, r["AREA"], r["SEX"], r["AGE"]) for r in hidden.iter_rows(named=True)])
    for r in hidden.iter_rows(named=True):
        low, high = found[(0, r["AREA"], r["SEX"], r["AGE"])]
        assert low <= r["REQUIRED_LOWER"] + 1e-6 and high >= r["REQUIRED_UPPER"] - 1e-6, r


def backwards_each(work: Callable[[T], R], items: Sequence[T], threads: int) -> list[R]:
    """``standards.disclosure.parallel.each`` with the items done last to first (results still
    in their order): the worst order threads could finish in, without threads."""
    out: list[R | None] = [None] * len(items)
    for i in reversed(range(len(items))):
        out[i] = work(items[i])
    return out  # type: ignore[return-value]


def assert_same_audit(one: Result, other: Result) -> None:
    """Two audits say the same of every variable: bounds, exactness, verdicts, cuts, suspects
    and the LPs spent."""
    for name in ("lower", "upper"):
        assert np.array_equal(getattr(one, name), getattr(other, name), equal_nan=True), name
    for name in ("exact", "audited", "ok"):
        assert (getattr(one, name) == getattr(other, name)).all(), name
    assert one.lps == other.lps and one.suspects == other.suspects
    assert one.unprotectable == other.unprotectable
    assert [(c.target, c.vars.tolist(), c.coefs.tolist(), c.rhs, c.general) for c in one.cuts] \
        == [(c.target, c.vars.tolist(), c.coefs.tolist(), c.rhs, c.general) for c in other.cuts]
