"""Rule family "structure": the columns of the file, the SDMX-CSV dataflow, ragged rows."""

from __future__ import annotations

import difflib

import numpy as np

from standards.mappings import known_versions
from standards.model import Standard
from standards.validation.columns import FIRST_DATA_ROW, Coded
from standards.validation.privacy import identifier_kind
from standards.validation.reading import FileFormat, Table, canonical
from standards.validation.report import Issue, Report, Rule, quote

__all__ = ["FIRST_DATA_ROW", "check_dataflow", "check_ragged", "check_structure"]


def check_dataflow(dataflow: Coded, report: Report, standard: Standard) -> None:
    """Every row of an SDMX-CSV file names this exchange's dataflow in a known version."""
    known = [f"{standard.agency}:{standard.id}({v})" for v in known_versions()]
    ok = dataflow.entries.str.strip_chars().is_in(known).to_numpy()
    bad = np.flatnonzero(dataflow.empty() | dataflow.where(~ok))
    report.add_counted(
        Rule.DATAFLOW,
        [
            Issue(Rule.DATAFLOW, f"DATAFLOW must name this structure and a known version, "
                  f"e.g. {standard.urn}", row=FIRST_DATA_ROW + int(i), column="DATAFLOW",
                  value=quote(v.strip() if v is not None else None), hint=standard.urn)
            for i in bad[: report.max_per_rule].tolist() for v in [dataflow.value(i)]
        ],
        int(bad.size),
    )


def check_structure(table: Table, report: Report, standard: Standard) -> bool:
    """Columns: refuse identifiers, report unknown/missing/duplicated ones. False = cannot go on."""
    expected = set(standard.upload_columns)
    headers = [canonical(h) for h in table.header]
    if table.file_format == FileFormat.SDMX_CSV:
        headers = headers[1:]
    for position, name in enumerate(headers, start=1):
        if headers.index(name) != position - 1:
            report.add(Issue(Rule.STRUCTURE, f"Column {name} appears more than once.", row=1,
                             column=name, hint="Keep one column per dimension."))
    seen: set[str] = set()
    for name in headers:
        if name in expected or name in seen:
            continue
        seen.add(name)
        kind = identifier_kind(name, standard)
        if kind is not None:
            report.add(Issue(
                Rule.INDIVIDUAL_DATA,
                f"Column '{name}' looks like a personal identifier ({kind}). Files with "
                "individual-level data are refused.",
                row=1, column=name,
                hint="Remove the column and upload aggregate counts only.",
            ))
            continue
        near = difflib.get_close_matches(name, list(expected), n=1, cutoff=0.6)
        report.add(Issue(Rule.STRUCTURE, f"Unexpected column '{name}'.", row=1,
                         column=name, hint=f"Did you mean {near[0]}?" if near else
                         f"Allowed columns: {', '.join(standard.upload_columns)}."))
    present = set(headers)
    required = list(standard.required_columns)
    missing = [c for c in required if c not in present]
    for name in missing:
        report.add(Issue(Rule.STRUCTURE, f"Required column {name} is missing.", row=1,
                         column=name, hint=f"The header must hold {', '.join(required)}."))
    present_dims = [d for d in standard.dimension_ids if d in present]
    if standard.measure not in present and len(present_dims) >= 2:
        report.add(Issue(
            Rule.INDIVIDUAL_DATA,
            f"There is no {standard.measure} count column: the table looks like one row per "
            "person. Individual-level data is refused.",
            row=1, column=standard.measure,
            hint="Count persons per combination of dimension values and upload the counts.",
        ))
    return not missing


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
