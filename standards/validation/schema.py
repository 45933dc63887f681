"""The pandera schema, generated from the DSD: the standard is typed once, in YAML.

This is the published, shared form of the rules: agencies may import it into their own
pipelines (``typed_frame`` turns a frame of strings into what it validates). The engine itself
evaluates the same checks directly on each column's dictionary of distinct values
(``codes.py``, ``values.py``, ``duplicates.py``), so ``mmx validate`` never imports pandera or
pandas; a test keeps the two in agreement.

Key uniqueness runs on the packed integer series key (``keys.py``) rather than on seven string
columns: same rule, a fraction of the hashing.
"""

from __future__ import annotations

from collections.abc import Callable

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from standards.model import Standard
from standards.validation.columns import ROW, anchored, fresh_categorical, upload_of
from standards.validation.keys import KEY, series_keys
from standards.validation.report import Report, Rule
from standards.validation.variants import fill_defaults


def _unique_key(data: PolarsData) -> pl.LazyFrame:
    """Each series key once. Counting distinct keys first spares the per-row pass when clean."""
    key = pl.col(data.key)
    if data.lazyframe.select(key.n_unique() == key.len()).collect().item():
        return data.lazyframe.select(pl.lit(True))
    return data.lazyframe.select(~key.is_duplicated())


def _check(builder: Callable[..., pa.Check], *args: object, rule: Rule) -> pa.Check:
    """A built-in check whose failure cases carry the report rule's id."""
    return builder(*args, name=rule.value, error=rule.value)


def build_schema(
    standard: Standard, *, country: str | None = None, period: str | None = None
) -> pa.DataFrameSchema:
    """Schema of a typed upload frame. ``country``/``period`` pin REF_AREA and TIME_PERIOD.

    Each check is named after the :class:`Rule` it enforces, so failure cases map straight onto
    report rules.
    """
    declared = {"REF_AREA": country, "TIME_PERIOD": period}
    columns: dict[str, pa.Column] = {}
    for dim in standard.dimensions:
        checks = []
        if dim.codelist is not None:
            checks.append(_check(pa.Check.isin, list(dim.codelist.ids), rule=Rule.CODE_LIST))
        if dim.pattern is not None:
            checks.append(_check(pa.Check.str_matches, anchored(dim.pattern),
                                  rule=Rule.PERIOD_FORMAT))
        if declared.get(dim.id):
            checks.append(_check(pa.Check.eq, declared[dim.id], rule=Rule.DECLARED_MATCH))
        dtype = pl.Categorical if dim.codelist is not None else pl.Utf8
        # A dimension with a default may be left out of a file (the engine fills it).
        columns[dim.id] = pa.Column(dtype, checks=checks, nullable=False,
                                    required=dim.default is None)
    columns[standard.measure] = pa.Column(
        pl.Int64, checks=[_check(pa.Check.ge, 0, rule=Rule.NON_NEGATIVE)], nullable=True
    )
    for attr in standard.upload_attributes:
        # A submitter may send only the ``upload_codes`` of an attribute that has them (C, N).
        allowed = attr.upload_codes if attr.upload_codes is not None else attr.codelist.ids
        columns[attr.id] = pa.Column(
            pl.Categorical,
            checks=[_check(pa.Check.isin, list(allowed), rule=Rule.CODE_LIST)],
            nullable=not attr.required,
            required=attr.required,
        )
    columns[ROW] = pa.Column(pl.Int64)
    columns[KEY] = pa.Column(
        pl.Int64,
        checks=[pa.Check(_unique_key, name=Rule.DUPLICATE_KEY.value,
                         error=Rule.DUPLICATE_KEY.value)],
    )
    return pa.DataFrameSchema(columns, name=f"{standard.id} {standard.version}")


def typed_frame(frame: pl.DataFrame, standard: Standard) -> pl.DataFrame:
    """A frame of strings holding the standard's columns (empty cells as "" or null), typed as
    :func:`build_schema` expects: coded columns categorical, OBS_VALUE Int64 (null where it is
    not a whole number), plus the file row (``__row``) and the series key (``__key``)."""
    present = [c for c in standard.upload_columns if c in frame.columns]
    strings = frame.select(pl.col(c).cast(pl.String) for c in present)
    upload = upload_of(strings, standard)
    scratch = Report(standard=f"{standard.id} {standard.version}")
    keys = series_keys(fill_defaults(upload, scratch, standard), standard)
    coded = {d.id for d in standard.dimensions if d.codelist is not None} | \
        {a.id for a in standard.upload_attributes}
    return strings.with_columns(
        *(pl.when(pl.col(c) != "").then(pl.col(c)).cast(fresh_categorical()).alias(c)
          for c in present if c in coded),
        *(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c)
          for c in present if c not in coded and c != standard.measure),
        pl.col(standard.measure).str.to_integer(strict=False).alias(standard.measure),
        pl.Series(ROW, upload.rows), pl.Series(KEY, keys.key),
    )
