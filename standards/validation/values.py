"""Rule family "values": counts are non-negative whole numbers, and empty exactly when
OBS_STATUS says the value is missing.

Cells are cast with ``strict=False`` and the cells that became null are reported, so one bad
value never hides the other checks of its column.
"""

from __future__ import annotations

import re

import polars as pl

from standards.model import Standard
from standards.validation.privacy import shown_value
from standards.validation.report import Issue, Report, Rule
from standards.validation.schema import ROW


def cast_counts(frame: pl.DataFrame, report: Report, standard: Standard
                ) -> tuple[pl.DataFrame, set[int]]:
    """Cast OBS_VALUE to integers, reporting each cell that is not a whole number."""
    measure = standard.measure
    typed = frame.with_columns(pl.col(measure).str.to_integer(strict=False).alias(measure))
    failed = frame.select(ROW, pl.col(measure).alias("raw")).filter(
        pl.col("raw").is_not_null() & typed[measure].is_null()
    )
    report.add_counted(
        Rule.TYPE,
        [Issue(Rule.TYPE, f"'{shown}' is not a whole number." if shown is not None else
               "The value (withheld: it looks personal) is not a whole number.", row=row,
               column=measure, value=shown, hint=_integer_hint(raw))
         for row, raw in failed.head(report.max_per_rule).iter_rows()
         for shown in [shown_value(raw, standard)]],
        failed.height,
    )
    return typed, set(failed[ROW].to_list())


def _integer_hint(raw: str) -> str:
    if re.fullmatch(r"-?\d+[.,]0+", raw):
        return f"Write {re.split(r'[.,]', raw)[0]} without decimals."
    if re.fullmatch(r"\d{1,3}([ ,.\u00a0]\d{3})+", raw):
        return f"Write {re.sub(r'[^0-9]', '', raw)} without thousands separators."
    return "Counts are whole numbers of persons or events; leave it empty with OBS_STATUS M."


def check_missing_values(frame: pl.DataFrame, report: Report, standard: Standard) -> None:
    """OBS_VALUE is empty exactly when OBS_STATUS says the value is missing."""
    status = next((a for a in standard.upload_attributes if a.missing_code), None)
    if status is None:
        return
    measure = standard.measure
    marked = (
        (pl.col(status.id) == status.missing_code).fill_null(False)
        if status.id in frame.columns else pl.lit(False)
    )
    empty = pl.col(measure).is_null()
    for condition, message, column, hint in (
        (empty & ~marked, f"{measure} is empty but {status.id} is not {status.missing_code}.",
         measure, f"Give the count, or mark the cell {status.id}={status.missing_code}."),
        (~empty & marked, f"{status.id} is {status.missing_code} (missing) but a count is given.",
         status.id, f"Remove {status.missing_code} or the count."),
    ):
        rows = frame.filter(condition)[ROW]
        report.add_counted(
            Rule.MISSING_VALUE,
            [Issue(Rule.MISSING_VALUE, message, row=r, column=column, hint=hint)
             for r in rows.head(report.max_per_rule)],
            rows.len(),
        )
