"""What every data writer (SDMX-ML, SDMX-CSV, SDMX-JSON, plain CSV and JSON) is given: the query
that was answered and its rows, and how the rows fold into series.

A row is a tuple in the structure's component order: every dimension (TIME_PERIOD last), then
OBS_VALUE, then the attributes. A suppressed cell has OBS_VALUE None and its CONF_STATUS; an
attribute the source does not hold is None. Rows arrive sorted by the series dimensions, then
the observation dimension(s), so series are consecutive runs and writers stream them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import groupby, islice
from operator import itemgetter
from typing import Any, Protocol, runtime_checkable

import polars as pl

from standards.sdmx.catalogue import Dataflow, DataStructure
from standards.sdmx.data_query import ALL_DIMENSIONS, DataQuery, Detail

Row = tuple[Any, ...]
# Writers hand out text in pieces of about this many characters.
CHUNK_CHARS = 1 << 16


@runtime_checkable
class Framed(Protocol):
    """Rows a source can also hand out as polars frames (columns named by component id), so
    the columnar writer need not build them from tuples."""

    def frames(self) -> Iterator[pl.DataFrame]: ...


@dataclass(frozen=True)
class DataSet:
    query: DataQuery
    rows: Iterable[Row]
    language: str = "en"
    # When the data became what it is (the release's publication), for the data set's validFrom.
    valid_from: datetime | None = None

    @property
    def flow(self) -> Dataflow:
        return self.query.flow

    @property
    def structure(self) -> DataStructure:
        return self.query.flow.structure

    @property
    def detail(self) -> Detail:
        return self.query.detail

    @cached_property
    def layout(self) -> Layout:
        return Layout.of(self.structure, self.query.dimension_at_observation)

    def frames(self, size: int) -> Iterator[pl.DataFrame]:
        """The rows as frames of text columns in component order: as the source reads them
        when it can (``Framed``), else ``size`` rows at a time."""
        ids = [c.id for c in self.structure.components]
        if isinstance(self.rows, Framed):
            for frame in self.rows.frames():
                yield frame.select(pl.col(i).cast(pl.String) for i in ids)
            return
        rows = iter(self.rows)
        while batch := list(islice(rows, size)):
            yield pl.DataFrame({name: pl.Series(name, column, dtype=pl.String, strict=False)
                                for name, column in zip(ids, zip(*batch, strict=True),
                                                        strict=True)})

    @property
    def structure_id(self) -> str:
        """The header's ``structureID``: the flow, in SDMX's usual ``AG_ID_VERSION`` form."""
        f = self.flow
        return f"{f.agency}_{f.id}_{f.version}".replace(".", "_")


@dataclass(frozen=True)
class Layout:
    """Positions in a row: the series dimensions, the observation-level dimension(s), the
    value and the attributes."""

    dimensions: tuple[str, ...]
    series: tuple[int, ...]
    observation: tuple[int, ...]
    value: int
    attributes: tuple[int, ...]
    attribute_ids: tuple[str, ...]
    at_observation: str

    @classmethod
    def of(cls, structure: DataStructure, at_observation: str) -> Layout:
        dims = tuple(d.id for d in structure.dimensions)
        if at_observation == ALL_DIMENSIONS:
            series: tuple[int, ...] = ()
            obs = tuple(range(len(dims)))
        else:
            obs = (dims.index(at_observation),)
            series = tuple(i for i in range(len(dims)) if i != obs[0])
        value = len(dims)
        attrs = tuple(range(value + 1, value + 1 + len(structure.attributes)))
        return cls(dimensions=dims, series=series, observation=obs, value=value,
                   attributes=attrs, attribute_ids=tuple(a.id for a in structure.attributes),
                   at_observation=at_observation)

    @property
    def flat(self) -> bool:
        return not self.series

    def series_runs(self, rows: Iterable[Row]) -> Iterator[tuple[Row, Iterator[Row]]]:
        """(series key values, its rows) for each consecutive run of one series."""
        key = itemgetter(*self.series) if len(self.series) > 1 else (
            (lambda r: (r[self.series[0]],)) if self.series else (lambda r: ()))
        return groupby(rows, key=key)  # type: ignore[arg-type]


def chunked(pieces: Iterable[str], size: int = CHUNK_CHARS) -> Iterator[str]:
    """Join small pieces of text into chunks of about ``size`` characters."""
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)
