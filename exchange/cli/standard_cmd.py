"""``mmx standard`` and ``mmx example``: browse the standard and see a correct submission."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from standards.validation.formats import FileFormat

app = typer.Typer(help="Browse the data standard: dimensions, code lists, regions.",
                  no_args_is_help=True)
Lang = Annotated[str, typer.Option(help="Label language: en, ru or fr.")]


@app.command("show")
def show(
    codelist: Annotated[str | None, typer.Argument(
        help="A code list (CL_SEX) or dimension (SEX), or REGIONS; omit for the overview.")] = None,
    lang: Lang = "en",
) -> None:
    """Show the DSD, one code list with labels and sources, or the regions."""
    from standards import load_standard

    standard = load_standard()
    console = Console()
    if codelist is None:
        table = Table(title=f"{standard.urn}: {standard.name.get(lang, standard.name['en'])}")
        for col in ("position", "concept", "name", "code list / format", "codes"):
            table.add_column(col)
        for d in standard.dimensions:
            optional = "" if d.default is None else (
                f" (optional; default {d.default.default})" if d.default.default else
                f" (optional; default from {d.default.source})")
            table.add_row(str(d.position + 1), d.id, d.name.get(lang, d.name["en"]) + optional,
                          d.codelist.id if d.codelist else f"pattern {d.pattern}",
                          str(len(d.codelist.codes)) if d.codelist else "")
        table.add_row("", standard.measure, "count (non-negative integer)", "", "")
        for a in standard.attributes:
            note = f" (upload: {', '.join(a.upload_codes)})" if a.upload_codes else ""
            table.add_row("", a.id, a.name.get(lang, a.name["en"]) + note, a.codelist.id,
                          str(len(a.codelist.codes)))
        console.print(table)
        console.print("Regions: " + ", ".join(standard.regions) + " (`mmx standard show REGIONS`)")
        return
    key = codelist.upper()
    if key == "REGIONS":
        table = Table(title="Regions")
        for col in ("region", "name", "members", "sub-regions"):
            table.add_column(col, overflow="fold")
        for r in standard.regions.values():
            table.add_row(r.id, r.name.get(lang, r.name["en"]), " ".join(r.members),
                          " ".join(r.subregions))
        console.print(table)
        return
    found = standard.codelists.get(key)
    if found is None and key in standard.dimension:
        found = standard.dimension[key].codelist
    if found is None and key in standard.attribute:
        found = standard.attribute[key].codelist
    if found is None:
        names = ", ".join([*standard.codelists, *standard.dimension_ids, "REGIONS"])
        typer.echo(f"Unknown code list or dimension {codelist!r}. Known: {names}", err=True)
        raise typer.Exit(2)
    table = Table(title=f"{found.id} {found.version}: {found.label(lang)}")
    for col in ("code", "label", "properties", "source"):
        table.add_column(col, overflow="fold")
    for c in found.codes:
        props = " ".join(f"{k}={v}" for k, v in c.properties.items())
        source = "; ".join(f"{s.file}:{s.line}" if s.line else s.file for s in c.source)
        table.add_row(c.id, c.label(lang), props, source)
    console.print(table)


def example(
    country: Annotated[str, typer.Option(help="Reporting state, ISO alpha-3.")] = "KAZ",
    period: Annotated[str, typer.Option(help="Quarter YYYY-Qn, or week YYYY-Www.")] = "2026-Q3",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="File to write; default prints to standard output.")] = None,
    file_format: Annotated[FileFormat, typer.Option(
        "--format", help="csv or sdmx-csv.")] = FileFormat.CSV,
    citizenships: Annotated[int | None, typer.Option(
        min=1, max=300, help="Countries of origin to include (default: the region's usual).")]
        = None,
    all_measures: Annotated[bool, typer.Option(
        help="Every measure for every group (large files for load tests).")] = False,
    bands: Annotated[str, typer.Option(
        help="Age bands: unhcr (0-4, 5-11, 12-17, 18-59, 60+), eurostat (<14, 14-17, 18-34, "
        "35-64, 65+), base (both nest into it) or coarse (under 18 / 18+).")] = "unhcr",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same file.")]
        = 2026,
    measure: Annotated[list[str] | None, typer.Option(
        help="Only the rows of this measure (repeatable): a small file, e.g. for a first "
        "release in a few seconds.")] = None,
) -> None:
    """Write a valid example submission (a quarter, or a week of the emergency series)."""
    from standards import load_standard
    from standards.example import example_frame, with_dataflow

    standard = load_standard()
    country = country.upper()
    if country not in standard.codelists["CL_AREA"]:
        typer.echo(f"Unknown country {country!r}: use an ISO 3166-1 alpha-3 code.", err=True)
        raise typer.Exit(2)
    if not re.fullmatch(standard.dimension["TIME_PERIOD"].pattern or "", period):
        typer.echo(f"Bad period {period!r}: write YYYY-Qn (e.g. 2026-Q3) or YYYY-Www.",
                   err=True)
        raise typer.Exit(2)
    if bands not in ("unhcr", "eurostat", "base", "coarse"):
        typer.echo(f"Unknown bands {bands!r}: unhcr, eurostat, base or coarse.", err=True)
        raise typer.Exit(2)
    if file_format not in (FileFormat.CSV, FileFormat.SDMX_CSV):
        typer.echo("mmx example writes csv or sdmx-csv.", err=True)
        raise typer.Exit(2)
    measures = [m.upper() for m in measure or ()]
    unknown = [m for m in measures if m not in standard.codelists["CL_MEASURE"]]
    if unknown:
        typer.echo(f"Unknown measure {unknown[0]!r}: see `mmx standard show MEASURE`.",
                   err=True)
        raise typer.Exit(2)
    frame = example_frame(standard, country, period, citizenships=citizenships,
                          all_measures=all_measures, bands=bands, seed=seed)
    if measures:
        frame = frame.filter(pl.col("MEASURE").is_in(measures))
    if file_format == FileFormat.SDMX_CSV:
        frame = with_dataflow(frame, standard)
    if output is None:
        typer.echo(frame.write_csv(), nl=False)
        return
    frame.write_csv(output)
    typer.echo(f"Wrote {frame.height:,} rows for {country} {period} to {output}", err=True)
