"""An SDMX 2.1 REST data query, parsed and checked against the catalogue: which dataflow, which
codes of each key dimension, which periods, how the answer is packaged.

Pure: no web, no database. Errors are :class:`QueryError` with the status the SDMX REST
specification gives them (400 malformed, 404 nothing matches, 501 not implemented); the
exchange turns them into problem responses.

What is accepted:

- flow: ``ID``, ``AGENCY,ID`` or ``AGENCY,ID,VERSION``; agency ``all``/``*`` and version
  ``latest``/``~``/``+``/``*``/``all`` mean "ours, the current one".
- key: ``all``, empty, or dot-separated parts in the structure's key-dimension order, each
  empty/``*`` (any code) or codes joined by ``+``; fewer parts than dimensions leave the
  trailing ones open. A code outside the dimension's code list matches nothing (404).
- provider: ``all``, ``*`` or the agency (``MMX``, ``MMX,MMX``): the exchange is the one
  provider of its flows.
- ``startPeriod``/``endPeriod``: the forms of :mod:`standards.sdmx.periods` (``2020``,
  ``2020-S1``, ``2020-Q2``, ``2020-06``, ``2020-M06``, ``2020-W05``, ``2020-06-30``), compared as
  periods.
- ``dimensionAtObservation``: ``TIME_PERIOD`` (default), ``AllDimensions`` or any dimension.
- ``detail``: ``full`` (default), ``dataonly``, ``serieskeysonly``, ``nodata``.
- ``firstNObservations``/``lastNObservations``: positive integers, per time series.
- ``updatedAfter``/``asOf``: ISO 8601 date-times (without a zone: UTC).
- ``includeHistory=true`` and SDMX 3.0's ``attributes``, ``measures``, ``sort``, ``offset``,
  ``limit`` and ``c[...]`` filters are answered 501.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from standards.sdmx import periods
from standards.sdmx.catalogue import Catalogue, Dataflow
from standards.sdmx.periods import PeriodRange

ALL_DIMENSIONS = "AllDimensions"
TIME_PERIOD = "TIME_PERIOD"
_ID = re.compile(r"^[A-Za-z0-9_@$-]+$")
_ANY = frozenset({"all", "*", ""})
_LATEST = frozenset({"latest", "~", "+", "*", "all", ""})
_UNSUPPORTED = ("attributes", "measures", "sort", "offset", "limit")
MAX_N = 1_000_000
ERROR_CODES = {400: "SemanticError", 404: "NoResultsFound", 501: "NotImplemented"}


class QueryError(Exception):
    """A query we cannot answer: ``status`` 400, 404 or 501; ``code`` the SDMX error name
    (SemanticError, NoResultsFound, NotImplemented)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def code(self) -> str:
        return ERROR_CODES.get(self.status, "Error")


def malformed(message: str) -> QueryError:
    return QueryError(400, message)


def no_results(message: str = "No data matches the query.") -> QueryError:
    return QueryError(404, message)


def not_implemented(message: str) -> QueryError:
    return QueryError(501, message)


class Detail(StrEnum):
    FULL = "full"
    DATA_ONLY = "dataonly"
    SERIES_KEYS_ONLY = "serieskeysonly"
    NO_DATA = "nodata"

    @property
    def observations(self) -> bool:
        """Whether the answer carries observations (values)."""
        return self in (Detail.FULL, Detail.DATA_ONLY)

    @property
    def attributes(self) -> bool:
        return self in (Detail.FULL, Detail.NO_DATA)


@dataclass(frozen=True)
class FlowRef:
    agency: str | None
    id: str
    version: str | None


def parse_flow_ref(text: str) -> FlowRef:
    parts = [p.strip() for p in text.split(",")]
    if not 1 <= len(parts) <= 3:
        raise malformed(f"Flow reference {text!r} is not ID, AGENCY,ID or AGENCY,ID,VERSION.")
    if len(parts) == 1:
        parts = ["", parts[0], ""]
    elif len(parts) == 2:
        parts.append("")
    agency, flow_id, version = parts
    if not _ID.match(flow_id) or (agency not in _ANY and not _ID.match(agency)) \
            or (version not in _LATEST and not re.match(r"^[0-9A-Za-z.+~*-]+$", version)):
        raise malformed(f"Flow reference {text!r} is malformed.")
    return FlowRef(agency=None if agency in _ANY else agency, id=flow_id,
                   version=None if version in _LATEST else version)


def resolve_flow(catalogue: Catalogue, ref: FlowRef) -> Dataflow:
    flow = catalogue.dataflows.get(ref.id)
    if flow is None or (ref.agency is not None and ref.agency != flow.agency) or \
            (ref.version is not None and ref.version != flow.version):
        known = ", ".join(f.urn for f in catalogue.dataflows.values())
        raise no_results(f"No dataflow {ref.agency or '*'}:{ref.id}({ref.version or 'latest'});"
                         f" published: {known}.")
    return flow


def parse_key(text: str | None, dimensions: Sequence[str]) -> dict[str, frozenset[str]]:
    """Dimension id -> the codes asked for, for the constrained dimensions only."""
    if text is None or text.strip() in ("", "all", "*"):
        return {}
    parts = text.split(".")
    if len(parts) > len(dimensions):
        raise malformed(f"Key {text!r} has {len(parts)} parts; the structure has "
                        f"{len(dimensions)} key dimensions ({'.'.join(dimensions)}).")
    out: dict[str, frozenset[str]] = {}
    for dimension, part in zip(dimensions, parts, strict=False):
        part = part.strip()
        if part in ("", "*"):
            continue
        codes = part.split("+")
        bad = [c for c in codes if not _ID.match(c)]
        if bad:
            raise malformed(f"Key part {part!r} of {dimension} is not codes joined by '+'.")
        out[dimension] = frozenset(codes)
    return out


def parse_provider(text: str | None, agency: str) -> None:
    if text is None or text.strip() in _ANY:
        return
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > 2 or not all(_ID.match(p) for p in parts):
        raise malformed(f"Provider {text!r} is not ID or AGENCY,ID.")
    if any(p != agency for p in parts):
        raise no_results(f"The only data provider is {agency}.")


def parse_period(text: str, name: str) -> periods.Period:
    period = periods.parse(text.strip())
    if period is None:
        raise malformed(f"{name}={text!r} is not a period (2020, 2020-S1, 2020-Q2, 2020-06, "
                        "2020-W05, 2020-06-30).")
    return period


def parse_datetime(text: str, name: str) -> datetime:
    # A '+' of an unencoded zone offset arrives as a space.
    cleaned = re.sub(r" (\d{2}:?\d{2})$", r"+\1", text.strip())
    try:
        value = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        raise malformed(f"{name}={text!r} is not an ISO 8601 date-time.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _positive(text: str, name: str) -> int:
    # ASCII digits only: str.isdigit() takes "²", which int() refuses.
    if not re.fullmatch(r"[0-9]{1,9}", text.strip()) or not 1 <= int(text) <= MAX_N:
        raise malformed(f"{name}={text!r} is not a positive integer.")
    return int(text)


@dataclass(frozen=True)
class DataQuery:
    flow: Dataflow
    # Key dimension id -> codes (absent: any); the flow's own constraint is applied.
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    period: PeriodRange = field(default_factory=PeriodRange)
    detail: Detail = Detail.FULL
    dimension_at_observation: str = TIME_PERIOD
    first_n: int | None = None
    last_n: int | None = None
    updated_after: datetime | None = None
    as_of: datetime | None = None

    def canonical(self) -> str:
        """The query as one normalised string (cache keys and ETags)."""
        filters = ";".join(f"{k}={'+'.join(sorted(v))}" for k, v in sorted(self.filters.items()))
        p = self.period
        return "|".join(str(x) for x in (
            self.flow.urn, filters, p.start and p.start.first, p.end and p.end.last,
            self.detail, self.dimension_at_observation, self.first_n, self.last_n,
            self.updated_after and self.updated_after.isoformat(),
            self.as_of and self.as_of.isoformat()))

    def series_dimensions(self) -> tuple[str, ...]:
        """The dimensions that make a series key, in structure order."""
        dims = tuple(d.id for d in self.flow.structure.dimensions)
        if self.dimension_at_observation == ALL_DIMENSIONS:
            return ()
        return tuple(d for d in dims if d != self.dimension_at_observation)


def parse_data_query(catalogue: Catalogue, *, flow: str, key: str | None = None,
                     provider: str | None = None, params: Mapping[str, str] | None = None
                     ) -> DataQuery:
    """The query a ``/data/{flow}/{key}/{provider}?...`` request asks."""
    params = params or {}
    for name in params:
        if name in _UNSUPPORTED or name.startswith("c["):
            raise not_implemented(f"The parameter {name} is not implemented (SDMX REST 2.1).")
    if params.get("includeHistory", "false").strip().lower() not in ("false", ""):
        raise not_implemented("includeHistory=true is not implemented: use asOf or a release.")
    dataflow = resolve_flow(catalogue, parse_flow_ref(flow))
    structure = dataflow.structure
    parse_provider(provider, dataflow.agency)
    filters = parse_key(key, [d.id for d in structure.key_dimensions])
    for dim, allowed in dataflow.constraint.items():
        asked = filters.get(dim, allowed)
        if not asked & allowed:
            raise no_results(f"{dataflow.id} holds {dim}={'+'.join(sorted(allowed))} only.")
        filters[dim] = asked & allowed
    for dim, codes in filters.items():
        codelist = next(d.codelist for d in structure.dimensions if d.id == dim)
        if codelist is not None and not any(c in codelist for c in codes):
            raise no_results(f"No code {'+'.join(sorted(codes))} in {codelist.id}.")

    start = params.get("startPeriod")
    end = params.get("endPeriod")
    period = PeriodRange(start=parse_period(start, "startPeriod") if start else None,
                         end=parse_period(end, "endPeriod") if end else None)
    if period.start and period.end and period.start.first > period.end.last:
        raise malformed("startPeriod is after endPeriod.")

    try:
        detail = Detail(params.get("detail", "full").strip() or "full")
    except ValueError:
        raise malformed(f"detail={params['detail']!r} is not one of "
                        f"{', '.join(d.value for d in Detail)}.") from None
    at_obs = params.get("dimensionAtObservation", TIME_PERIOD).strip() or TIME_PERIOD
    dims = [d.id for d in structure.dimensions]
    if at_obs not in (*dims, ALL_DIMENSIONS):
        raise malformed(f"dimensionAtObservation={at_obs!r} is not {ALL_DIMENSIONS} or one of "
                        f"{', '.join(dims)}.")
    first_n = _positive(params["firstNObservations"], "firstNObservations") \
        if params.get("firstNObservations") else None
    last_n = _positive(params["lastNObservations"], "lastNObservations") \
        if params.get("lastNObservations") else None
    updated_after = parse_datetime(params["updatedAfter"], "updatedAfter") \
        if params.get("updatedAfter") else None
    as_of = parse_datetime(params["asOf"], "asOf") if params.get("asOf") else None
    if updated_after and as_of and updated_after > as_of:
        raise malformed("updatedAfter is after asOf.")
    return DataQuery(flow=dataflow, filters=filters, period=period, detail=detail,
                     dimension_at_observation=at_obs, first_n=first_n, last_n=last_n,
                     updated_after=updated_after, as_of=as_of)
