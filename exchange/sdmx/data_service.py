"""The data behind ``/sdmx/data`` and ``/sdmx/availableconstraint``: which vintage a caller
reads, and the SQL that reads it.

Each dataflow's rows come from a *reader* chosen by the flow (or its structure) in ``READERS``:
one entry plugs a new source in (the indicators' flow adds its own). A reader turns the
caller and the query into a :class:`Source` — a table or subquery with an expression per
component of the structure, the conditions of the vintage and scope, and what the answer is
made of (release ids) — and the rest is shared: the query's key and periods become SQL
conditions, first/last N a window, series order an ORDER BY, and rows are streamed from a
server-side cursor. Nothing is filtered in Python.

Who sees what (``exchange.auth.policy``):

- released data (default): per period, the latest published release whose embargo has ended;
  callers holding ``SEE_EMBARGOED`` (analysts, admins) also see embargoed ones. ``asOf`` reads
  the releases as they were public at that time, ``release=<id>`` one release. Suppressed cells
  carry their CONF_STATUS and never a value (the SQL itself drops any value not ``F``).
- ``release=harmonized``: the unprotected harmonized observations (and, for callers over all
  states, the regional sums), for callers holding ``VIEW_HARMONIZED``, scoped to their state.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlmodel import Session

from exchange.auth import policy
from exchange.auth.policy import Permission
from exchange.auth.principal import Principal
from exchange.core.db import get_engine
from exchange.harmonization.models import Observation
from exchange.indicators.models import IndicatorValue
from exchange.indicators.service import indicators_done
from exchange.publication.models import ReleaseCell
from exchange.publication.vintages import Vintage, published
from exchange.regional.models import RegionalObservation
from exchange.sdmx import cache
from standards.sdmx import periods
from standards.sdmx.catalogue import Dataflow, DataStructure
from standards.sdmx.data_query import (
    ALL_DIMENSIONS,
    TIME_PERIOD,
    DataQuery,
    QueryError,
    malformed,
    no_results,
    not_implemented,
)

HARMONIZED = "harmonized"
# Rows fetched per round trip of the server-side cursor.
BATCH_ROWS = 5000


@dataclass(frozen=True)
class Access:
    """Who asks, and for which vintage: None (the latest), a release id, or ``harmonized``."""

    caller: Principal | None
    release: str | None = None

    @property
    def sees_embargoed(self) -> bool:
        return policy.sees_embargoed(self.caller)


@dataclass(frozen=True)
class Source:
    """A flow's rows for one caller before the query's filters."""

    table: sa.FromClause
    # Every component id of the structure -> its SQL expression.
    columns: Mapping[str, sa.ColumnElement[Any]]
    # The vintage's and the caller's scope.
    where: tuple[sa.ColumnElement[bool], ...]
    # What the answer is made of (release ids), for ETags and cache keys.
    versions: tuple[str, ...]
    last_modified: datetime | None = None
    # When the data became what it is, if one moment (one release).
    valid_from: datetime | None = None
    # The same answer for everyone who may see it: may be kept in shared caches.
    shared: bool = True
    # A named release: the answer never changes.
    immutable: bool = False
    # Whether the period range is still to be applied to the rows (released data is selected
    # by release, one period each).
    period_in_sql: bool = True


Reader = Callable[[Session, DataQuery, Access, datetime], Source]


# --- the mixed-movements flows: releases, or harmonized observations --------------------------

def _column(component: str) -> str:
    return {"REF_AREA": "area", "TIME_PERIOD": "period", "OBS_VALUE": "value"}.get(
        component, component.lower())


def _frequency(period: str) -> str | None:
    parsed = periods.parse(period)
    return parsed.freq if parsed else None


def released(session: Session, query: DataQuery, access: Access, now: datetime) -> Source:
    """Per period, the latest release the caller may see (at ``asOf``, if given)."""
    return _of_releases(ReleaseCell.__table__, session, query, access, now)  # type: ignore[attr-defined]


def indicators(session: Session, query: DataQuery, access: Access, now: datetime) -> Source:
    """The indicator values of, per period, the latest release the caller may see whose
    indicators are computed (the ``indicators`` stage follows the release: until it has run,
    the previous vintage's values answer, as ``/api/v1/indicators/values`` does)."""
    return _of_releases(IndicatorValue.__table__, session, query, access, now,  # type: ignore[attr-defined]
                        eligible=indicators_done(session))


def _of_releases(table: sa.Table, session: Session, query: DataQuery, access: Access,
                 now: datetime, *, eligible: set[int] | None = None) -> Source:
    """Rows of ``table`` (a ``release_id`` column, and one per component) of the chosen
    releases: per period the latest the caller may see, or the one named."""
    if access.release == HARMONIZED:
        raise not_implemented(f"{query.flow.id} is computed from releases only.")
    sees_embargoed = access.sees_embargoed

    def known_at(r: Vintage) -> datetime:
        return (r.published_at or r.created_at) if sees_embargoed else r.public_at

    freqs = query.filters.get("FREQ")
    candidates = [
        r for r in published(session)
        if (sees_embargoed or r.public_at <= now)
        and (eligible is None or r.id in eligible)
        and (freqs is None or _frequency(r.period) in freqs)
        and query.period.contains(r.period)
        and (query.as_of is None or known_at(r) <= query.as_of)]
    if access.release is not None:
        if not re.fullmatch(r"[0-9]{1,12}", access.release):
            raise malformed(f"release={access.release!r} is not a release id or "
                            f"'{HARMONIZED}'.")
        chosen = [r for r in candidates if r.id == int(access.release)]
        if not chosen:
            raise no_results(f"Release {access.release} is not a published release of "
                             f"{query.flow.id} in the periods asked.")
    else:
        latest: dict[str, Vintage] = {}
        for r in candidates:
            if r.period not in latest or r.number > latest[r.period].number:
                latest[r.period] = r
        chosen = list(latest.values())
    if query.updated_after is not None:
        chosen = [r for r in chosen if known_at(r) > query.updated_after]
    if not chosen:
        raise no_results("No release of this flow matches the query.")
    chosen.sort(key=lambda r: int(r.id or 0))
    c = table.c
    columns: dict[str, sa.ColumnElement[Any]] = {}
    for component in query.flow.structure.components:
        name = _column(component.id)
        if component.id == "OBS_VALUE":
            # Only a free cell carries a value, whatever was stored.
            columns[component.id] = sa.case((c.conf_status == "F", c.value))
        else:
            columns[component.id] = c[name] if name in c else sa.null()
    stamps = [known_at(r) for r in chosen]
    return Source(
        table=table,
        columns=columns,
        where=(c.release_id.in_([r.id for r in chosen]),),
        versions=tuple(f"release/{r.id}" for r in chosen),
        last_modified=max(stamps),
        valid_from=stamps[0] if len(chosen) == 1 else None,
        shared=access.caller is None,
        immutable=access.release is not None,
        period_in_sql=False)


def harmonized(session: Session, query: DataQuery, access: Access, now: datetime) -> Source:
    """The current harmonized observations, unprotected: the caller's own state, or every
    state and the regional sums for callers over all states."""
    caller = policy.require(access.caller, Permission.VIEW_HARMONIZED)
    if query.as_of is not None or query.updated_after is not None:
        raise not_implemented("asOf and updatedAfter apply to releases; harmonized data has "
                              "no history here.")
    own = policy.states_visible(caller, Permission.VIEW_HARMONIZED)
    asked = query.filters.get("REF_AREA")
    if own is not None and asked is not None:
        for area in sorted(asked):
            policy.require_state(caller, Permission.VIEW_HARMONIZED, area)
    components = query.flow.structure.components
    o = Observation.__table__.c  # type: ignore[attr-defined]
    parts = [sa.select(*(
        (o.ref_area if c.id == "REF_AREA" else o[_column(c.id)]).label(c.id)
        for c in components))]
    if own is None:
        r = RegionalObservation.__table__.c  # type: ignore[attr-defined]
        parts.append(sa.select(*(
            (r.region if c.id == "REF_AREA" else
             r[_column(c.id)] if _column(c.id) in r else sa.null()).label(c.id)
            for c in components)))
    else:
        parts[0] = parts[0].where(o.ref_area == own)
    table = (sa.union_all(*parts) if len(parts) > 1 else parts[0]).subquery("harmonized")
    return Source(table=table, columns={c.id: table.c[c.id] for c in components}, where=(),
                  versions=(HARMONIZED, now.isoformat()), shared=False)


def mixed_movements(session: Session, query: DataQuery, access: Access, now: datetime
                    ) -> Source:
    if access.release == HARMONIZED:
        return harmonized(session, query, access, now)
    return released(session, query, access, now)


# Flow id or structure id -> reader: one entry per source of rows.
READERS: dict[str, Reader] = {"MIXED_MOVEMENTS": mixed_movements, "MMX_INDICATORS": indicators}


def reader_for(flow: Dataflow) -> Reader:
    reader = READERS.get(flow.id) or READERS.get(flow.structure.id)
    if reader is None:
        raise not_implemented(f"No data source serves {flow.id} yet.")
    return reader


def source(session: Session, query: DataQuery, access: Access,
           now: datetime | None = None) -> Source:
    return reader_for(query.flow)(session, query, access, now or datetime.now(UTC))


# --- the SQL of a query -------------------------------------------------------------------------

def _conditions(src: Source, query: DataQuery, *, leave_out: str | None = None
                ) -> list[sa.ColumnElement[bool]]:
    conditions = list(src.where)
    for dim, codes in query.filters.items():
        if dim != leave_out:
            conditions.append(src.columns[dim].in_(sorted(codes)))
    if src.period_in_sql and not query.period.open and leave_out != TIME_PERIOD:
        freq = src.columns.get("FREQ")
        codes = _codes(query.flow.structure, "FREQ")
        freqs = sorted(query.filters.get("FREQ") or codes or periods.FREQUENCIES)
        period = src.columns[TIME_PERIOD]
        alternatives = []
        for f in freqs:
            lo, hi = query.period.bounds(f)
            parts = [freq == f] if freq is not None else []
            if lo is not None:
                parts.append(period >= lo)
            if hi is not None:
                parts.append(period <= hi)
            alternatives.append(sa.and_(*parts))
        conditions.append(sa.or_(*alternatives))
    return conditions


def _codes(structure: DataStructure, dimension: str) -> tuple[str, ...]:
    for d in structure.dimensions:
        if d.id == dimension and d.codelist is not None:
            return d.codelist.ids
    return ()


def rows_statement(src: Source, query: DataQuery) -> sa.Select[Any]:
    """The rows of the answer, in component order, sorted by series then observation."""
    structure = query.flow.structure
    ids = [c.id for c in structure.components]
    dims = [d.id for d in structure.dimensions]
    series = list(query.series_dimensions())
    at_obs = dims if query.dimension_at_observation == ALL_DIMENSIONS else \
        [query.dimension_at_observation]
    conditions = _conditions(src, query)
    if not query.detail.observations:
        keys = series or dims
        labelled = {i: src.columns[i].label(i) if i in keys else sa.null().label(i)
                    for i in ids}
        stmt = sa.select(*labelled.values()).select_from(src.table).where(*conditions)
        return stmt.distinct().order_by(*(labelled[k] for k in keys))
    if query.first_n is None and query.last_n is None:
        return sa.select(*(src.columns[i].label(i) for i in ids)).select_from(src.table) \
            .where(*conditions).order_by(*(src.columns[d] for d in [*series, *at_obs]))
    # First/last N observations of each time series: a window over the series key.
    time_series = [src.columns[d] for d in dims if d != TIME_PERIOD]
    period = src.columns[TIME_PERIOD]
    extra = []
    if query.first_n is not None:
        extra.append(sa.func.row_number().over(partition_by=time_series, order_by=period.asc())
                     .label("_first"))
    if query.last_n is not None:
        extra.append(sa.func.row_number().over(partition_by=time_series,
                                               order_by=period.desc()).label("_last"))
    inner = sa.select(*(src.columns[i].label(i) for i in ids), *extra) \
        .select_from(src.table).where(*conditions).subquery("ranked")
    keep = []
    if query.first_n is not None:
        keep.append(inner.c["_first"] <= query.first_n)
    if query.last_n is not None:
        keep.append(inner.c["_last"] <= query.last_n)
    return sa.select(*(inner.c[i] for i in ids)).where(sa.or_(*keep)) \
        .order_by(*(inner.c[d] for d in [*series, *at_obs]))


@dataclass
class Rows:
    """An open cursor over an answer's rows; the first batch is read already, so an empty
    answer is known before any byte is sent. Closed when exhausted or by ``close``."""

    connection: sa.Connection
    result: sa.CursorResult[Any]
    first: list[Any]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        try:
            yield from self.first
            for batch in self.result.partitions():
                yield from batch
        finally:
            self.close()

    def close(self) -> None:
        self.result.close()
        self.connection.close()


# COPY output parsed into one frame at a time: about this many bytes of CSV (a state-quarter's
# 12,600 cells are about 1 MB).
FRAME_BYTES = 1 << 20


class Frames:
    """An answer's rows read with ``COPY (SELECT ...) TO STDOUT`` as CSV into polars frames:
    on PostgreSQL the rows never become Python objects (building and then taking apart a
    state-quarter's 12,600 tuples was half its time). Iterating gives the same tuples as a
    cursor would, for the writers that go row by row. The first frame is read already, so
    an empty answer is known before any byte is sent."""

    def __init__(self, connection: sa.Connection, statement: sa.Select[Any]) -> None:
        self.connection = connection
        compiled = statement.compile(dialect=connection.dialect,
                                     compile_kwargs={"render_postcompile": True})
        self.schema = {name: _polars_type(column.type)
                       for name, column in statement.selected_columns.items()}
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self._copying = cursor.copy(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)",
                                    compiled.params)
        self._copy = self._copying.__enter__()
        self._done = False
        try:
            self.first = self._next_frame()
        except BaseException as exc:
            self.close(exc)
            raise

    def _next_frame(self) -> pl.DataFrame | None:
        # libpq hands COPY data out one whole row at a time, so a frame never splits a row.
        blocks: list[bytes | memoryview] = []
        size = 0
        while not self._done and size < FRAME_BYTES:
            block = self._copy.read()
            if not block:
                self._done = True
                break
            blocks.append(block)
            size += len(block)
        if not blocks:
            return None
        return pl.read_csv(b"".join(blocks), has_header=False, schema=self.schema)

    def frames(self) -> Iterator[pl.DataFrame]:
        try:
            frame = self.first
            while frame is not None:
                yield frame
                frame = self._next_frame()
        except BaseException as exc:
            self.close(exc)
            raise
        self.close()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for frame in self.frames():
            yield from frame.iter_rows()

    def close(self, exc: BaseException | None = None) -> None:
        """Ends the COPY (cancelling it if unread rows remain) and returns the connection."""
        if self._copying is not None:
            copying, self._copying = self._copying, None
            try:
                copying.__exit__(type(exc) if exc else None, exc, None)
            finally:
                self.connection.close()


def _polars_type(sql_type: sa.types.TypeEngine[Any]) -> type[pl.DataType]:
    if isinstance(sql_type, sa.Integer):
        return pl.Int64
    if isinstance(sql_type, sa.Float | sa.Numeric):
        return pl.Float64
    return pl.String


def open_rows(database_url: str, statement: sa.Select[Any]) -> Rows | Frames | None:
    """Execute ``statement`` on a connection of its own (the response outlives the request's
    session); None when it has no rows. PostgreSQL answers through COPY (``Frames``), other
    databases through a server-side cursor."""
    connection = get_engine(database_url).connect()
    try:
        if connection.dialect.name == "postgresql":
            frames = Frames(connection, statement)
            if frames.first is None:
                frames.close()
                return None
            return frames
        result = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS) \
            .execute(statement)
        first = result.fetchmany(BATCH_ROWS)
    except BaseException:
        connection.close()
        raise
    rows = Rows(connection, result, first)
    if not first:
        rows.close()
        return None
    return rows


# --- availability --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Availability:
    """The codes of each dimension that data matching the query holds, and how many
    observations match."""

    values: Mapping[str, tuple[str, ...]]
    observations: int


def availability(session: Session, src: Source, query: DataQuery, *, component: str | None,
                 mode: str) -> Availability:
    """``mode`` ``exact``: the codes in the data the whole key selects; ``available``: for
    each dimension, the codes the other dimensions' filters leave (what a data explorer may
    still offer)."""
    dims = [d.id for d in query.flow.structure.dimensions]
    if component is not None and component not in dims:
        raise no_results(f"{component} is not a dimension of {query.flow.id}.")
    count = session.execute(sa.select(sa.func.count()).select_from(src.table)
                            .where(*_conditions(src, query))).scalar_one()
    if not count:
        raise no_results()
    values: dict[str, tuple[str, ...]] = {}
    for dim in dims if component is None else [component]:
        leave_out = dim if mode == "available" else None
        column = src.columns[dim]
        values[dim] = tuple(str(v) for v in session.execute(
            sa.select(column).select_from(src.table).where(
                *_conditions(src, query, leave_out=leave_out)).distinct()
            .order_by(column)).scalars() if v is not None)
    return Availability(values=values, observations=int(count))


def etag(src: Source, *parts: str) -> str:
    """A strong validator (and the cache key): what the answer is made of, and the code and
    standard that wrote it."""
    digest = hashlib.sha256("\x1f".join((cache.code_fingerprint(), *src.versions, *parts))
                            .encode()).hexdigest()
    return f'"{digest[:32]}"'


__all__ = ["HARMONIZED", "READERS", "Access", "Availability", "Frames", "QueryError", "Rows",
           "Source", "availability", "etag", "open_rows", "rows_statement", "source"]
