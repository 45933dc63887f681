"""The upload as the rules see it: every coded column as a small dictionary of its distinct values
plus one integer per row, and OBS_VALUE as integers.

A rule decides on the dictionary (a few hundred strings, even for a million rows) and touches rows
only where the dictionary says something is wrong, so a clean file costs almost nothing beyond
reading it, and pandas or pandera are never needed to check it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import polars as pl

from standards.model import Standard

ROW = "__row"  # the file row of each row, where a frame carries it (header = row 1)
FIRST_DATA_ROW = 2  # row 1 of every accepted format is the header
EMPTY = -1  # entry id of an empty or missing cell


def fresh_categorical() -> pl.Categorical:
    """A categorical dtype with a dictionary of its own: it holds only the values cast to it."""
    return pl.Categorical(pl.Categories.random())


@dataclass(frozen=True)
class Coded:
    """One coded column: ``entries`` are its distinct values, ``ids`` the entry of each row
    (``EMPTY`` for an empty cell). An empty string is never an entry."""

    entries: pl.Series  # String
    ids: np.ndarray  # int32, one per row

    @classmethod
    def from_series(cls, series: pl.Series) -> Coded:
        if not isinstance(series.dtype, pl.Categorical):
            series = series.cast(pl.String)
            series = pl.select(pl.when(series != "").then(series)).to_series() \
                .cast(fresh_categorical())
        assert isinstance(series.dtype, pl.Categorical)
        entries = series.dtype.categories.to_series().cast(pl.String)
        physical = series.to_physical()
        if physical.null_count():
            physical = physical.fill_null(0xFFFFFFFF)  # -1 once seen as int32
        ids = physical.to_numpy().view(np.int32)
        coded = cls(entries=entries, ids=ids)
        empty = (entries == "").to_numpy()
        if empty.any():  # "" in a dictionary (a frame built elsewhere): it means empty
            coded = coded.remap(entries.filter(~empty), np.where(empty, EMPTY,
                                                                 np.cumsum(~empty) - 1))
        return coded

    def __len__(self) -> int:
        return int(self.ids.size)

    def where(self, entry_flags: np.ndarray) -> np.ndarray:
        """Per row: the flag of its entry (False for empty cells)."""
        return np.append(np.asarray(entry_flags, dtype=bool), False)[self.ids]

    def rows_where(self, entry_flags: np.ndarray) -> np.ndarray:
        """Indices of the rows whose entry is flagged, in file order."""
        flags = np.asarray(entry_flags, dtype=bool)
        if not flags.any():
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(self.where(flags))

    def empty(self) -> np.ndarray:
        return self.ids < 0

    def counts(self) -> np.ndarray:
        """Rows per entry (counted once per column: several rules ask)."""
        return self._counts

    @cached_property
    def _counts(self) -> np.ndarray:
        return np.bincount(self.ids + 1, minlength=len(self.entries) + 1)[1:]

    def value(self, row_index: int) -> str | None:
        entry = int(self.ids[row_index])
        return None if entry < 0 else str(self.entries[entry])

    def remap(self, entries: pl.Series, old_to_new: np.ndarray) -> Coded:
        """The same column over a new dictionary; ``old_to_new`` maps old entries to new ones."""
        lookup = np.append(np.asarray(old_to_new, dtype=np.int32), np.int32(EMPTY))
        return Coded(entries=entries, ids=lookup[self.ids])

    def take(self, index: np.ndarray) -> Coded:
        return Coded(entries=self.entries, ids=self.ids[index])

    def strings(self) -> pl.Series:
        """The column as text again (null for empty cells): for the rare slow paths."""
        ids = pl.Series(self.ids, dtype=pl.Int32)
        return self.entries.gather(pl.select(pl.when(ids >= 0).then(ids)).to_series())


@dataclass(frozen=True)
class Upload:
    """The rows of an upload, column by column, as the rules use them."""

    rows: np.ndarray  # file row of each row
    coded: dict[str, Coded]  # coded dimensions, TIME_PERIOD and the attributes present
    raw: pl.Series | None  # OBS_VALUE as written (text), None when the column is missing
    value: np.ndarray  # OBS_VALUE as int64 (0 where it is not a whole number or empty)
    value_null: np.ndarray  # OBS_VALUE empty or not a whole number
    value_empty: np.ndarray  # OBS_VALUE empty (or its field missing)
    bad: np.ndarray  # rows with an error of their own (they spoil their breakdowns)

    @property
    def height(self) -> int:
        return int(self.rows.size)

    def take(self, index: np.ndarray) -> Upload:
        return Upload(rows=self.rows[index],
                      coded={c: v.take(index) for c, v in self.coded.items()},
                      raw=None if self.raw is None else self.raw.gather(index),
                      value=self.value[index], value_null=self.value_null[index],
                      value_empty=self.value_empty[index], bad=self.bad[index])

    def with_(self, **changes: object) -> Upload:
        return replace(self, **changes)  # type: ignore[arg-type]


def coded_columns(standard: Standard) -> tuple[str, ...]:
    """Columns read as categoricals: the code-list columns and the pattern dimensions."""
    patterned = [d.id for d in standard.dimensions if d.codelist is None]
    return (*standard.codelist_columns, *patterned)


def columns_to_read(standard: Standard) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The columns the engine reads (the standard's and DATAFLOW) and those read as
    categoricals. Other columns are reported by name from the header and never parsed."""
    return (*standard.upload_columns, "DATAFLOW"), (*coded_columns(standard), "DATAFLOW")


def upload_of(frame: pl.DataFrame, standard: Standard) -> Upload:
    """Split a read frame (canonical names) into the arrays the rules work on."""
    coded = {c: Coded.from_series(frame[c]) for c in coded_columns(standard)
             if c in frame.columns}
    ordered = {c: coded[c] for c in standard.upload_columns if c in coded}
    raw = frame[standard.measure].cast(pl.String) if standard.measure in frame.columns else None
    height = frame.height
    return Upload(rows=np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + height, dtype=np.int64),
                  coded=ordered, raw=raw, value=np.zeros(height, dtype=np.int64),
                  value_null=np.ones(height, dtype=bool), value_empty=np.ones(height, dtype=bool),
                  bad=np.zeros(height, dtype=bool))


def first_rows(per_column: dict[str, np.ndarray], order: list[str], limit: int
               ) -> list[tuple[int, str]]:
    """The first ``limit`` (row index, column) pairs of several columns' failing rows, in file
    order (row, then column in ``order``)."""
    pairs = [(int(i), order.index(c), c) for c, rows in per_column.items() for i in rows[:limit]]
    pairs.sort()
    return [(i, c) for i, _, c in pairs[:limit]]


def anchored(pattern: str) -> str:
    """A pattern as the schema applies it: it must match from the start of the value."""
    return pattern if pattern.startswith("^") else f"^{pattern}"
