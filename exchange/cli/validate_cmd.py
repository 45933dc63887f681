"""``mmx validate``: the offline check national agencies run before they submit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from standards.validation.formats import FileFormat

if TYPE_CHECKING:
    from standards.validation.report import Report

MAX_SHOWN = 50


def render_report(report: Report, console: Console, source: str) -> None:
    """Human output: a verdict line, a per-rule summary and the first issues as a table."""
    if report.valid:
        console.print(f"[bold green]VALID[/] {source}: {report.rows:,} rows conform to "
                      f"{report.standard}.")
        return
    verdict = "UNUSABLE" if not report.usable else "INVALID"
    console.print(f"[bold red]{verdict}[/] {source}: {report.error_count:,} problem(s) in "
                  f"{report.rows:,} rows ({report.standard}).")
    summary = Table(title="Problems by rule", show_lines=False)
    summary.add_column("rule")
    summary.add_column("count", justify="right")
    summary.add_column("what it checks")
    for s in report.summary():
        summary.add_row(s.rule.value, f"{s.count:,}", s.description)
    console.print(summary)
    issues = report.sorted_issues()
    table = Table(title=f"First {min(MAX_SHOWN, len(issues))} problems")
    for col in ("row", "column", "rule", "value", "message", "hint"):
        table.add_column(col, overflow="fold")
    for i in issues[:MAX_SHOWN]:
        table.add_row(str(i.row or ""), i.column or "", i.rule.value, i.value or "", i.message,
                      i.hint or "")
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]Note:[/] {note}")
    if report.error_count > MAX_SHOWN:
        console.print(f"… {report.error_count - MAX_SHOWN:,} more; `--json` gives every kept "
                      "example and the exact counts.")


def validate(
    file: Annotated[Path, typer.Argument(help="CSV, SDMX-CSV or XLSX file to check.")],
    country: Annotated[str | None, typer.Option(
        help="Declared reporting state (ISO alpha-3); every REF_AREA must match it.")] = None,
    period: Annotated[str | None, typer.Option(
        help="Declared period (quarter YYYY-Qn or emergency week YYYY-Www); every "
        "TIME_PERIOD must match it.")] = None,
    file_format: Annotated[FileFormat, typer.Option(
        "--format", help="Input format; auto looks at the file.")] = FileFormat.AUTO,
    standard_version: Annotated[str | None, typer.Option(
        help="Version of the standard the file follows (default: the current one); older "
        "versions are mapped forward.")] = None,
    rounding: Annotated[int, typer.Option(
        min=0, max=1000, help="The base the figures are rounded to (e.g. 5); breakdowns are "
        "then checked within the rounding tolerance. 0: not rounded.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    max_per_rule: Annotated[int, typer.Option(
        min=1, max=100_000, help="Examples kept per rule (counts stay exact).")] = 100,
) -> None:
    """Check a file against the standard. Exit code 0 valid, 1 invalid, 2 unusable input."""
    from standards.loader import CURRENT_VERSION
    from standards.validation.engine import validate_file

    standard_version = standard_version or CURRENT_VERSION

    err = Console(stderr=True)
    if as_json or not err.is_terminal:
        report = validate_file(file, country=country, period=period, file_format=file_format,
                               max_per_rule=max_per_rule, standard_version=standard_version,
                               rounding=rounding)
    else:
        with err.status("Validating…") as status:
            report = validate_file(file, country=country, period=period,
                                   file_format=file_format, max_per_rule=max_per_rule,
                                   standard_version=standard_version, rounding=rounding,
                                   progress=lambda msg: status.update(f"{msg}…"))
    if as_json:
        typer.echo(json.dumps({"file": str(file), **report.as_dict()}, ensure_ascii=False,
                              indent=2))
    else:
        render_report(report, Console(), str(file))
    raise typer.Exit(report.exit_code)
