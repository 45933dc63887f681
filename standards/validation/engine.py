"""The validation engine: the one implementation behind ``mmx validate`` and the server.

It reads the file, then runs the rule families in order (structure, values, codes and keys,
individual-level data, additivity), each in its own module. Work is vectorised in polars and
numpy from end to end; every rule keeps exact counts but only a capped number of examples, so a
file where every row is wrong is about as fast as a clean one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from standards.loader import CURRENT_VERSION, load_standard
from standards.mappings import Mappings
from standards.model import Standard
from standards.validation.additivity import Cells, check_additivity
from standards.validation.codes import check_schema
from standards.validation.keys import KEY, dictionary_encode, series_keys
from standards.validation.limits import DEFAULT_LIMITS, ReadLimits
from standards.validation.privacy import check_microdata
from standards.validation.reading import FileFormat, Table, UnusableInput, read_table
from standards.validation.report import Issue, Report, Rule
from standards.validation.schema import ROW
from standards.validation.structure import (
    canonical_columns,
    check_dataflow,
    check_ragged,
    check_structure,
    normalise,
)
from standards.validation.values import cast_counts, check_missing_values
from standards.validation.variants import map_variants

Progress = Callable[[str], None]


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
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Report:
    """Validate a file (path or uploaded bytes) against the standard; never raises on bad input.

    National variants and codes of an older ``standard_version`` are first mapped to the current
    code lists by the mapping tables; the report's notes say what was mapped. ``limits`` bound
    what is read (a file beyond them is reported as unusable input).
    """
    standard = standard or load_standard()
    report = Report(standard=f"{standard.id} {standard.version}", max_per_rule=max_per_rule)
    step = progress or (lambda _msg: None)
    step("Reading the file")
    try:
        table = read_table(source, FileFormat(file_format), limits=limits)
    except UnusableInput as exc:
        report.add(Issue(rule=Rule.UNUSABLE, message=exc.message, hint=exc.hint, row=exc.row,
                         column=exc.column))
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
    frame = canonical_columns(table.frame)
    if table.file_format == FileFormat.SDMX_CSV:
        frame = check_dataflow(frame, report, standard)
    if not check_structure(frame, table, report, standard):
        return report
    frame = normalise(frame.select([c for c in standard.upload_columns if c in frame.columns]))
    check_ragged(table, report)

    progress("Checking types and values")
    typed, bad_rows = cast_counts(frame, report, standard)
    check_missing_values(frame, report, standard)
    coded = [c for c in frame.columns if c in standard.codelist_columns]
    typed, vocabulary = dictionary_encode(typed, coded)
    typed, vocabulary = map_variants(typed, vocabulary, coded, report, standard, mappings,
                                      standard_version)
    keys = series_keys(typed, vocabulary, standard)
    typed = typed.with_columns(pl.Series(KEY, keys.key))
    progress("Checking codes, periods and keys")
    bad_rows |= check_schema(typed, report, standard, country, period)
    progress("Looking for individual-level data")
    if frame.height != typed.height:  # nested bands were summed: keep the rows that remain
        frame = frame.join(typed.select(ROW), on=ROW, how="semi")
    check_microdata(frame, typed, keys, report, standard)
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
        check_additivity(typed, keys, cells, breakdown, report, standard)
    return report
