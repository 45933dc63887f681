"""Earlier releases of the same period: what they published is known for good.

A new release is audited together with every earlier one: the earlier release's published
cells are constants, its suppressed cells unknowns, tied by its own relations (its
hierarchies, and region = sum of the states it covered then). A quantity of an earlier
release is the same variable as a cell of this release when its value has not changed (told by
``TRUE_VALUE``; without it, a national cell, or a regional cell of a region whose coverage is
unchanged, is assumed unchanged); otherwise it is a quantity of its own. So a region total
published with states {A, B, C} and again with {A, B, C, D} gives D's figure by differencing,
and the audit sees it.

Consequences for this release: a cell suppressed before keeps suppressed while its value is
unchanged (``FIXED`` = suppressed, status S unless primary); a cell published before with the
same value is known whatever this release does (``FIXED`` = known; if it is primary now, the
earlier release disclosed it and this one cannot undo that: it is withheld but not audited).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from scipy.optimize import linprog

from standards.disclosure import levels
from standards.disclosure import relations as rel
from standards.disclosure.parameters import Parameters
from standards.disclosure.primary import PRIMARY, REQ_HI, REQ_LO
from standards.disclosure.release import (
    AREA,
    CONF_STATUS,
    PUBLISHED,
    REQUIRED_LOWER,
    REQUIRED_UPPER,
    TRUE_VALUE,
    VALUE,
    Release,
)
from standards.disclosure.table import (
    CANDIDATE,
    EARLIER_KNOWN,
    EARLIER_UNKNOWN,
    FREE,
    GROUP_PREFIX,
    KNOWN,
    SUPPRESSED,
    Table,
)
from standards.model import Standard


def signatures(states: Sequence[str], states_of: Mapping[str, frozenset[str]],
               previous: Sequence[Release]) -> dict[str, object]:
    """What a reader can tell about a state without consent: the regions it is in, and which
    regions covered it in each earlier release. None for a state that published national
    cells before (it is never merged with others)."""
    out: dict[str, object] = {}
    for state in states:
        before = False
        for release in previous:
            cells = release.cells.filter(pl.col(AREA) == state)
            if PUBLISHED in cells.columns:
                cells = cells.filter(pl.col(PUBLISHED).fill_null(True))
            before |= cells.height > 0 and cells[VALUE].is_not_null().any()
        if before:
            out[state] = None
            continue
        out[state] = (tuple(sorted(r for r, m in states_of.items() if state in m)),
                      tuple(tuple(sorted(r for r, c in p.coverage.items() if state in c))
                            for p in previous))
    return out


def _normalised(release: Release, key: Sequence[str]) -> pl.DataFrame:
    cells = release.cells
    missing = [c for c in (*key, VALUE) if c not in cells.columns]
    if missing:
        raise ValueError(f"earlier release: missing columns {missing}")
    if TRUE_VALUE not in cells.columns:
        cells = cells.with_columns(pl.lit(None, dtype=pl.Float64).alias(TRUE_VALUE))
    if PUBLISHED not in cells.columns:
        cells = cells.with_columns(pl.lit(True).alias(PUBLISHED))
    if CONF_STATUS not in cells.columns:
        cells = cells.with_columns(pl.lit(None, dtype=pl.String).alias(CONF_STATUS))
    for column in (REQUIRED_LOWER, REQUIRED_UPPER):
        if column not in cells.columns:
            cells = cells.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    return cells.select(
        *key, pl.col(REQUIRED_LOWER).cast(pl.Float64), pl.col(REQUIRED_UPPER).cast(pl.Float64),
        pl.col(VALUE).cast(pl.Float64),
        pl.coalesce(pl.col(TRUE_VALUE).cast(pl.Float64), pl.col(VALUE).cast(pl.Float64))
        .alias(TRUE_VALUE),
        pl.col(PUBLISHED).fill_null(True), pl.col(CONF_STATUS))


def link(table: Table, previous: Sequence[Release], *, standard: Standard,
         parameters: Parameters, states_of: Mapping[str, frozenset[str]]) -> Table:
    """``table`` with the quantities and relations of every earlier release added."""
    if not previous:
        return table
    key = list(table.key)
    dims = [c for c in key if c != AREA]
    group_of = {m: g for g, members in table.groups.items() if g.startswith(GROUP_PREFIX)
                for m in members}
    variables = table.vars
    current = variables.filter(pl.col("RELEASE") == 0).select(
        AREA, *dims, pl.col(rel.ID).alias("_CUR"), pl.col(VALUE).alias("_CUR_VALUE"))
    fixed = variables["FIXED"].to_numpy().copy()
    req_lo = variables[REQ_LO].to_numpy().astype(float).copy()
    req_hi = variables[REQ_HI].to_numpy().astype(float).copy()
    values = variables[VALUE].to_numpy().astype(float)
    kind = variables["KIND"].to_numpy()
    added: list[pl.DataFrame] = []
    frames: list[tuple[pl.DataFrame, dict[str, list[str]]]] = []
    next_id = variables.height
    for number, release in enumerate(previous, start=1):
        cells = _normalised(release, key)
        regional = set(release.coverage)
        # National cells of merged states become their group's rows.
        cells = cells.with_columns(pl.col(AREA).replace(group_of).alias(AREA))
        cells = (cells.group_by(AREA, *dims, maintain_order=True)
                 .agg(pl.col(VALUE).first(),
                      pl.when(pl.col(TRUE_VALUE).is_null().any()).then(None)
                      .otherwise(pl.col(TRUE_VALUE).sum()).alias(TRUE_VALUE),
                      pl.col(PUBLISHED).any(), pl.col(CONF_STATUS).first(),
                      pl.col(REQUIRED_LOWER).first(), pl.col(REQUIRED_UPPER).first(),
                      pl.len().alias("_MEMBERS"),
                      _member_upper(parameters).alias("_GROUP_HI")))
        coverage = {r: sorted({group_of.get(s, s) for s in states})
                    for r, states in release.coverage.items()}
        # Implied rows: covered areas' cells under each regional key, where this release has
        # them (absent then and now: zero, not in the sum).
        region_keys = cells.filter(pl.col(AREA).is_in(sorted(regional))).select(dims).unique()
        implied = (current.filter(pl.col(AREA).is_in(sorted({a for m in coverage.values()
                                                               for a in m})))
                   .join(region_keys, on=dims, how="semi")
                   .join(cells.select(AREA, *dims), on=[AREA, *dims], how="anti")
                   .select(AREA, *dims))
        cells = pl.concat([cells, implied.with_columns(
            pl.lit(None, dtype=pl.Float64).alias(VALUE),
            pl.lit(None, dtype=pl.Float64).alias(TRUE_VALUE), pl.lit(False).alias(PUBLISHED),
            pl.lit(None, dtype=pl.String).alias(CONF_STATUS),
            pl.lit(None, dtype=pl.Float64).alias(REQUIRED_LOWER),
            pl.lit(None, dtype=pl.Float64).alias(REQUIRED_UPPER), pl.lit(1, dtype=pl.UInt32)
            .alias("_MEMBERS"), pl.lit(None, dtype=pl.Float64).alias("_GROUP_HI"))],
            how="vertical_relaxed")
        cells = cells.join(current, on=[AREA, *dims], how="left")
        unchanged_region = {r for r in regional
                            if r in states_of and set(release.coverage[r]) == set(states_of[r])}
        same = pl.col("_CUR").is_not_null() & (
            (pl.col(TRUE_VALUE).is_not_null() & (pl.col(TRUE_VALUE) == pl.col("_CUR_VALUE")))
            | (pl.col(TRUE_VALUE).is_null() & (~pl.col(AREA).is_in(sorted(regional))
                                               | pl.col(AREA).is_in(sorted(unchanged_region)))))
        cells = cells.with_columns(same.alias("_SAME"))
        shown = pl.col(PUBLISHED) & pl.col(VALUE).is_not_null()
        hidden_then = pl.col(PUBLISHED) & pl.col(VALUE).is_null()
        same_rows = cells.filter(pl.col("_SAME"))
        for var in same_rows.filter(shown)["_CUR"].to_list():
            fixed[var] = KNOWN  # published before, value unchanged: known for good
            req_lo[var] = req_hi[var] = values[var]
        for var in same_rows.filter(hidden_then)["_CUR"].to_list():
            if kind[var] == CANDIDATE and fixed[var] == FREE:
                fixed[var] = SUPPRESSED  # suppressed before, value unchanged: stays so
        own = cells.filter(~pl.col("_SAME")).sort(AREA, *dims)
        own = own.with_columns((pl.int_range(pl.len()) + next_id).cast(pl.Int64).alias(rel.ID))
        next_id += own.height
        added.append(_earlier_vars(own, number, dims, parameters))
        ids = pl.concat([same_rows.select(AREA, *dims, pl.col("_CUR").alias(rel.ID),
                                          pl.col("_CUR_VALUE").alias(VALUE)),
                         own.select(AREA, *dims, rel.ID,
                                    pl.coalesce(VALUE, TRUE_VALUE).alias(VALUE))])
        frames.append((ids, coverage))
    variables = variables.with_columns(pl.Series("FIXED", fixed, dtype=pl.Int8),
                                       pl.Series(REQ_LO, req_lo), pl.Series(REQ_HI, req_hi))
    variables = pl.concat([variables, *(a.select(variables.columns) for a in added)],
                          how="vertical_relaxed")
    earlier = [rel.build(ids, standard, tuple(key), coverage, None, size=variables.height)
               for ids, coverage in frames]
    relations = rel.stack([table.relations, *earlier], variables.height)
    variables = _completed(variables, relations)
    return Table(key=table.key, vars=variables, cells=table.cells, relations=relations,
                 groups=table.groups)


def _member_upper(parameters: Parameters) -> pl.Expr:
    """The largest upper level of a group's members (each could hold the whole group)."""
    q = parameters.contribution_protection
    return (pl.col(TRUE_VALUE) * (1 + q) - 1e-9).ceil().max()


def _earlier_vars(own: pl.DataFrame, number: int, dims: list[str],
                  parameters: Parameters) -> pl.DataFrame:
    """Variables of an earlier release's own quantities, with the protection levels their
    status then asks for (where their true value is known)."""
    shown = (own[PUBLISHED] & own[VALUE].is_not_null()).to_numpy()
    truth = own[TRUE_VALUE].to_numpy().astype(float)
    value = np.where(shown, own[VALUE].to_numpy().astype(float), truth)
    status = own[CONF_STATUS].fill_null("").to_numpy().astype(str)
    need = own["SPEC_NEED"].to_list() if "SPEC_NEED" in own.columns else [None] * own.height
    k = np.array([parameters.k(n) for n in need], dtype=float)
    known = ~np.isnan(value)
    v = np.where(known, value, 0.0)
    required = levels.none(v)
    required = levels.hull(required, levels.small_count(v, k), status == "A")
    required = levels.hull(required, levels.relative(v, parameters.dominance_protection),
                           np.isin(status, ["O", "G"]))
    required = levels.hull(required, levels.relative(v, parameters.dominance_protection, 1.0),
                           np.isin(status, ["C", "N"]) & own[PUBLISHED].to_numpy())
    hidden = ~own[PUBLISHED].to_numpy() & known
    grouped = own[AREA].str.starts_with(GROUP_PREFIX).to_numpy()
    required = levels.hull(required, levels.relative(v, parameters.contribution_protection),
                           hidden & ~grouped)
    group_hi = own["_GROUP_HI"].to_numpy().astype(float)
    lo = np.where(hidden & grouped, v, required[0])
    hi = np.where(hidden & grouped & ~np.isnan(group_hi), np.maximum(group_hi, v), required[1])
    given_lo = own[REQUIRED_LOWER].to_numpy().astype(float)
    given_hi = own[REQUIRED_UPPER].to_numpy().astype(float)
    lo = np.where(np.isnan(given_lo) | grouped, lo, given_lo)
    hi = np.where(np.isnan(given_hi) | grouped, hi, given_hi)
    lo = np.where(shown | ~known, v, lo)
    hi = np.where(shown | ~known, v, hi)
    return own.select(
        rel.ID, pl.lit(number, dtype=pl.Int32).alias("RELEASE"), AREA, *dims,
        pl.Series(VALUE, value),
        pl.Series("KIND", np.where(shown, EARLIER_KNOWN, EARLIER_UNKNOWN), dtype=pl.Int8),
        pl.Series("FIXED", np.where(shown, KNOWN, SUPPRESSED), dtype=pl.Int8),
        pl.col(CONF_STATUS).alias(PRIMARY), pl.Series(REQ_LO, lo), pl.Series(REQ_HI, hi))


def _completed(variables: pl.DataFrame, relations: rel.Relations) -> pl.DataFrame:
    """Earlier quantities whose value nobody kept get values consistent with every relation
    (the audit measures room from a feasible point; any one will do)."""
    value = variables[VALUE].to_numpy().astype(float)
    missing = np.flatnonzero(np.isnan(value))
    if missing.size == 0:
        return variables
    known = np.where(np.isnan(value), 0.0, value)
    eq = relations.equations[:, missing]
    ub = relations.inequalities[:, missing]
    res = linprog(np.zeros(missing.size),
                  A_eq=eq if eq.shape[0] else None,
                  b_eq=-(relations.equations @ known) if eq.shape[0] else None,
                  A_ub=ub if ub.shape[0] else None,
                  b_ub=-(relations.inequalities @ known) if ub.shape[0] else None,
                  bounds=(0, None), method="highs")
    if res.status != 0:
        raise ValueError("an earlier release is inconsistent with this one's values (cells "
                         "revised since?): give its cells TRUE_VALUE (Release.from_protected)")
    value[missing] = res.x
    return variables.with_columns(pl.Series(VALUE, value))
