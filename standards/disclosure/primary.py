"""Primary suppression: which cells are sensitive in themselves, and how well each must be
protected (``levels``).

* A: a count from 1 to k-1 (k by SPEC_NEED, ``Parameters.k``); zero is not sensitive.
* C, N: flagged by the sender on upload (they keep their code).
* G: a regional cell with fewer than ``min_contributors`` contributing states (a non-zero
  figure), unless every contributing state consented to national publication (then nothing is
  revealed that is not published anyway).
* O: a regional cell one state makes more than ``dominance_share`` of, unless that state
  consented.

National cells of states without consent are never published; they are still protected
(``levels``: contribution rule), since regional sums and other releases constrain them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from standards.disclosure import levels
from standards.disclosure.parameters import Parameters
from standards.disclosure.release import AREA, SENDER_FLAG, VALUE

PRIMARY = "PRIMARY"
REGIONAL = "REGIONAL"
PUBLISHED = "PUBLISHED"
REQ_LO = "REQ_LO"
REQ_HI = "REQ_HI"
UNKNOWN_STATE = "?"


def contributions(cells: pl.DataFrame, states_of: Mapping[str, frozenset[str]],
                  dims: list[str], consent: Mapping[str, bool]) -> pl.DataFrame:
    """Per regional cell (AREA = region): contributing states, the largest figure and whether
    its state consented, whether every contributor consented. A remainder the national cells
    do not explain counts as one more contributor without consent."""
    national = cells.filter(~pl.col(REGIONAL)).select(AREA, *dims, VALUE)
    frames = [national.filter(pl.col(AREA).is_in(sorted(states))).with_columns(
        pl.lit(region).alias("_REGION")) for region, states in sorted(states_of.items())]
    long = pl.concat(frames) if frames else national.with_columns(
        pl.lit(None, dtype=pl.String).alias("_REGION"))
    long = long.with_columns(
        pl.col(AREA).replace_strict(dict(consent), default=False, return_dtype=pl.Boolean)
        .alias("_CONSENT"))
    per_cell = (long.filter(pl.col(VALUE) > 0)
                .sort(VALUE, AREA, descending=[True, False])
                .group_by("_REGION", *dims, maintain_order=True)
                .agg(pl.len().alias("_N"), pl.col(VALUE).sum().alias("_SUM"),
                     pl.col(VALUE).filter(~pl.col("_CONSENT")).sum().alias("_HIDDEN"),
                     pl.col(VALUE).first().alias("_TOP"),
                     pl.col("_CONSENT").first().alias("_TOP_CONSENT"),
                     pl.col("_CONSENT").all().alias("_ALL_CONSENT")))
    regional = cells.filter(pl.col(REGIONAL)).select(AREA, *dims, VALUE)
    out = regional.join(per_cell.rename({"_REGION": AREA}), on=[AREA, *dims], how="left")
    out = out.with_columns(
        pl.col("_N").fill_null(0), pl.col("_SUM").fill_null(0), pl.col("_TOP").fill_null(0),
        pl.col("_HIDDEN").fill_null(0),
        pl.col("_TOP_CONSENT").fill_null(True), pl.col("_ALL_CONSENT").fill_null(True))
    rest = pl.col(VALUE) - pl.col("_SUM")
    return out.with_columns(
        pl.when(rest > 0).then(pl.col("_N") + 1).otherwise(pl.col("_N")).alias("_N"),
        pl.when(rest > 0).then(False).otherwise(pl.col("_ALL_CONSENT")).alias("_ALL_CONSENT"),
        pl.when(rest > pl.col("_TOP")).then(False).otherwise(pl.col("_TOP_CONSENT"))
        .alias("_TOP_CONSENT"),
        pl.max_horizontal(pl.col("_TOP"), rest).alias("_TOP"),
        (pl.col("_HIDDEN") + pl.max_horizontal(rest, pl.lit(0))).alias("_HIDDEN"),
    ).select(AREA, *dims, "_N", "_TOP", "_TOP_CONSENT", "_ALL_CONSENT", "_HIDDEN")


def classify(cells: pl.DataFrame, *, dims: list[str], parameters: Parameters,
             states_of: Mapping[str, frozenset[str]], consent: Mapping[str, bool]
             ) -> pl.DataFrame:
    """``cells`` with REGIONAL, PUBLISHED, PRIMARY (A/O/G/C/N or null) and the protection
    level REQ_LO/REQ_HI of each cell (equal to VALUE where nothing is required)."""
    cells = cells.with_columns(pl.col(AREA).is_in(sorted(states_of)).alias(REGIONAL))
    cells = cells.with_columns(
        (pl.col(REGIONAL) | pl.col(AREA).replace_strict(dict(consent), default=False,
                                                         return_dtype=pl.Boolean))
        .alias(PUBLISHED))
    share = contributions(cells, states_of, dims, consent)
    cells = cells.join(share, on=[AREA, *dims], how="left", maintain_order="left")
    value = cells[VALUE].to_numpy().astype(float)
    need = cells["SPEC_NEED"].to_list() if "SPEC_NEED" in cells.columns else [None] * len(value)
    k = np.array([parameters.k(n) for n in need], dtype=float)
    flag = cells[SENDER_FLAG].fill_null("").to_numpy().astype(str)
    flagged = np.isin(flag, ["C", "N"])
    published = cells[PUBLISHED].to_numpy()
    regional = cells[REGIONAL].to_numpy()
    small = (value >= 1) & (value < k)
    n = cells["_N"].fill_null(0).to_numpy()
    top = cells["_TOP"].fill_null(0).to_numpy().astype(float)
    few = regional & (value > 0) & (n < parameters.min_contributors) & \
        ~cells["_ALL_CONSENT"].fill_null(True).to_numpy()
    dominant = regional & (value > 0) & \
        (top > parameters.dominance_share * value + 1e-9) & \
        ~cells["_TOP_CONSENT"].fill_null(True).to_numpy()
    status = np.full(len(value), None, dtype=object)
    for code, where in (("O", dominant), ("G", few), ("A", small)):
        status[published & where] = code
    status[flagged] = flag[flagged]
    # Protection levels: the hull of every rule that applies.
    p = parameters.dominance_protection
    required = levels.none(value)
    required = levels.hull(required, levels.small_count(value, k), published & small)
    hidden_part = cells["_HIDDEN"].fill_null(0).to_numpy().astype(float)
    required = levels.hull(required, levels.relative(value, p, of=hidden_part),
                           published & (few | dominant))
    required = levels.hull(required, levels.relative(value, p, at_least=1.0), flagged)
    required = levels.hull(required, levels.relative(value, parameters.contribution_protection),
                           ~published)
    return cells.drop("_N", "_TOP", "_TOP_CONSENT", "_ALL_CONSENT", "_HIDDEN").with_columns(
        pl.Series(PRIMARY, status.tolist(), dtype=pl.String),
        pl.Series(REQ_LO, required[0]), pl.Series(REQ_HI, required[1]))
