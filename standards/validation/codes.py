"""Rule family "codes": code-list membership, quarters, the declared state and quarter and
required values; and the hints that make their failures actionable (the nearest code, the quarter
as it should be written).

Every check is decided once per distinct value, on each column's dictionary, and only the rows
holding a failing value are looked up. The rules are the ones the DSD-generated pandera schema
publishes (``schema.py``); a test keeps the two in agreement.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import numpy as np

from standards.model import Standard
from standards.validation.columns import Upload, anchored, first_rows
from standards.validation.privacy import shown_value
from standards.validation.report import Issue, Report, Rule

# Rules of this family, in the order their failures were always reported.
RULES = (Rule.REQUIRED_VALUE, Rule.CODE_LIST, Rule.PERIOD_FORMAT, Rule.DECLARED_MATCH)


def check_codes(upload: Upload, report: Report, standard: Standard,
                country: str | None, period: str | None) -> Upload:
    """Code lists, quarter format, declared state and quarter, required dimension values."""
    declared = {"REF_AREA": country, "TIME_PERIOD": period}
    failing: dict[Rule, dict[str, np.ndarray]] = {rule: {} for rule in RULES}
    bad = upload.bad.copy()
    for column, coded in upload.coded.items():
        dim = standard.dimension.get(column)
        codelist = dim.codelist if dim is not None else standard.attribute[column].codelist
        if codelist is not None:
            attribute = standard.attribute.get(column)
            allowed = attribute.upload_codes if attribute is not None and \
                attribute.upload_codes is not None else codelist.ids
            valid = coded.entries.is_in(list(allowed)).to_numpy()
            rule = Rule.CODE_LIST
        else:
            assert dim is not None and dim.pattern is not None
            valid = coded.entries.str.contains(anchored(dim.pattern)).fill_null(False).to_numpy()
            rule = Rule.PERIOD_FORMAT
        failing[rule][column] = coded.rows_where(~valid)
        if dim is not None:  # dimension values are required; attributes may be empty
            failing[Rule.REQUIRED_VALUE][column] = np.flatnonzero(coded.empty())
        if declared.get(column):
            other = valid & (coded.entries != declared[column]).to_numpy()
            failing[Rule.DECLARED_MATCH][column] = coded.rows_where(other)
    order = list(upload.coded)
    for rule in RULES:
        per_column = {c: rows for c, rows in failing[rule].items() if rows.size}
        total = sum(rows.size for rows in per_column.values())
        if not total:
            continue
        for rows in per_column.values():
            bad[rows] = True
        examples = [
            _issue(rule, int(upload.rows[i]), column, upload.coded[column].value(i), standard,
                   country, period)
            for i, column in first_rows(per_column, order, report.max_per_rule)
        ]
        report.add_counted(rule, examples, total)
    return upload.with_(bad=bad)


def _issue(rule: Rule, row: int, column: str, value: str | None, standard: Standard,
           country: str | None, period: str | None) -> Issue:
    shown = shown_value(value, standard)
    quoted = f"'{shown}'" if shown is not None else "The value (withheld: it looks personal)"
    if rule == Rule.CODE_LIST:
        codelist = (standard.dimension[column].codelist if column in standard.dimension
                    else standard.attribute[column].codelist)
        assert codelist is not None
        attribute = standard.attribute.get(column)
        if attribute is not None and attribute.upload_codes is not None and value in codelist:
            return Issue(rule, f"{quoted} of {codelist.id} is set by the exchange, not uploaded.",
                         row=row, column=column, value=shown,
                         hint=f"A submitter may flag cells {' or '.join(attribute.upload_codes)}"
                              "; leave the others empty.")
        hint = nearest_code(str(value), codelist.ids, column) if shown is not None else \
            f"See `mmx standard show {column}` for the codes."
        return Issue(rule, f"{quoted} is not a code of {codelist.id}.", row=row, column=column,
                     value=shown, hint=hint)
    if rule == Rule.PERIOD_FORMAT:
        return Issue(rule, f"{quoted} is not a period (quarter or week).", row=row,
                     column=column, value=shown,
                     hint=period_hint(str(value)) if shown is not None else period_hint(""))
    if rule == Rule.DECLARED_MATCH:
        declared = country if column == "REF_AREA" else period
        return Issue(rule, f"{column} '{shown}' differs from the declared {declared}.", row=row,
                     column=column, value=shown,
                     hint=f"A submission holds one state and one period: {declared}.")
    return Issue(rule, f"{column} is empty.", row=row, column=column,
                 hint="Use _U for unknown sex/age, UNK for unknown citizenship, _T for totals.")


# --- hints ---------------------------------------------------------------------------------------

@cache
def _code_matrix(codes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The codes as a matrix of code points (-1 past each code's end), and their lengths."""
    width = max(len(c) for c in codes)
    matrix = np.full((len(codes), width), -1, dtype=np.int64)
    for i, code in enumerate(codes):
        matrix[i, : len(code)] = [ord(ch) for ch in code]
    return matrix, np.array([len(c) for c in codes])


def edit_distances(value: str, codes: tuple[str, ...]) -> np.ndarray:
    """Levenshtein distance from ``value`` to every code at once: the dynamic programme runs
    over the characters of the value and of the longest code, each step on all codes together."""
    matrix, lengths = _code_matrix(codes)
    n, width = matrix.shape
    previous = np.tile(np.arange(width + 1, dtype=np.int64), (n, 1))
    for i, ch in enumerate(value, start=1):
        cost = (matrix != ord(ch)).astype(np.int64)
        current = np.empty_like(previous)
        current[:, 0] = i
        for j in range(1, width + 1):
            current[:, j] = np.minimum(np.minimum(previous[:, j], current[:, j - 1]) + 1,
                                       previous[:, j - 1] + cost[:, j - 1])
        previous = current
    return previous[np.arange(n), lengths]


@lru_cache(maxsize=4096)
def nearest_code(value: str, codes: tuple[str, ...], column: str) -> str:
    """The closest code by edit distance, ties broken by the longest shared prefix; computed
    once per distinct value. A code is offered only within half its length, so a value much
    longer than every code is answered at once, whatever its length."""
    upper = value.strip().upper()
    if upper in codes:
        return f"Write {upper}: codes are upper case, without spaces."
    fallback = f"See `mmx standard show {column}` for the codes."
    longest = max(len(c) for c in codes)
    if len(upper) > longest + max(1, longest // 2):
        return fallback  # farther than the threshold from every code

    def prefix(code: str) -> int:
        return next((i for i, (a, b) in enumerate(zip(upper, code, strict=False)) if a != b),
                    min(len(upper), len(code)))

    distances = edit_distances(upper, codes)
    nearest = np.flatnonzero(distances == distances.min())
    best = min((codes[i] for i in nearest), key=lambda c: (-prefix(c), c))
    if int(distances.min()) <= max(1, len(best) // 2):
        return f"Did you mean {best}?"
    return fallback


def period_hint(value: str) -> str:
    if len(value) <= 64:  # a quarter written any way is short; longer text gets the rule
        m = re.fullmatch(r"\s*(\d{4})\s*[-/ ]?\s*[Qq]([1-4])\s*", value) or re.fullmatch(
            r"\s*[Qq]([1-4])\s*[-/ ]?\s*(\d{4})\s*", value)
        if m:
            year, quarter = (m.group(1), m.group(2)) if len(m.group(1)) == 4 else (m.group(2),
                                                                                     m.group(1))
            return f"Write {year}-Q{quarter}."
    week = re.fullmatch(r"\s*(\d{4})\s*[-/ ]?\s*[Ww]\s*(\d{1,2})\s*", value) \
        if len(value) <= 64 else None
    if week and 1 <= int(week.group(2)) <= 53:
        return f"Write {week.group(1)}-W{int(week.group(2)):02d}."
    return ("Quarters are written YYYY-Qn (e.g. 2026-Q3), emergency weeks YYYY-Www (e.g. "
            "2026-W48); annual figures are derived, not uploaded.")


__all__ = ["check_codes", "edit_distances", "nearest_code", "period_hint"]
