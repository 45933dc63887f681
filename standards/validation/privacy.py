"""Rule family "individual-level data": identifier-like columns, tables shaped like lists of
persons, exact ages and dates; and the rule that values looking personal are never quoted.

``identifier_columns`` is also what the server runs on an upload's header before it keeps
anything (purpose limitation).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from standards.model import IdentifierRule, Standard
from standards.validation.report import Issue, Report, Rule, quote

if TYPE_CHECKING:
    from standards.validation.columns import Upload
    from standards.validation.keys import SeriesKeys


def _fold_latin(ch: str) -> str:
    """Drop accents from Latin letters (é -> e) but leave other scripts whole (й stays й)."""
    if ord(ch) < 0x250:
        return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return ch


def _norm_header(name: str) -> str:
    """Lower-case, Latin accents dropped, non-alphanumerics folded to ``_``: how identifier
    rules match column names."""
    lowered = name.strip().lower()
    folded = lowered if lowered.isascii() else "".join(  # ASCII has no accents to drop
        _fold_latin(ch) for ch in unicodedata.normalize("NFC", lowered))
    return _NOT_WORD.sub("_", folded).strip("_")


_NOT_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=16)
def _compiled(rules: tuple[IdentifierRule, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each rule's patterns as one compiled alternation: a header of many thousand names is
    checked in a fraction of a second (read_header allows up to a MiB of them)."""
    return tuple((rule.kind, re.compile("|".join(f"(?:{p})" for p in rule.patterns)))
                 for rule in rules)


def identifier_kind(column: str, standard: Standard) -> str | None:
    """What kind of personal identifier a column name looks like, if any."""
    normalised = _norm_header(column)
    for kind, pattern in _compiled(standard.identifier_rules):
        if pattern.search(normalised):
            return kind
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


def check_microdata(upload: Upload, keys: SeriesKeys, report: Report,
                    standard: Standard) -> None:
    """Catch tables shaped like lists of persons. Values are never echoed: they may be personal."""
    rule = standard.microdata
    given = ~upload.value_null
    n_values = int(np.count_nonzero(given))
    share_of_ones = float(np.count_nonzero(given & (upload.value == 1)) / n_values) \
        if n_values else 0.0
    if n_values >= rule.min_rows and share_of_ones >= rule.max_share_of_ones:
        report.add(Issue(
            Rule.INDIVIDUAL_DATA,
            f"{share_of_ones:.0%} of the counts are exactly 1: the table looks like one row per "
            "person. Individual-level data is refused.",
            column=standard.measure,
            hint="Aggregate persons into counts per combination of dimension values.",
        ))
    # Valid values never look like ages or dates, so only invalid values are scanned, and each
    # distinct one once.
    checks: list[tuple[str, str, str]] = []
    if "AGE" in upload.coded:
        checks.append(("AGE", rule.exact_age_pattern, "exact ages instead of age bands"))
    columns = [c for c in standard.upload_columns if c in upload.coded or
               (c == standard.measure and upload.raw is not None)]
    checks += [(c, rule.date_pattern, "calendar dates (dates of birth?)") for c in columns]
    for column, pattern, what in checks:
        rows = _matching_invalid(upload, keys, column, pattern, standard)
        if rows.size:
            report.add_counted(
                Rule.INDIVIDUAL_DATA,
                [Issue(Rule.INDIVIDUAL_DATA,
                       f"{column} holds {what} in {rows.size:,} rows: this looks like "
                       "individual-level data.", row=int(upload.rows[rows[0]]), column=column,
                       hint="Use the standard's bands and quarters; never upload personal data.")],
                int(rows.size),
            )


def _matching_invalid(upload: Upload, keys: SeriesKeys, column: str, pattern: str,
                      standard: Standard) -> np.ndarray:
    """Indices of the rows whose value in ``column`` is invalid and matches ``pattern``."""
    if column == standard.measure:
        assert upload.raw is not None
        invalid = np.flatnonzero(upload.value_null)
        if invalid.size == 0:
            return invalid
        hits = upload.raw.gather(invalid).str.contains(pattern).fill_null(False).to_numpy()
        return invalid[hits]
    coded = upload.coded[column]
    matching = coded.entries.str.contains(pattern).fill_null(False).to_numpy()
    if not matching.any():
        return np.empty(0, dtype=np.int64)
    if column in keys.codes:
        return np.flatnonzero(coded.where(matching) & (keys.codes[column] < 0))
    codelist = standard.attribute[column].codelist
    return coded.rows_where(matching & ~coded.entries.is_in(list(codelist.ids)).to_numpy())
