"""The pandera schema, generated from the DSD: the standard is typed once, in YAML.

The series key (all dimensions) is packed into one unsigned integer, ``__key``: each dimension
value becomes its position in its code list and the positions are combined in mixed radix. Key
uniqueness and the additivity group-bys then work on one integer column instead of seven
strings, which is what keeps a million-row file within a few reads of the file.
"""

from __future__ import annotations

from collections.abc import Callable

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from standards.model import Dimension, Standard
from standards.validation.report import Rule

ROW = "__row"
KEY = "__key"


def code_column(dim: Dimension) -> str:
    return f"__code_{dim.id}"


def _radices(typed: pl.DataFrame, standard: Standard) -> list[int]:
    """How many distinct codes each dimension can take in this frame."""
    return [len(d.codelist.ids) if d.codelist is not None else max(typed[d.id].n_unique(), 1)
            for d in standard.dimensions]


def key_strides(typed: pl.DataFrame, standard: Standard) -> dict[str, int]:
    """The multiplier of each dimension's code inside ``__key``."""
    strides, stride = {}, 1
    for dim, radix in zip(standard.dimensions, _radices(typed, standard), strict=True):
        strides[dim.id] = stride
        stride *= radix
    if stride >= 2**64:  # pragma: no cover - code lists would have to grow enormously
        raise OverflowError("the series key does not fit 64 bits")
    return strides


def with_key(typed: pl.DataFrame, standard: Standard) -> pl.DataFrame:
    """Add each dimension's integer code (null when not a valid code) and the packed key."""
    codes = []
    for dim in standard.dimensions:
        if dim.codelist is not None:
            as_enum = pl.col(dim.id).cast(pl.Enum(list(dim.codelist.ids)), strict=False)
            code = as_enum.to_physical().cast(pl.UInt64)
        else:
            valid = pl.col(dim.id).str.contains(dim.pattern or ".")
            code = pl.when(valid).then(pl.col(dim.id)).rank("dense").cast(pl.UInt64) - 1
        codes.append(code.alias(code_column(dim)))
    strides = key_strides(typed, standard)
    packed = pl.sum_horizontal(
        pl.col(code_column(d)) * pl.lit(strides[d.id], dtype=pl.UInt64) for d in standard.dimensions
    )
    # sum_horizontal skips nulls; a key exists only when every dimension holds a valid code.
    complete = pl.all_horizontal(pl.col(code_column(d)).is_not_null() for d in standard.dimensions)
    return typed.with_columns(codes).with_columns(pl.when(complete).then(packed).alias(KEY))


def _unique_key(data: PolarsData) -> pl.LazyFrame:
    key = pl.col(data.key)
    return data.lazyframe.select(key.is_null() | ~key.is_duplicated())


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
            checks.append(_check(pa.Check.str_matches, dim.pattern, rule=Rule.PERIOD_FORMAT))
        if declared.get(dim.id):
            checks.append(_check(pa.Check.eq, declared[dim.id], rule=Rule.DECLARED_MATCH))
        columns[dim.id] = pa.Column(pl.Utf8, checks=checks, nullable=False)
    columns[standard.measure] = pa.Column(
        pl.Int64, checks=[_check(pa.Check.ge, 0, rule=Rule.NON_NEGATIVE)], nullable=True
    )
    for attr in standard.upload_attributes:
        columns[attr.id] = pa.Column(
            pl.Utf8,
            checks=[_check(pa.Check.isin, list(attr.codelist.ids), rule=Rule.CODE_LIST)],
            nullable=not attr.required,
            required=attr.required,
        )
    columns[ROW] = pa.Column(pl.Int64)
    columns[KEY] = pa.Column(
        pl.UInt64,
        checks=[pa.Check(_unique_key, name=Rule.DUPLICATE_KEY.value,
                         error=Rule.DUPLICATE_KEY.value)],
        nullable=True,
    )
    return pa.DataFrameSchema(columns, name=f"{standard.id} {standard.version}")
