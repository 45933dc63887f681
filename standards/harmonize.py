"""From a validated file to harmonized rows: standard codes (through the same reading and
mapping as validation) and the ``_T`` totals a table leaves out. Pure: the exchange stores what
these functions return."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from standards.bands import all_derivations
from standards.loader import CURRENT_VERSION, load_standard
from standards.model import Standard
from standards.validation.columns import columns_to_read, upload_of
from standards.validation.limits import DEFAULT_LIMITS, ReadLimits
from standards.validation.reading import FileFormat, read_table
from standards.validation.report import Report
from standards.validation.values import cast_counts
from standards.validation.variants import map_variants


def load_harmonized(source: Path | str, *, file_format: FileFormat | str = FileFormat.AUTO,
                    standard_version: str = CURRENT_VERSION, standard: Standard | None = None,
                    limits: ReadLimits = DEFAULT_LIMITS) -> tuple[pl.DataFrame, list[str]]:
    """The rows of an already validated file in standard codes, through the same reading and
    mapping as validation (defaults filled): dimensions and attributes as text, OBS_VALUE as
    Int64.

    Returns the frame and the mapping notes. Meant for files that passed validation; on others
    the result is whatever could be read.
    """
    standard = standard or load_standard()
    scratch = Report(standard=f"{standard.id} {standard.version}")
    columns, categorical = columns_to_read(standard)
    table = read_table(source, FileFormat(file_format), limits=limits, columns=columns,
                       categorical=categorical)
    upload = upload_of(table.frame, standard)
    upload = cast_counts(upload, scratch, standard)
    upload = map_variants(upload, scratch, standard, None, standard_version)
    def text(column: str) -> pl.Series:
        return upload.coded[column].strings() if column in upload.coded else \
            pl.Series(column, [None] * upload.height, dtype=pl.String)

    out = {d: text(d) for d in standard.dimension_ids}
    value = pl.Series(standard.measure, upload.value)
    out[standard.measure] = pl.select(pl.when(pl.Series(~upload.value_null)).then(value)) \
        .to_series()
    for attribute in standard.attributes:
        out[attribute.id] = text(attribute.id)
    frame = pl.DataFrame({name: series.alias(name) for name, series in out.items()})
    return frame, scratch.notes


def derive_totals(frame: pl.DataFrame, standard: Standard) -> pl.DataFrame:
    """Add the totals a table leaves out where their parts are complete: ``_T`` rows, measure
    and needs hierarchies, and every age band derivable from the file's bands (so states
    reporting UNHCR, Eurostat or base bands meet on the bands they share, and always on
    Y_LT18/Y_GE18/_T).

    Complete means every part code of the breakdown except ``_U`` is present (an absent part
    would make the sum an undercount). Breakdowns are derived in DSD order, finest first, so a
    sex total derived first can feed an age total. Attributes of a derived row: OBS_STATUS and
    UNIT_MEASURE kept where all parts agree, CONF_STATUS C/N when any part has it. Adds a
    boolean ``DERIVED`` column.
    """
    measure = standard.measure
    out = frame.with_columns(pl.lit(False).alias("DERIVED")) if "DERIVED" not in frame.columns \
        else frame
    attributes = [a.id for a in standard.attributes if a.id in out.columns]
    for breakdown in all_derivations(standard):
        dim = breakdown.dimension
        required = [p for p in breakdown.parts if p != "_U"]
        if len(required) > MAX_DERIVED_PARTS:
            continue  # a total over every country is given, never derived
        others = [d for d in standard.dimension_ids if d != dim]
        parts = out.filter(pl.col(dim).is_in(breakdown.parts) & pl.col(measure).is_not_null())
        have_total = out.filter(pl.col(dim) == breakdown.total).select(others)
        sums = (
            parts.group_by(others)
            .agg(pl.col(measure).sum(), pl.col(dim).unique().alias("__parts"),
                 *(_derived_attribute(a) for a in attributes))
            .filter(pl.col("__parts").list.set_intersection(required).list.len() == len(required))
            .join(have_total, on=others, how="anti")
        )
        if sums.is_empty():
            continue
        derived = sums.with_columns(pl.lit(breakdown.total).alias(dim), pl.lit(True)
                                    .alias("DERIVED")).drop("__parts")
        for column in out.columns:
            if column not in derived.columns or derived.schema[column] == pl.Null:
                derived = derived.with_columns(pl.lit(None, dtype=out.schema[column])
                                               .alias(column))
        out = pl.concat([out, derived.select(out.columns).cast(out.schema)])
    return out


# Breakdowns with more parts than this (COUNTERPART_AREA's every country) are never derived.
MAX_DERIVED_PARTS = 40


def _derived_attribute(column: str) -> pl.Expr:
    """A derived row's attribute from its parts': the shared value, or none; for
    CONF_STATUS the sender's flag if any part carries one (it stays unpublishable)."""
    values = pl.col(column).drop_nulls().unique()
    if column == "CONF_STATUS":
        return values.sort().first().alias(column)
    return pl.when(values.len() == 1).then(values.first()).alias(column)
