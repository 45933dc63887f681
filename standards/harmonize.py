"""From a validated file to harmonized rows: standard codes (through the same reading and
mapping as validation) and the ``_T`` totals a table leaves out. Pure: the exchange stores what
these functions return."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from standards.loader import CURRENT_VERSION, load_standard
from standards.model import Standard
from standards.validation.keys import dictionary_encode
from standards.validation.reading import FileFormat, read_table
from standards.validation.report import Report
from standards.validation.structure import canonical_columns, normalise
from standards.validation.values import cast_counts
from standards.validation.variants import map_variants


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
    frame = canonical_columns(table.frame)
    frame = normalise(frame.select([c for c in standard.upload_columns if c in frame.columns]))
    typed, _ = cast_counts(frame, scratch, standard)
    coded = [c for c in frame.columns if c in standard.codelist_columns]
    typed, vocabulary = dictionary_encode(typed, coded)
    typed, _ = map_variants(typed, vocabulary, coded, scratch, standard, None, standard_version)
    columns = [*standard.dimension_ids, standard.measure]
    status = next((a.id for a in standard.upload_attributes if a.missing_code), None)
    out = typed.select(*columns, *([status] if status and status in typed.columns else []))
    if status and status not in out.columns:
        out = out.with_columns(pl.lit(None, dtype=pl.Utf8).alias(status))
    return out.with_columns(pl.col(c).cast(pl.Utf8) for c in coded), scratch.notes


def derive_totals(frame: pl.DataFrame, standard: Standard) -> pl.DataFrame:
    """Add the ``_T`` rows a table leaves out where their parts are complete.

    Complete means every part code of the breakdown except ``_U`` is present (an absent part
    would make the sum an undercount). Breakdowns are derived in DSD order, so a sex total
    derived first can feed an age total. Adds a boolean ``DERIVED`` column.
    """
    measure = standard.measure
    out = frame.with_columns(pl.lit(False).alias("DERIVED")) if "DERIVED" not in frame.columns \
        else frame
    for breakdown in standard.additive_breakdowns:
        dim = breakdown.dimension
        required = [p for p in breakdown.parts if p != "_U"]
        others = [d for d in standard.dimension_ids if d != dim]
        parts = out.filter(pl.col(dim).is_in(breakdown.parts) & pl.col(measure).is_not_null())
        have_total = out.filter(pl.col(dim) == breakdown.total).select(others)
        sums = (
            parts.group_by(others)
            .agg(pl.col(measure).sum(), pl.col(dim).unique().alias("__parts"))
            .filter(pl.col("__parts").list.set_intersection(required).list.len() == len(required))
            .join(have_total, on=others, how="anti")
        )
        if sums.is_empty():
            continue
        derived = sums.with_columns(pl.lit(breakdown.total).alias(dim), pl.lit(True)
                                    .alias("DERIVED")).drop("__parts")
        for column in out.columns:
            if column not in derived.columns:
                derived = derived.with_columns(pl.lit(None, dtype=out.schema[column])
                                               .alias(column))
        out = pl.concat([out, derived.select(out.columns).cast(out.schema)])
    return out
