"""Rule family "values": counts are non-negative whole numbers, and empty exactly when
OBS_STATUS says the value is missing.

Cells are cast with ``strict=False`` and the cells that became null are reported, so one bad
value never hides the other checks of its column.
"""

from __future__ import annotations

import re

import numpy as np

from standards.model import Standard
from standards.validation.columns import Upload
from standards.validation.privacy import shown_value
from standards.validation.report import Issue, Report, Rule


def cast_counts(upload: Upload, report: Report, standard: Standard) -> Upload:
    """OBS_VALUE as integers; each cell that is not a whole number is reported (rule ``type``),
    each negative count too (rule ``non_negative``). Both mark their rows as bad."""
    if upload.raw is None:
        return upload
    measure = standard.measure
    raw = upload.raw
    typed = raw.str.to_integer(strict=False)
    if not typed.null_count():  # every cell a whole number: nothing empty, nothing failed
        value = typed.to_numpy()
        none = np.zeros(upload.height, dtype=bool)
        return _negatives(upload.with_(value=value, value_null=none, value_empty=none),
                          report, measure, np.empty(0, dtype=np.int64))
    value_null = typed.is_null().to_numpy()
    empty = (raw.is_null() | (raw.str.len_bytes() == 0)).to_numpy()
    failed = np.flatnonzero(~empty & value_null)
    if failed.size:
        shown = raw.gather(failed[: report.max_per_rule]).to_list()
        report.add_counted(
            Rule.TYPE,
            [Issue(Rule.TYPE, f"'{value}' is not a whole number." if value is not None else
                   "The value (withheld: it looks personal) is not a whole number.",
                   row=int(upload.rows[i]), column=measure, value=value, hint=_integer_hint(text))
             for i, text in zip(failed[: report.max_per_rule].tolist(), shown, strict=True)
             for value in [shown_value(text, standard)]],
            int(failed.size),
        )
    value = typed.fill_null(0).to_numpy()
    return _negatives(upload.with_(value=value, value_null=value_null, value_empty=empty),
                      report, measure, failed)


def _negatives(upload: Upload, report: Report, measure: str, failed: np.ndarray) -> Upload:
    """Report negative counts (rule ``non_negative``); mark them and ``failed`` rows bad."""
    value = upload.value
    negative = np.flatnonzero(value < 0)
    if negative.size:
        report.add_counted(
            Rule.NON_NEGATIVE,
            [Issue(Rule.NON_NEGATIVE, f"Count {v} is negative.", row=int(upload.rows[i]),
                   column=measure, value=str(v), hint="Counts are zero or more.")
             for i in negative[: report.max_per_rule].tolist() for v in [int(value[i])]],
            int(negative.size),
        )
    if not failed.size and not negative.size:
        return upload
    bad = upload.bad.copy()
    bad[failed] = True
    bad[negative] = True
    return upload.with_(bad=bad)


def _integer_hint(raw: str) -> str:
    if re.fullmatch(r"-?\d+[.,]0+", raw):
        return f"Write {re.split(r'[.,]', raw)[0]} without decimals."
    if re.fullmatch(r"\d{1,3}([ ,.\u00a0]\d{3})+", raw):
        return f"Write {re.sub(r'[^0-9]', '', raw)} without thousands separators."
    return "Counts are whole numbers; leave it empty with OBS_STATUS O, L or M."


def check_missing_values(upload: Upload, report: Report, standard: Standard) -> None:
    """OBS_VALUE is empty exactly when OBS_STATUS says the value is missing (O, L or M)."""
    status = standard.status_attribute
    if status is None or upload.raw is None:
        return
    measure = standard.measure
    codes = "/".join(status.missing_codes)
    coded = upload.coded.get(status.id)
    marked = coded.where(coded.entries.is_in(list(status.missing_codes)).to_numpy()) \
        if coded is not None else np.zeros(upload.height, dtype=bool)
    empty = upload.value_empty
    for condition, message, column, hint in (
        (empty & ~marked, f"{measure} is empty but {status.id} is not one of {codes}.",
         measure, f"Give the count, or mark the cell {status.id}=O (missing), L (exists, not "
                  "collected) or M (cannot exist)."),
        (~empty & marked, f"{status.id} says the value is missing ({codes}) but a count is "
                          "given.", status.id, "Remove the missing-value code or the count."),
    ):
        rows = np.flatnonzero(condition)
        report.add_counted(
            Rule.MISSING_VALUE,
            [Issue(Rule.MISSING_VALUE, message, row=int(upload.rows[i]), column=column, hint=hint)
             for i in rows[: report.max_per_rule].tolist()],
            int(rows.size),
        )


__all__ = ["cast_counts", "check_missing_values"]
