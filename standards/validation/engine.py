"""The validation engine: the one implementation behind ``mmx validate`` and the server.

Work is vectorised in polars from end to end. Every rule produces exact counts but only a capped
number of example issues, and no step loops over rows in Python, so a file where every row is
wrong is about as fast as a clean one.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandera.polars as pa
import polars as pl

from standards.loader import CURRENT_VERSION, load_standard
from standards.mappings import MappingLog, Mappings, load_mappings, value_map
from standards.model import Additivity, Standard
from standards.validation.keys import (
    KEY,
    SeriesKeys,
    dictionary_encode,
    group_ids,
    series_keys,
)
from standards.validation.reading import FileFormat, Table, UnusableInput, read_table
from standards.validation.report import Issue, Report, Rule
from standards.validation.schema import ROW, build_schema

Progress = Callable[[str], None]
MAX_VALUE_CHARS = 60
FIRST_DATA_ROW = 2  # row 1 of every accepted format is the header
# Dimensions a submission declares (one state, one quarter): a row off them is misfiled, and the
# breakdowns it would belong to cannot be judged either.
DECLARED = ("REF_AREA", "TIME_PERIOD")


def validate_file(
    source: Path | str | bytes,
    *,
    country: str | None = None,
    period: str | None = None,
    file_format: FileFormat | str = FileFormat.AUTO,
    standard: Standard | None = None,
    max_per_rule: int = 100,
    progress: Progress | None = None,
    standard_version: str = CURRENT_VERSION,
    mappings: Mappings | None = None,
) -> Report:
    """Validate a file (path or uploaded bytes) against the standard; never raises on bad input.

    National variants and codes of an older ``standard_version`` are first mapped to the current
    code lists by the mapping tables; the report's notes say what was mapped.
    """
    standard = standard or load_standard()
    report = Report(standard=f"{standard.id} {standard.version}", max_per_rule=max_per_rule)
    step = progress or (lambda _msg: None)
    step("Reading the file")
    try:
        table = read_table(source, FileFormat(file_format))
    except UnusableInput as exc:
        report.add(Issue(rule=Rule.UNUSABLE, message=exc.message, hint=exc.hint))
        return report
    report.file_format = table.file_format.value
    report.rows = table.frame.height
    return validate_table(table, report, standard, country=country, period=period, progress=step,
                          standard_version=standard_version, mappings=mappings)


def validate_table(
    table: Table,
    report: Report,
    standard: Standard,
    *,
    country: str | None,
    period: str | None,
    progress: Progress,
    standard_version: str = CURRENT_VERSION,
    mappings: Mappings | None = None,
) -> Report:
    progress("Checking the structure")
    frame = _canonical_columns(table.frame)
    if table.file_format == FileFormat.SDMX_CSV:
        frame = _check_dataflow(frame, report, standard)
    if not _check_structure(frame, table, report, standard):
        return report
    frame = _normalise(frame.select([c for c in standard.upload_columns if c in frame.columns]))
    _check_ragged(table, report)

    progress("Checking types and values")
    typed, bad_rows = _type_phase(frame, report, standard)
    _check_missing_values(frame, report, standard)
    coded = [c for c in frame.columns if c in standard.codelist_columns]
    typed, vocabulary = dictionary_encode(typed, coded)
    typed, vocabulary = _map_variants(typed, vocabulary, coded, report, standard, mappings,
                                      standard_version)
    keys = series_keys(typed, vocabulary, standard)
    typed = typed.with_columns(pl.Series(KEY, keys.key))
    progress("Checking codes, periods and keys")
    bad_rows |= _schema_phase(typed, report, standard, country, period)
    progress("Looking for individual-level data")
    if frame.height != typed.height:  # nested bands were summed: keep the rows that remain
        frame = frame.join(typed.select(ROW), on=ROW, how="semi")
    _check_microdata(frame, typed, keys, report, standard)
    progress("Checking that breakdowns add up")
    if not keys.valid.all():
        report.notes.append(
            "Additivity was not checked: some rows have invalid or empty dimension values, so "
            "their breakdowns cannot be assembled. Fix those first."
        )
        return report
    # Per-row arrays shared by the three breakdowns, taken out of polars once.
    bad = typed[ROW].is_in(pl.Series(list(bad_rows), dtype=pl.Int64).implode()).to_numpy() \
        | typed[standard.measure].is_null().to_numpy()
    cells = Cells(values=typed[standard.measure].fill_null(0).to_numpy(),
                  rows=typed[ROW].to_numpy(), unusable=bad)
    for breakdown in standard.additive_breakdowns:
        _check_additivity(typed, keys, cells, breakdown, report, standard)
    return report


# --- mapping -----------------------------------------------------------------------------------

def _map_variants(typed: pl.DataFrame, vocabulary: pl.Series, coded: list[str], report: Report,
                  standard: Standard, mappings: Mappings | None, version: str
                  ) -> tuple[pl.DataFrame, pl.Series]:
    """Rewrite national variants to standard codes (decided on the distinct values only), and sum
    rows whose nested age bands now share a key. Unmapped values stay for the code-list rule."""
    mappings = mappings or load_mappings()
    distinct = vocabulary.to_list()
    plans = {dim: plan for dim in coded
             if (plan := value_map(distinct, dim, standard, mappings, version))}
    if not plans:
        return typed, vocabulary
    log = MappingLog()
    rewritten = []
    for dim, plan in plans.items():
        counts = typed[dim].cast(pl.Utf8).value_counts()
        for value, n in counts.filter(pl.col(dim).is_in(list(plan))).iter_rows():
            log.add(plan[value][1], dim, value, plan[value][0], n)
        rewritten.append(pl.col(dim).cast(pl.Utf8)
                         .replace({v: code for v, (code, _) in plan.items()}).alias(dim))
    nested = [v for v, (_, kind) in plans.get("AGE", {}).items() if kind == "nested band"]
    typed = typed.with_columns(
        (pl.col("AGE").cast(pl.Utf8).is_in(nested) if nested else pl.lit(False)).alias("__nested"),
        *rewritten,
    ).with_columns(pl.col(c).cast(pl.Utf8) for c in coded)
    if nested:
        typed = _sum_nested(typed, standard)
    report.notes.extend(log.notes())
    return dictionary_encode(typed.drop("__nested"), coded)


def _sum_nested(typed: pl.DataFrame, standard: Standard) -> pl.DataFrame:
    """Rows that came from finer national age bands are summed per key (first row kept)."""
    keys = list(standard.dimension_ids)
    fine = typed.filter(pl.col("__nested"))
    summed = fine.group_by(keys).agg(
        pl.col(standard.measure).sum(), pl.col(ROW).min(), pl.all().exclude(
            [*keys, standard.measure, ROW]).first())
    return pl.concat([typed.filter(~pl.col("__nested")), summed.select(typed.columns)]
                     ).sort(ROW)


# --- structure ---------------------------------------------------------------------------------

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


def _canonical_columns(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.rename({c: c.strip().upper() for c in frame.columns if c != c.strip().upper()})


def _check_dataflow(frame: pl.DataFrame, report: Report, standard: Standard) -> pl.DataFrame:
    values = frame.with_row_index(ROW, offset=FIRST_DATA_ROW).select(
        ROW, pl.col("DATAFLOW").str.strip_chars()
    )
    known = [f"{standard.agency}:{standard.id}({v})" for v in load_mappings().known_versions()]
    ok = pl.col("DATAFLOW").is_in(known)
    bad = values.filter(~ok | pl.col("DATAFLOW").is_null())
    report.add_counted(
        Rule.DATAFLOW,
        [
            Issue(Rule.DATAFLOW, f"DATAFLOW must name this structure and a known version, "
                  f"e.g. {standard.urn}", row=r, column="DATAFLOW",
                  value=_shorten(v), hint=standard.urn)
            for r, v in bad.head(report.max_per_rule).iter_rows()
        ],
        bad.height,
    )
    return frame.drop("DATAFLOW")


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


def _check_structure(frame: pl.DataFrame, table: Table, report: Report, standard: Standard) -> bool:
    """Columns: refuse identifiers, report unknown/missing/duplicated ones. False = cannot go on."""
    expected = set(standard.upload_columns)
    headers = [h.strip().upper() for h in table.header]
    if table.file_format == FileFormat.SDMX_CSV:
        headers = headers[1:]
    for position, name in enumerate(headers, start=1):
        if headers.index(name) != position - 1:
            report.add(Issue(Rule.STRUCTURE, f"Column {name} appears more than once.", row=1,
                             column=name, hint="Keep one column per dimension."))
    for original in frame.columns:
        if original in expected:
            continue
        kind = identifier_kind(original, standard)
        if kind is not None:
            report.add(Issue(
                Rule.INDIVIDUAL_DATA,
                f"Column '{original}' looks like a personal identifier ({kind}). Files with "
                "individual-level data are refused.",
                row=1, column=original,
                hint="Remove the column and upload aggregate counts only.",
            ))
            continue
        near = difflib.get_close_matches(original, list(expected), n=1, cutoff=0.6)
        report.add(Issue(Rule.STRUCTURE, f"Unexpected column '{original}'.", row=1,
                         column=original, hint=f"Did you mean {near[0]}?" if near else
                         f"Allowed columns: {', '.join(standard.upload_columns)}."))
    required = [*standard.dimension_ids, standard.measure]
    missing = [c for c in required if c not in frame.columns]
    for name in missing:
        report.add(Issue(Rule.STRUCTURE, f"Required column {name} is missing.", row=1,
                         column=name, hint=f"The header must hold {', '.join(required)}."))
    present_dims = [d for d in standard.dimension_ids if d in frame.columns]
    if standard.measure not in frame.columns and len(present_dims) >= 2:
        report.add(Issue(
            Rule.INDIVIDUAL_DATA,
            f"There is no {standard.measure} count column: the table looks like one row per "
            "person. Individual-level data is refused.",
            row=1, column=standard.measure,
            hint="Count persons per combination of dimension values and upload the counts.",
        ))
    return not missing


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """Empty and missing cells become null; the file row number goes into ``__row``.

    Cells are not trimmed (that costs a third of a read): a padded code fails its code list with
    a hint to remove the spaces.
    """
    return frame.with_row_index(ROW, offset=FIRST_DATA_ROW).with_columns(
        pl.col(ROW).cast(pl.Int64),
        *(pl.when(pl.col(c).str.len_bytes() == 0).then(None).otherwise(pl.col(c)).alias(c)
          for c in frame.columns),
    )


def _check_ragged(table: Table, report: Report) -> None:
    width = len(table.header)
    report.add_counted(
        Rule.RAGGED_ROW,
        [
            Issue(Rule.RAGGED_ROW,
                  f"Row has {n} fields, the header has {width}." if n >= 0
                  else f"Row has fewer fields than the header's {width}.", row=row,
                  hint="Every row needs one field per column; leave a field empty, not out.")
            for row, n in table.ragged
        ],
        table.ragged_count,
    )


# --- values --------------------------------------------------------------------------------------

def _shorten(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _shown(value: object, standard: Standard) -> str | None:
    """The value as quoted in a report, or None when it looks personal (a date of birth, an
    exact age): reports are stored and shown, and must not carry what we refuse to keep."""
    text = _shorten(value)
    rule = standard.microdata
    if text is not None and (re.fullmatch(rule.date_pattern, text)
                             or re.fullmatch(rule.exact_age_pattern, text)):
        return None
    return text


def _type_phase(frame: pl.DataFrame, report: Report, standard: Standard
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
         for shown in [_shown(raw, standard)]],
        failed.height,
    )
    return typed, set(failed[ROW].to_list())


def _integer_hint(raw: str) -> str:
    if re.fullmatch(r"-?\d+[.,]0+", raw):
        return f"Write {re.split(r'[.,]', raw)[0]} without decimals."
    if re.fullmatch(r"\d{1,3}([ ,.\u00a0]\d{3})+", raw):
        return f"Write {re.sub(r'[^0-9]', '', raw)} without thousands separators."
    return "Counts are whole numbers of persons or events; leave it empty with OBS_STATUS M."


def _schema_phase(typed: pl.DataFrame, report: Report, standard: Standard,
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
            _report_duplicates(typed, group, report, standard)
            continue
        examples = [
            _schema_issue(rule, row, column, value, standard, country, period)
            for row, column, value in group.head(report.max_per_rule)
            .select("row", "column", "failure_case").iter_rows()
        ]
        report.add_counted(rule, examples, group.height)
    return bad_rows


def _report_duplicates(typed: pl.DataFrame, cases: pl.DataFrame, report: Report,
                       standard: Standard) -> None:
    """Each repeated key once per extra row, pointing at the row it repeats."""
    rows = typed.filter(pl.col(ROW).is_in(cases["row"])).select(
        ROW, KEY, pl.col(ROW).min().over(KEY).alias("first"),
        pl.concat_str(standard.dimension_ids, separator=" ").alias("key"),
    ).filter(pl.col(ROW) != pl.col("first")).sort(ROW)
    report.add_counted(
        Rule.DUPLICATE_KEY,
        [Issue(Rule.DUPLICATE_KEY, f"Same dimension values as row {first}.", row=row,
               value=_shorten(key),
               hint="Add the two rows up into one, or fix the dimension that differs.")
         for row, first, key in rows.head(report.max_per_rule)
         .select(ROW, "first", "key").iter_rows()],
        rows.height,
    )


def _schema_issue(rule: Rule, row: int | None, column: str | None, value: str | None,
                  standard: Standard, country: str | None, period: str | None) -> Issue:
    shown = _shown(value, standard) if rule != Rule.NON_NEGATIVE else _shorten(value)
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


def _check_missing_values(frame: pl.DataFrame, report: Report, standard: Standard) -> None:
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


# --- individual-level data -----------------------------------------------------------------------

def _check_microdata(frame: pl.DataFrame, typed: pl.DataFrame, keys: SeriesKeys,
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


# --- additivity ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cells:
    """OBS_VALUE (nulls as 0), file row numbers and "cannot be checked" (an error of its own, or
    an empty value), one entry per row."""

    values: np.ndarray
    rows: np.ndarray
    unusable: np.ndarray


def _check_additivity(typed: pl.DataFrame, keys: SeriesKeys, cells: Cells,
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


# --- harmonized output --------------------------------------------------------------------------

def load_harmonized(source: Path | str, *, file_format: FileFormat | str = FileFormat.AUTO,
                    standard_version: str = CURRENT_VERSION, standard: Standard | None = None
                    ) -> tuple[pl.DataFrame, list[str]]:
    """The rows of an already validated file in standard codes, through the same reading and
    mapping as validation: dimensions and OBS_STATUS as text, OBS_VALUE as Int64.

    Returns the frame and the mapping notes. Meant for files that passed validation; on others
    the result is whatever could be read.
    """
    standard = standard or load_standard()
    scratch = Report(standard=f"{standard.id} {standard.version}")
    table = read_table(source, FileFormat(file_format))
    frame = _canonical_columns(table.frame)
    frame = _normalise(frame.select([c for c in standard.upload_columns if c in frame.columns]))
    typed, _ = _type_phase(frame, scratch, standard)
    coded = [c for c in frame.columns if c in standard.codelist_columns]
    typed, vocabulary = dictionary_encode(typed, coded)
    typed, _ = _map_variants(typed, vocabulary, coded, scratch, standard, None, standard_version)
    columns = [*standard.dimension_ids, standard.measure]
    status = next((a.id for a in standard.upload_attributes if a.missing_code), None)
    out = typed.select(*columns, *([status] if status and status in typed.columns else []))
    if status and status not in out.columns:
        out = out.with_columns(pl.lit(None, dtype=pl.Utf8).alias(status))
    return out.with_columns(pl.col(c).cast(pl.Utf8) for c in coded), scratch.notes
