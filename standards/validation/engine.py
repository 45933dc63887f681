"""The validation engine: the one implementation behind ``mmx validate`` and the server.

It reads the file, then runs the rule families in order (structure, values, codes and keys,
individual-level data, additivity), each in its own module. Coded columns are read as
categoricals and every check of their values is decided once per distinct value, on the column's
dictionary; rows are touched in numpy only where a value fails. Every rule keeps exact counts but
only a capped number of examples, so a file where every row is wrong is about as fast as a clean
one. Nothing here imports pandas or pandera: the published pandera schema (``schema.py``) states
the same rules for agencies that want them in their own pipelines.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from standards.bands import breakdowns_for
from standards.loader import CURRENT_VERSION, load_standard
from standards.mappings import Mappings
from standards.model import Standard
from standards.validation.additivity import Cells, check_breakdowns
from standards.validation.codes import check_codes
from standards.validation.columns import Coded, Upload, columns_to_read, upload_of
from standards.validation.combinations import check_combinations, check_rounding
from standards.validation.duplicates import check_duplicates
from standards.validation.keys import SeriesKeys, series_keys
from standards.validation.limits import DEFAULT_LIMITS, ReadLimits
from standards.validation.privacy import check_microdata
from standards.validation.reading import FileFormat, Table, UnusableInput, read_table
from standards.validation.report import Issue, Report, Rule
from standards.validation.structure import check_dataflow, check_ragged, check_structure
from standards.validation.subsets import check_subsets
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
    rounding: int = 0,
) -> Report:
    """Validate a file (path or uploaded bytes) against the standard; never raises on bad input.

    National variants and codes of an older ``standard_version`` are first mapped to the current
    code lists by the mapping tables; the report's notes say what was mapped. ``limits`` bound
    what is read (a file beyond them is reported as unusable input). ``rounding``: the base the
    submitter declares its figures rounded to (0: not rounded).
    """
    standard = standard or load_standard()
    report = Report(standard=f"{standard.id} {standard.version}", max_per_rule=max_per_rule)
    step = progress or (lambda _msg: None)
    step("Reading the file")
    columns, categorical = columns_to_read(standard)
    try:
        table = read_table(source, FileFormat(file_format), limits=limits, columns=columns,
                           categorical=categorical)
    except UnusableInput as exc:
        report.add(Issue(rule=Rule.UNUSABLE, message=exc.message, hint=exc.hint, row=exc.row,
                         column=exc.column))
        return report
    report.file_format = table.file_format.value
    report.rows = table.frame.height
    return validate_table(table, report, standard, country=country, period=period, progress=step,
                          standard_version=standard_version, mappings=mappings,
                          rounding=rounding)


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
    rounding: int = 0,
) -> Report:
    """Run every rule on a table read with ``columns_to_read(standard)``."""
    progress("Checking the structure")
    if table.file_format == FileFormat.SDMX_CSV and "DATAFLOW" in table.frame.columns:
        check_dataflow(Coded.from_series(table.frame["DATAFLOW"]), report, standard)
    if not check_structure(table, report, standard):
        return report
    check_ragged(table, report)

    progress("Checking types and values")
    upload = upload_of(table.frame, standard)
    upload = cast_counts(upload, report, standard)
    check_missing_values(upload, report, standard)
    upload = map_variants(upload, report, standard, mappings, standard_version)

    progress("Checking codes, periods and keys")
    upload = check_codes(upload, report, standard, country, period)
    keys = series_keys(upload, standard)
    upload = check_duplicates(upload, keys, report, standard)
    upload = check_combinations(upload, report, standard)
    check_rounding(upload, report, standard, rounding)

    progress("Looking for individual-level data")
    check_microdata(upload, keys, report, standard)

    progress("Checking that breakdowns add up")
    if not keys.valid.all():
        report.notes.append(
            "Additivity was not checked: some rows have invalid or empty dimension values, so "
            "their breakdowns cannot be assembled. Fix those first."
        )
        return report
    if rounding > 1:
        report.notes.append(f"Figures declared rounded to {rounding}: breakdowns may differ from "
                            f"their totals by up to (parts + 1) x {rounding} / 2.")
    _check_breakdowns(upload, keys, report, standard, rounding)
    return report


def _check_breakdowns(upload: Upload, keys: SeriesKeys, report: Report,
                      standard: Standard, rounding: int) -> None:
    cells = Cells(values=upload.value, rows=upload.rows, unusable=upload.bad | upload.value_null)
    used = {dim: set(positions) for dim, positions in keys.positions.items()}
    breakdowns, mixed = breakdowns_for(standard, used)
    for dim, bands in mixed.items():
        report.add(Issue(
            Rule.AGE_BANDS,
            f"{dim} mixes band systems: {', '.join(bands)} do not belong with the file's other "
            "bands, so its breakdowns cannot be checked.",
            column=dim, value=bands[0],
            hint="Use one system: base (0-4, 5-11, 12-13, 14-17, 18-34, 35-59, 60-64, 65+), "
                 "UNHCR (0-4, 5-11, 12-17, 18-59, 60+) or Eurostat (<14, 14-17, 18-34, 35-64, "
                 "65+), with _U and _T; Y_LT18 and Y_GE18 go with any."))
    check_breakdowns(keys, cells, report, standard, breakdowns, rounding=rounding)
    check_subsets(keys, cells, report, standard, rounding=rounding)
