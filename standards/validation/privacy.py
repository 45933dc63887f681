"""Rule family "individual-level data": identifier-like columns, tables shaped like lists of
persons, exact ages and dates; and the rule that values looking personal are never quoted.

``identifier_columns`` is also what the server runs on an upload's header before it keeps
anything (purpose limitation).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

import polars as pl

from standards.model import Standard
from standards.validation.report import Issue, Report, Rule, quote
from standards.validation.schema import ROW

if TYPE_CHECKING:
    from standards.validation.keys import SeriesKeys



def _fold_latin(ch: str) -> str:
    """Drop accents from Latin letters (é -> e) but leave other scripts whole (й stays й)."""
    if ord(ch) < 0x250:
        return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return ch


def _norm_header(name: str) -> str:
    """Lower-case, Latin accents dropped, non-alphanumerics folded to ``_``: how identifier
    rules match column names."""
    folded = "".join(_fold_latin(ch) for ch in unicodedata.normalize("NFC", name.strip().lower()))
    return re.sub(r"[^\w]+", "_", folded).strip("_")


def identifier_kind(column: str, standard: Standard) -> str | None:
    """What kind of personal identifier a column name looks like, if any."""
    normalised = _norm_header(column)
    for rule in standard.identifier_rules:
        if any(re.search(p, normalised) for p in rule.patterns):
            return rule.kind
    return None


def identifier_columns(header: list[str], standard: Standard) -> list[tuple[str, str]]:
    """(column, kind) for every header field that looks like a personal identifier."""
    found = ((c, identifier_kind(c, standard)) for c in header)
    return [(c, kind) for c, kind in found if kind is not None]


def shown_value(value: object, standard: Standard) -> str | None:
    """The value as quoted in a report, or None when it looks personal (a date of birth, an
    exact age): reports are stored and shown, and must not carry what we refuse to keep."""
    text = quote(value)
    rule = standard.microdata
    if text is not None and (re.fullmatch(rule.date_pattern, text)
                             or re.fullmatch(rule.exact_age_pattern, text)):
        return None
    return text


def check_microdata(frame: pl.DataFrame, typed: pl.DataFrame, keys: SeriesKeys,
                     report: Report, standard: Standard) -> None:
    """Catch tables shaped like lists of persons. Values are never echoed: they may be personal."""
    rule = standard.microdata
    values = typed[standard.measure].drop_nulls()
    share_of_ones = (values == 1).mean() if values.len() else 0.0
    if values.len() >= rule.min_rows and share_of_ones >= rule.max_share_of_ones:
        report.add(Issue(
            Rule.INDIVIDUAL_DATA,
            f"{share_of_ones:.0%} of the counts are exactly 1: the table looks like one row per "
            "person. Individual-level data is refused.",
            column=standard.measure,
            hint="Aggregate persons into counts per combination of dimension values.",
        ))
    # Valid values never look like ages or dates, so only invalid cells are scanned.
    invalid: dict[str, pl.Series] = {d: pl.Series(c < 0) for d, c in keys.codes.items()}
    invalid[standard.measure] = typed[standard.measure].is_null()
    for attr in standard.upload_attributes:
        if attr.id in typed.columns:
            invalid[attr.id] = ~typed[attr.id].is_in(list(attr.codelist.ids))
    checks: list[tuple[str, str, str]] = []
    if "AGE" in frame.columns:
        checks.append(("AGE", rule.exact_age_pattern, "exact ages instead of age bands"))
    checks += [(c, rule.date_pattern, "calendar dates (dates of birth?)")
               for c in frame.columns if c != ROW]
    for column, pattern, what in checks:
        rows = frame.filter(invalid[column]).filter(pl.col(column).str.contains(pattern))[ROW]
        if rows.len():
            report.add_counted(
                Rule.INDIVIDUAL_DATA,
                [Issue(Rule.INDIVIDUAL_DATA,
                       f"{column} holds {what} in {rows.len():,} rows: this looks like "
                       "individual-level data.", row=rows[0], column=column,
                       hint="Use the standard's bands and quarters; never upload personal data.")],
                rows.len(),
            )
