"""Annual figures from quarterly ones, pure: the derivation the annual export and its tests
share (the exchange reads the quarters; this module only adds them up).

A year's figure of a stock (persons at the end of a period) is its fourth quarter's: the
stock at the end of the year. A year's figure of a flow (arrivals, applications, decisions,
naturalisations, ...) is the sum of its four quarters. Which measures are stocks is the
standard's (CL_MEASURE ``kind``).

A year's figure exists only where every quarter it needs has a figure that may be used: an
input that is suppressed (a CONF_STATUS other than F, no value) or missing (the quarter, or
the cell in it, is absent; or it has no value) makes the annual figure empty, with a flag
naming each quarter and why. Summing only the published figures would both understate the
year and, beside the published quarters, reveal nothing the quarters did not already show;
leaving the year empty keeps it honest and as protected as its quarters.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

PERIOD = "TIME_PERIOD"
VALUE = "OBS_VALUE"
CONF = "CONF_STATUS"
FLAG = "FLAG"
YEAR = "YEAR"
FREE = "F"  # CONF_STATUS of a cell published with its value


def quarters_of(year: int) -> tuple[str, str, str, str]:
    return (f"{year}-Q1", f"{year}-Q2", f"{year}-Q3", f"{year}-Q4")


def measure_kinds(codes: Mapping[str, Mapping[str, object]]) -> dict[str, str]:
    """MEASURE code -> ``stock`` or ``flow``, from the code list's ``kind`` properties
    (``{code: properties}``)."""
    return {code: str(props["kind"]) for code, props in codes.items() if "kind" in props}


def derive_annual(quarters: pl.DataFrame, *, year: int, kinds: Mapping[str, str]
                  ) -> pl.DataFrame:
    """One row per key (every column but TIME_PERIOD, OBS_VALUE and CONF_STATUS) seen in
    ``quarters``: YEAR, the key, OBS_VALUE (Int64, null when any input is suppressed or
    missing) and FLAG (null, or e.g. ``"2026-Q2 suppressed (A); 2026-Q4 missing"``).

    ``quarters`` holds the year's quarterly cells: a MEASURE column, TIME_PERIOD, OBS_VALUE
    and, optionally, CONF_STATUS (absent or null: usable; F: published; anything else:
    suppressed). Rows of other periods are ignored; a measure not in ``kinds`` is an error.
    """
    periods = quarters_of(year)
    frame = quarters.filter(pl.col(PERIOD).is_in(periods))
    if CONF not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(CONF))
    key = [c for c in frame.columns if c not in (PERIOD, VALUE, CONF)]
    unknown = set(frame["MEASURE"].unique().to_list()) - set(kinds)
    if unknown:
        raise ValueError(f"measures of unknown kind (stock or flow): {sorted(unknown)}")
    stocks = [m for m, kind in kinds.items() if kind == "stock"]
    keys = frame.select(key).unique()
    # Every quarter each key needs: the fourth for a stock, all four for a flow.
    needed = keys.join(pl.DataFrame({PERIOD: list(periods)}), how="cross").filter(
        ~pl.col("MEASURE").is_in(stocks) | (pl.col(PERIOD) == periods[-1]))
    inputs = needed.join(frame, on=[*key, PERIOD], how="left", nulls_equal=True)
    problem = (
        pl.when(pl.col(CONF).is_not_null() & (pl.col(CONF) != FREE))
        .then(pl.format("{} suppressed ({})", pl.col(PERIOD), pl.col(CONF)))
        .when(pl.col(VALUE).is_null())
        .then(pl.format("{} missing", pl.col(PERIOD)))
    )
    inputs = inputs.with_columns(problem.alias(FLAG)).sort([*key, PERIOD], nulls_last=True)
    out = inputs.group_by(key, maintain_order=True).agg(
        pl.when(pl.col(FLAG).is_null().all()).then(pl.col(VALUE).sum())
        .otherwise(None).cast(pl.Int64).alias(VALUE),
        pl.col(FLAG).drop_nulls().str.join("; ").alias(FLAG))
    return out.with_columns(
        pl.lit(year, dtype=pl.Int32).alias(YEAR),
        pl.when(pl.col(FLAG) == "").then(None).otherwise(pl.col(FLAG)).alias(FLAG),
    ).select(YEAR, *key, VALUE, FLAG)
