"""``protect``: a release's cells in, the same cells with their confidentiality status and
published values out, with the audit that proves them safe."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from standards.disclosure import bound, history, primary, twins
from standards.disclosure import table as tables
from standards.disclosure.audit import Auditor, Result
from standards.disclosure.parameters import Parameters
from standards.disclosure.release import (
    AREA,
    CONF_STATUS,
    PUBLISHED,
    PUBLISHED_VALUE,
    SENDER_FLAG,
    VALUE,
    Protected,
    Release,
    key_columns,
)
from standards.disclosure.secondary import suppress
from standards.model import Standard

AUDIT_COLUMNS = ("VALUE", "LOWER", "UPPER", "REQUIRED_LOWER", "REQUIRED_UPPER", "EXACT", "OK")


def _prepared(cells: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    missing = [c for c in (*key, VALUE) if c not in cells.columns]
    if missing:
        raise ValueError(f"cells: missing columns {missing}")
    if SENDER_FLAG not in cells.columns:
        cells = cells.with_columns(pl.lit(None, dtype=pl.String).alias(SENDER_FLAG))
    if cells[VALUE].null_count() or (cells[VALUE] < 0).any():
        raise ValueError("cells: VALUE must be a count (>= 0, not null) on every row")
    if cells.select(key).is_duplicated().any():
        raise ValueError("cells: two rows with the same key")
    flags = set(cells[SENDER_FLAG].drop_nulls().unique().to_list())
    if flags - {"C", "N"}:
        raise ValueError(f"cells: SENDER_FLAG may only be C or N, got {sorted(flags)}")
    return cells.sort(key)


def protect(cells: pl.DataFrame, *, standard: Standard, parameters: Parameters,
            regions: Mapping[str, tuple[str, ...]], consent: Mapping[str, bool],
            previous: Sequence[Release] = (), bound_seconds: float = 0.0) -> Protected:
    """Disclosure control of one release.

    ``cells``: one row per cell: AREA (a state, or a region id), every dimension of the
    standard except REF_AREA, VALUE (a count) and SENDER_FLAG (C/N or null). Regional cells
    come with the national cells of every state that contributes to them; national cells of
    states without ``consent`` are inputs only (never published). ``regions``: region -> its
    member states and sub-regions. ``previous``: earlier releases of the same period.

    Returns the cells sorted by key (see ``Protected``). Deterministic: the same input gives
    the same output, as long as the exact model finishes within its time limit. Regions that
    are the same numbers (``twins``) are protected once and share their statuses.
    ``bound_seconds``: when positive, HiGHS gets this long (after the release's own time) to
    bound the persons any safe pattern hides (``Protected.persons_bound``).
    """
    started = time.perf_counter()
    key = key_columns(standard)
    dims = [c for c in key if c != AREA]
    input_columns = [c for c in cells.columns]
    cells = _prepared(cells, key)
    merged = twins.find(cells, regions)
    cells, regions = merged.cells, merged.regions
    previous = [merged.earlier(r) for r in previous]
    states_of = tables.states_of(regions)
    classified = primary.classify(cells, dims=dims, parameters=parameters,
                                  states_of=states_of, consent=consent)
    t_primary = time.perf_counter() - started
    hidden = classified.filter(~pl.col(primary.PUBLISHED))[AREA].unique().sort().to_list()
    signature = history.signatures(hidden, states_of, previous)
    table = tables.build(classified, standard=standard, key=key, regions=regions,
                         signature=signature)
    table = history.link(table, previous, standard=standard, parameters=parameters,
                         states_of=states_of)
    if merged.of:
        table.vars = table.vars.with_columns(
            pl.when(pl.col("RELEASE") == 0).then(pl.col(AREA).replace_strict(
                merged.copies(), default=1, return_dtype=pl.Int64)).otherwise(1)
            .alias(tables.COPIES))
    auditor = Auditor(table, exact_cells=parameters.exact_audit_cells,
                      seconds=parameters.release_seconds, threads=parameters.solver_threads)
    outcome = suppress(table, parameters, auditor)
    out = merged.spread(_statuses(table, outcome.unknown, input_columns)).sort(key)
    audit = _audit_frame(table, outcome.audit, key)
    audit = pl.concat([merged.spread(audit.filter(pl.col("RELEASE") == 0)),
                       audit.filter(pl.col("RELEASE") > 0)]).sort("RELEASE", *key)
    total = time.perf_counter() - started
    lowest = (bound.persons_bound(outcome.constraints, table.costs, bound_seconds)
              if bound_seconds > 0 else None)
    return Protected(
        cells=out, audit=audit,
        ok=(bool(audit["OK"].all()) if audit.height else True) and not outcome.timed_out,
        timed_out=outcome.timed_out,
        solver=outcome.solver,
        timings={"primary": t_primary, "secondary": outcome.seconds_secondary,
                 "audit": outcome.seconds_audit, "total": total},
        rounds=outcome.rounds, persons_bound=lowest)


def _statuses(table: tables.Table, unknown: np.ndarray, columns: list[str]) -> pl.DataFrame:
    cells = table.cells
    hidden = pl.Series("_HIDDEN", unknown[cells[tables.VAR].to_numpy()])
    status = (pl.when(~pl.col(primary.PUBLISHED))
              .then(pl.coalesce(pl.col(SENDER_FLAG), pl.lit("N")))
              .when(pl.col(primary.PRIMARY).is_not_null()).then(pl.col(primary.PRIMARY))
              .when(pl.col("_HIDDEN")).then(pl.lit("S"))
              .otherwise(pl.lit("F")))
    cells = cells.with_columns(hidden).with_columns(status.alias(CONF_STATUS))
    keep = [c for c in columns if c not in (CONF_STATUS, PUBLISHED_VALUE, PUBLISHED)]
    return cells.select(
        *keep, CONF_STATUS,
        pl.when(pl.col(CONF_STATUS) == "F").then(pl.col(VALUE)).alias(PUBLISHED_VALUE),
        pl.col(primary.PUBLISHED).alias(PUBLISHED))


def _audit_frame(table: tables.Table, result: Result, key: tuple[str, ...]) -> pl.DataFrame:
    """One row per audited quantity: cells of this release (suppressed, or national figures
    without consent, one row per state of a group), and earlier releases' own quantities."""
    audited = np.flatnonzero(result.audited)
    per_var = pl.DataFrame({
        tables.VAR: audited,
        "LOWER": result.lower[audited], "UPPER": result.upper[audited],
        "EXACT": result.exact[audited],
    }).with_columns(pl.col("LOWER", "UPPER").fill_nan(None))
    variables = table.vars.with_row_index("_ROW")
    current = (table.cells.filter(pl.col(tables.VAR).is_in(audited))
               .join(per_var, on=tables.VAR)
               .join(variables.select(pl.col(tables.relations_id()).alias(tables.VAR),
                                      pl.col(AREA).alias("_MODEL_AREA")), on=tables.VAR))
    grouped = pl.col("_MODEL_AREA").str.starts_with(tables.GROUP_PREFIX)
    current = current.with_columns(
        pl.when(grouped).then(pl.lit(0.0)).otherwise(pl.col("LOWER")).alias("LOWER"),
        pl.when(grouped).then(pl.lit(False)).otherwise(pl.col("EXACT")).alias("EXACT"),
        pl.when(~pl.col(primary.PUBLISHED)).then(pl.coalesce(pl.col(SENDER_FLAG), pl.lit("N")))
        .when(pl.col(primary.PRIMARY).is_not_null()).then(pl.col(primary.PRIMARY))
        .otherwise(pl.lit("S")).alias(CONF_STATUS))
    # Members of a group without a level of their own (zeros) say nothing.
    value = pl.col(VALUE).cast(pl.Float64)
    trivial = (pl.col(primary.REQ_LO) >= value) & (pl.col(primary.REQ_HI) <= value)
    current = current.filter(~(grouped & trivial)).select(
        pl.lit(0, dtype=pl.Int32).alias("RELEASE"), *key, CONF_STATUS,
        pl.col(primary.PUBLISHED).alias(PUBLISHED), value.alias(VALUE), "LOWER", "UPPER",
        pl.col(primary.REQ_LO).alias("REQUIRED_LOWER"),
        pl.col(primary.REQ_HI).alias("REQUIRED_UPPER"), "EXACT")
    earlier = (table.vars.filter(pl.col("RELEASE") > 0)
               .join(per_var.rename({tables.VAR: tables.relations_id()}),
                     on=tables.relations_id())
               .select("RELEASE", *key, pl.col(primary.PRIMARY).alias(CONF_STATUS),
                       pl.lit(False).alias(PUBLISHED), VALUE, "LOWER", "UPPER",
                       pl.col(primary.REQ_LO).alias("REQUIRED_LOWER"),
                       pl.col(primary.REQ_HI).alias("REQUIRED_UPPER"), "EXACT"))
    frame = pl.concat([current, earlier], how="vertical_relaxed")
    tol = 1e-6
    lo_ok = (pl.col("REQUIRED_LOWER") >= pl.col(VALUE) - tol) | (
        pl.col("LOWER") <= pl.col("REQUIRED_LOWER") + tol).fill_null(False)
    hi_ok = (pl.col("REQUIRED_UPPER") <= pl.col(VALUE) + tol) | (
        pl.col("UPPER") >= pl.col("REQUIRED_UPPER") - tol).fill_null(False)
    return frame.with_columns((lo_ok & hi_ok).alias("OK")).sort("RELEASE", *key)
