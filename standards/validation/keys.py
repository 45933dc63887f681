"""Series keys as integers: what makes key uniqueness and additivity cheap on a million rows.

Each dimension value becomes a dense integer (its rank among the values the file actually uses),
and the dense codes are packed into one ``int64`` per row in mixed radix. Rows whose dimensions
are not all valid get a distinct negative key, so they never collide with anything. With keys
that small, grouping is ``numpy.bincount`` over a dense range instead of hashing seven strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from standards.model import Standard

KEY = "__key"
# Largest key range grouped by direct indexing (an int64 array of this many entries is 128 MiB);
# sparser files are grouped through ``numpy.unique`` instead.
DENSE_LIMIT = 1 << 24


@dataclass(frozen=True)
class SeriesKeys:
    """Dense codes per dimension (-1 where invalid), their radices and the packed key."""

    codes: dict[str, np.ndarray]
    radix: dict[str, int]
    stride: dict[str, int]
    positions: dict[str, dict[str, int]]  # code -> dense id, for the codes present
    key: np.ndarray
    valid: np.ndarray

    def without(self, *dimensions: str) -> np.ndarray:
        """The key of every row with ``dimensions`` taken out: rows of one breakdown share it."""
        key = self.key
        for dim in dimensions:
            key = key - self.codes[dim] * self.stride[dim]
        return key


def dictionary_encode(frame: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, pl.Series]:
    """Cast coded columns to one fresh categorical dictionary; return it as a Series.

    Every later check on these columns looks at the few distinct strings of the dictionary
    instead of a million cells. A fresh dictionary per file keeps a long-running server from
    accumulating every string it has ever seen.
    """
    categories = pl.Categories.random()
    dtype = pl.Categorical(categories)
    encoded = frame.with_columns(pl.col(c).cast(dtype) for c in columns)
    return encoded, categories.to_series()


def _lookup(vocabulary: pl.Series, codes: list[str]) -> np.ndarray:
    """For each dictionary entry, its position in ``codes`` or -1."""
    if not codes:
        return np.full(vocabulary.len(), -1, dtype=np.int64)
    cast = vocabulary.cast(pl.Enum(codes), strict=False).to_physical()
    return cast.cast(pl.Int64).fill_null(-1).to_numpy()


def _dense(raw_of_entry: np.ndarray, entry_of_row: np.ndarray, allowed: list[str]
           ) -> tuple[np.ndarray, int, dict[str, int]]:
    """Dense codes per row from a per-entry lookup: all remapping happens on the small side.

    ``raw_of_entry`` maps each dictionary entry to its position in ``allowed`` (or -1);
    ``entry_of_row`` maps each row to its dictionary entry (or -1 for an empty cell).
    """
    if not allowed:
        return np.full(entry_of_row.size, -1, dtype=np.int64), 1, {}
    used = np.bincount(entry_of_row + 1, minlength=raw_of_entry.size + 1)[1:] > 0
    present = np.zeros(len(allowed), dtype=bool)
    present[raw_of_entry[used & (raw_of_entry >= 0)]] = True
    dense_of_code = np.cumsum(present) - 1
    dense_of_entry = np.where(raw_of_entry >= 0, dense_of_code[np.maximum(raw_of_entry, 0)], -1)
    codes = np.append(dense_of_entry, -1)[entry_of_row]  # entry -1 picks the appended -1
    positions = {c: int(dense_of_code[i]) for i, c in enumerate(allowed) if present[i]}
    return codes, max(int(present.sum()), 1), positions


def series_keys(frame: pl.DataFrame, vocabulary: pl.Series, standard: Standard) -> SeriesKeys:
    """Integer keys of a frame whose coded dimensions are dictionary-encoded (see above)."""
    coded = [d.id for d in standard.dimensions if d.codelist is not None]
    physical = frame.select(pl.col(c).to_physical().cast(pl.Int64).fill_null(-1) for c in coded)
    codes: dict[str, np.ndarray] = {}
    radix: dict[str, int] = {}
    positions: dict[str, dict[str, int]] = {}
    for dim in standard.dimensions:
        if dim.codelist is not None:
            allowed = list(dim.codelist.ids)
            entries, rows = vocabulary, physical[dim.id].to_numpy()
        else:  # a pattern dimension (TIME_PERIOD), kept as text: its codes are its valid values
            entries = frame[dim.id].drop_nulls().unique()
            allowed = entries.filter(entries.str.contains(dim.pattern or ".")).sort().to_list()
            rows = _lookup(frame[dim.id], entries.to_list())
        codes[dim.id], radix[dim.id], positions[dim.id] = _dense(
            _lookup(entries, allowed), rows, allowed)
    stride, size = {}, 1
    for dim in standard.dimensions:
        stride[dim.id] = size
        size *= radix[dim.id]
    if size >= 2**62:  # pragma: no cover - would need millions of distinct values per dimension
        raise OverflowError("the series key does not fit 62 bits")
    valid = np.logical_and.reduce([c >= 0 for c in codes.values()])
    packed = sum(codes[d] * stride[d] for d in codes)
    key = np.where(valid, packed, -np.arange(1, frame.height + 1))
    return SeriesKeys(codes=codes, radix=radix, stride=stride, positions=positions,
                      key=key, valid=valid)


def group_ids(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Map non-negative keys onto ``0..n-1`` group ids (directly when the range is small)."""
    if values.size == 0:
        return values, 0
    top = int(values.max()) + 1
    if top <= DENSE_LIMIT:
        return values, top
    unique, inverse = np.unique(values, return_inverse=True)
    return inverse, unique.size
