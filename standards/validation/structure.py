"""Rule family "structure": the columns of the file, the SDMX-CSV dataflow, ragged rows.

Also the two steps every later rule relies on: canonical column names and the ``__row`` column
holding each row's line in the file.
"""

from __future__ import annotations

import difflib

import polars as pl

from standards.mappings import known_versions
from standards.model import Standard
from standards.validation.privacy import identifier_kind
from standards.validation.reading import FileFormat, Table
from standards.validation.report import Issue, Report, Rule, quote
from standards.validation.schema import ROW

FIRST_DATA_ROW = 2  # row 1 of every accepted format is the header


def canonical_columns(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.rename({c: c.strip().upper() for c in frame.columns if c != c.strip().upper()})


def check_dataflow(frame: pl.DataFrame, report: Report, standard: Standard) -> pl.DataFrame:
    values = frame.with_row_index(ROW, offset=FIRST_DATA_ROW).select(
        ROW, pl.col("DATAFLOW").str.strip_chars()
    )
    known = [f"{standard.agency}:{standard.id}({v})" for v in known_versions()]
    ok = pl.col("DATAFLOW").is_in(known)
    bad = values.filter(~ok | pl.col("DATAFLOW").is_null())
    report.add_counted(
        Rule.DATAFLOW,
        [
            Issue(Rule.DATAFLOW, f"DATAFLOW must name this structure and a known version, "
                  f"e.g. {standard.urn}", row=r, column="DATAFLOW",
                  value=quote(v), hint=standard.urn)
            for r, v in bad.head(report.max_per_rule).iter_rows()
        ],
        bad.height,
    )
    return frame.drop("DATAFLOW")


def check_structure(frame: pl.DataFrame, table: Table, report: Report, standard: Standard) -> bool:
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


def normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """Empty and missing cells become null; the file row number goes into ``__row``.

    Cells are not trimmed (that costs a third of a read): a padded code fails its code list with
    a hint to remove the spaces.
    """
    return frame.with_row_index(ROW, offset=FIRST_DATA_ROW).with_columns(
        pl.col(ROW).cast(pl.Int64),
        *(pl.when(pl.col(c).str.len_bytes() == 0).then(None).otherwise(pl.col(c)).alias(c)
          for c in frame.columns),
    )


def check_ragged(table: Table, report: Report) -> None:
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
