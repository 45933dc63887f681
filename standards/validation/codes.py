"""Rule family "codes": code-list membership, quarters, the declared state and quarter, required
values and non-negative counts, checked by the DSD-generated pandera schema; and the hints that
make its failures actionable (the nearest code, the quarter as it should be written).
"""

from __future__ import annotations

import re

import pandera.polars as pa
import polars as pl

from standards.model import Standard
from standards.validation.duplicates import report_duplicates
from standards.validation.privacy import shown_value
from standards.validation.report import Issue, Report, Rule, quote
from standards.validation.schema import build_schema
from standards.validation.structure import FIRST_DATA_ROW


def check_schema(typed: pl.DataFrame, report: Report, standard: Standard,
                  country: str | None, period: str | None) -> set[int]:
    """Run the DSD-generated pandera schema; turn its failure cases into capped issues."""
    schema = build_schema(standard, country=country, period=period)
    try:
        schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return set()
    rules = {rule.value for rule in Rule}
    cases = cases.with_columns(
        pl.when(pl.col("check").is_in(list(rules))).then(pl.col("check"))
        .when(pl.col("check") == "not_nullable").then(pl.lit(Rule.REQUIRED_VALUE.value))
        .otherwise(pl.lit(Rule.STRUCTURE.value)).alias("rule"),
        (pl.col("index").cast(pl.Int64) + FIRST_DATA_ROW).alias("row"),
    )
    bad_rows: set[int] = set(cases["row"].drop_nulls().to_list())
    # A value outside its code list or format cannot also "differ from the declared" one.
    malformed = cases.filter(pl.col("rule").is_in([Rule.CODE_LIST.value, Rule.PERIOD_FORMAT.value]))
    cases = cases.join(
        malformed.select("row", "column", pl.lit(True).alias("__malformed")),
        on=["row", "column"], how="left",
    ).filter(~((pl.col("rule") == Rule.DECLARED_MATCH.value) & pl.col("__malformed").is_not_null()))
    for (rule_id,), group in cases.sort("row").group_by(["rule"], maintain_order=True):
        rule = Rule(str(rule_id))
        if rule == Rule.DUPLICATE_KEY:
            report_duplicates(typed, group, report, standard)
            continue
        examples = [
            _schema_issue(rule, row, column, value, standard, country, period)
            for row, column, value in group.head(report.max_per_rule)
            .select("row", "column", "failure_case").iter_rows()
        ]
        report.add_counted(rule, examples, group.height)
    return bad_rows


def _schema_issue(rule: Rule, row: int | None, column: str | None, value: str | None,
                  standard: Standard, country: str | None, period: str | None) -> Issue:
    shown = shown_value(value, standard) if rule != Rule.NON_NEGATIVE else quote(value)
    quoted = f"'{shown}'" if shown is not None else "The value (withheld: it looks personal)"
    if rule == Rule.CODE_LIST and column is not None:
        codelist = (standard.dimension[column].codelist if column in standard.dimension
                    else standard.attribute[column].codelist)
        assert codelist is not None
        hint = _nearest_code(str(value), codelist.ids, column) if shown is not None else \
            f"See `mmx standard show {column}` for the codes."
        return Issue(rule, f"{quoted} is not a code of {codelist.id}.", row=row, column=column,
                     value=shown, hint=hint)
    if rule == Rule.PERIOD_FORMAT:
        return Issue(rule, f"{quoted} is not a quarter.", row=row, column=column, value=shown,
                     hint=_period_hint(str(value)) if shown is not None else _period_hint(""))
    if rule == Rule.DECLARED_MATCH:
        declared = country if column == "REF_AREA" else period
        return Issue(rule, f"{column} '{shown}' differs from the declared {declared}.", row=row,
                     column=column, value=shown,
                     hint=f"A submission holds one state and one quarter: {declared}.")
    if rule == Rule.NON_NEGATIVE:
        return Issue(rule, f"Count {shown} is negative.", row=row, column=column, value=shown,
                     hint="Counts are zero or more.")
    if rule == Rule.REQUIRED_VALUE:
        return Issue(rule, f"{column} is empty.", row=row, column=column,
                     hint="Use _U for unknown sex/age, UNK for unknown citizenship, _T for totals.")
    return Issue(rule, f"{column}: {shown}", row=row, column=column, value=shown)


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance; codes are a few characters, so the quadratic table is tiny."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _nearest_code(value: str, codes: tuple[str, ...], column: str) -> str | None:
    """The closest code by edit distance, ties broken by the longest shared prefix."""
    upper = value.strip().upper()
    if upper in codes:
        return f"Write {upper}: codes are upper case, without spaces."

    def prefix(code: str) -> int:
        return next((i for i, (a, b) in enumerate(zip(upper, code, strict=False)) if a != b),
                    min(len(upper), len(code)))

    best = min(codes, key=lambda c: (_edit_distance(upper, c), -prefix(c), c))
    if _edit_distance(upper, best) <= max(1, len(best) // 2):
        return f"Did you mean {best}?"
    return f"See `mmx standard show {column}` for the codes."


def _period_hint(value: str) -> str:
    m = re.fullmatch(r"\s*(\d{4})\s*[-/ ]?\s*[Qq]([1-4])\s*", value) or re.fullmatch(
        r"\s*[Qq]([1-4])\s*[-/ ]?\s*(\d{4})\s*", value)
    if m:
        year, quarter = (m.group(1), m.group(2)) if len(m.group(1)) == 4 else (m.group(2),
                                                                                 m.group(1))
        return f"Write {year}-Q{quarter}."
    return "Quarters are written YYYY-Qn, e.g. 2026-Q3; annual figures are derived, not uploaded."
