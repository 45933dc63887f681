"""Rule family "additivity": sex, age and status-group breakdowns add up to their ``_T``
totals (within the DSD's tolerance); specific-needs groups are never summed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from standards.model import Additivity, Standard
from standards.validation.keys import SeriesKeys, group_ids
from standards.validation.report import Issue, Report, Rule
from standards.validation.schema import ROW

# Dimensions a submission declares (one state, one quarter): a row off them is misfiled, and the
# breakdowns it would belong to cannot be judged either.
DECLARED = ("REF_AREA", "TIME_PERIOD")


@dataclass(frozen=True)
class Cells:
    """OBS_VALUE (nulls as 0), file row numbers and "cannot be checked" (an error of its own, or
    an empty value), one entry per row."""

    values: np.ndarray
    rows: np.ndarray
    unusable: np.ndarray


def check_additivity(typed: pl.DataFrame, keys: SeriesKeys, cells: Cells,
                      breakdown: Additivity, report: Report, standard: Standard) -> None:
    """Parts of a breakdown must add up to its total wherever the total and any part are given.

    Rows of one breakdown share the series key with this dimension taken out. A group with a
    missing (status M) value, or with a row that has an error of its own, cannot be checked and
    is skipped: its error is already reported.
    """
    dim, total, measure = breakdown.dimension, breakdown.total, standard.measure
    positions = keys.positions[dim]
    part_ids = [positions[p] for p in breakdown.parts if p in positions]
    if total not in positions or not part_ids:
        return
    code = keys.codes[dim]
    # Group by the key without this dimension, with masks instead of row copies. Only the
    # parts' sum needs a weighted bincount; a group's total row is unique, so it is scattered.
    ids, n = group_ids(keys.without(dim))
    is_total = code == positions[total]
    part_lookup = np.zeros(keys.radix[dim], dtype=np.int64)
    part_lookup[part_ids] = 1
    is_part = part_lookup[code]
    values, rows = cells.values, cells.rows
    member = is_total | (is_part == 1)
    # A row with an error of its own spoils its breakdown; one filed under another state or
    # quarter spoils the breakdown it should have been in, so errors are spread over the
    # cell's breakdowns in every state and quarter of the file.
    errored = cells.unusable & member
    unusable = errored
    if errored.any():
        wide_ids, wide_n = group_ids(keys.without(dim, *DECLARED))
        spoiled = np.bincount(wide_ids, weights=errored, minlength=wide_n) > 0
        unusable = spoiled[wide_ids] & member

    total_value = np.zeros(n, dtype=np.int64)
    total_row = np.full(n, -1, dtype=np.int64)
    total_value[ids[is_total]] = values[is_total]
    total_row[ids[is_total]] = rows[is_total]
    parts = np.bincount(ids, weights=values * is_part, minlength=n)
    # Part count and unusable count in one exact float64 pass (both far below 2**26).
    counts = np.bincount(ids, weights=is_part + unusable * float(1 << 26), minlength=n)
    n_unusable, n_parts = np.divmod(counts, float(1 << 26))
    failing = np.flatnonzero(
        (total_row >= 0) & (n_parts > 0) & (n_unusable == 0)
        & (np.abs(parts - total_value) > standard.additivity_tolerance)
    )
    if failing.size == 0:
        return
    shown = failing[np.argsort(total_row[failing])][: report.max_per_rule]
    in_shown = np.isin(ids, shown) & (is_part == 1)
    listing = (
        pl.DataFrame({"group": ids[in_shown], "code": code[in_shown],
                      "row": rows[in_shown], "value": values[in_shown]})
        .join(typed.select(pl.col(ROW).alias("row"), pl.col(dim)), on="row")
        .sort("group", "code")
        .group_by("group", maintain_order=True)
        .agg(pl.concat_str(pl.col(dim), pl.lit(" "), pl.col("value").cast(pl.Utf8))
             .str.join(" + ").alias("listed"))
    )
    listed = dict(listing.iter_rows())
    examples = []
    for group in shown:
        got, expected = int(parts[group]), int(total_value[group])
        examples.append(Issue(
            Rule.ADDITIVITY,
            f"{dim} parts add up to {got} ({listed.get(group, '')}) but {dim}={total} is "
            f"{expected}.",
            row=int(total_row[group]), column=measure, value=str(expected),
            hint=f"Difference {expected - got:+d}: put unknowns under _U, or correct the total.",
        ))
    report.add_counted(Rule.ADDITIVITY, examples, int(failing.size))
