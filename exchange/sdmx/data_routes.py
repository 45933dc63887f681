"""SDMX REST 2.1 data: ``/sdmx/data/{flow}/{key}/{provider}`` and
``/sdmx/availableconstraint/{flow}/{key}/{provider}/{componentID}``.

Thin: negotiate the format and language, parse the query (``standards.sdmx.data_query``),
let ``data_service`` choose the vintage the caller may read and build its SQL, answer 304 or
from the response cache when the answer is known, else stream it through a writer.
Errors follow the SDMX REST specification: 400 malformed, 404 nothing matches, 406 a format
we do not produce, 501 what we do not implement; as RFC 9457 problems with the SDMX error
code (``sdmx_code``: 100 no results, 150 semantic error, 501 not implemented).
"""

from __future__ import annotations

import gzip
import secrets
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from exchange.auth.policy import Permission
from exchange.auth.principal import Principal
from exchange.core.problems import Problem
from exchange.sdmx import data_service
from exchange.sdmx.cache import MAX_ENTRY_BYTES, ResponseCache, cache_for
from exchange.sdmx.data_service import HARMONIZED, Access, Source
from exchange.sdmx.negotiation import Kind, accepts_gzip, entity_tags, language, negotiate
from exchange.web.deps import AppContext, Context, MaybeCaller, problem_responses, reading
from standards.sdmx import data_csv, data_json, data_ml
from standards.sdmx.catalogue import load_catalogue
from standards.sdmx.constraint import constraint_json, constraint_ml
from standards.sdmx.data_query import DataQuery, QueryError, no_results, parse_data_query
from standards.sdmx.data_set import DataSet

router = APIRouter(prefix="/sdmx", tags=["sdmx data"])
VARY = "Accept, Accept-Language, Accept-Encoding, Authorization"
# zlib's fastest level: a state-quarter of SDMX-ML (2.6 MB) shrinks about twentyfold in a few
# milliseconds, less than handing the uncompressed bytes to the socket and the client costs.
GZIP_LEVEL = 1
SDMX_CODES = {400: 150, 404: 100, 501: 501}
SLUGS = {400: "bad-query", 404: "no-results", 501: "not-implemented"}
TITLES = {400: "Malformed query", 404: "No results found", 501: "Not implemented"}

Writer = Callable[[DataSet, str, datetime], Iterator[str]]
WRITERS: dict[str, Writer] = {
    "structurespecificdata": lambda ds, mid, now: data_ml.structure_specific(
        ds, message_id=mid, prepared=now),
    "genericdata": lambda ds, mid, now: data_ml.generic(ds, message_id=mid, prepared=now),
    "sdmx-csv": lambda ds, mid, now: data_csv.sdmx_csv(ds),
    "sdmx-json": lambda ds, mid, now: data_json.sdmx_json(ds, message_id=mid, prepared=now),
    "csv": lambda ds, mid, now: data_csv.plain_csv(ds),
    "json": lambda ds, mid, now: data_json.plain_json(ds),
}

WHO = (
    "**Who may call:** anyone, without a token, for released data: per period the latest "
    "published release past its embargo (`analyst` and `admin` also see embargoed ones). "
    "`release=harmonized` reads the unprotected harmonized observations: `analyst`, `admin` "
    "(all states and the regional sums), `submitter` and `coordinator` (own state only); no "
    "token, 401; another role, 403. Permission: `"
    + Permission.VIEW_HARMONIZED.value + "`.")
DATA_DOC = """Data of a dataflow (`DF_MIXED_MOVEMENTS_Q` quarterly, `DF_MIXED_MOVEMENTS_W`
emergency weeks), as the SDMX REST 2.1 data query.

- `flow`: `ID`, `AGENCY,ID` or `AGENCY,ID,VERSION` (`latest`, `~`, `*` for the current one).
- `key`: codes per key dimension in DSD order, dot-separated; `+` for alternatives, empty or
  `*` for any (`Q.KAZ+CENTRAL_ASIA..REF`); `all` for everything.
- `provider`: `all` or `MMX`.
- Format by `Accept` or `format=`: SDMX-ML 2.1 structure-specific (default, also for `*/*`),
  generic (`genericdata`), SDMX-CSV 2.0 (`sdmx-csv`, `application/vnd.sdmx.data+csv`),
  SDMX-JSON 2.0 (`sdmx-json`), plain `csv` and `json` with labels; labels in `en`, `fr`, `ru`
  by `Accept-Language`.
- Suppressed cells are present with their `CONF_STATUS` and no value.
- `release=<id>` reads one release, `asOf=<date-time>` the releases public at that time.

Released answers carry `ETag` and `Last-Modified` (`If-None-Match`/`If-Modified-Since` give
304) and are cached by release; harmonized answers are `private, no-store`.

"""


def problem_of(error: QueryError) -> Problem:
    return Problem(error.status, SLUGS.get(error.status, "bad-query"),
                   TITLES.get(error.status, "Error"), error.message,
                   sdmx_code=SDMX_CODES.get(error.status, error.status))


def _params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in ("format", "release")}


def _not_modified(src: Source, tag: str, tags: set[str] | None,
                  if_modified_since: str | None) -> bool:
    if tags is not None:
        return tag in tags or _gzip_tag(tag) in tags
    if if_modified_since and src.last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return src.last_modified.replace(microsecond=0) <= since
    return False


def _headers(src: Source, tag: str, lang: str) -> dict[str, str]:
    headers = {"Vary": VARY, "Content-Language": lang}
    if src.shared:
        headers["ETag"] = tag
        headers["Cache-Control"] = "public, max-age=31536000, immutable" if src.immutable \
            else "public, max-age=60"
    else:
        headers["Cache-Control"] = "private, no-store"
        if HARMONIZED not in src.versions:
            headers["ETag"] = tag
    if src.last_modified is not None:
        headers["Last-Modified"] = format_datetime(src.last_modified.astimezone(UTC),
                                                   usegmt=True)
    return headers


def _gzip_tag(tag: str) -> str:
    """The ETag of the gzip-encoded representation (other bytes, so another strong tag)."""
    return tag[:-1] + '-gzip"'


def _compressed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The body gzip-encoded as it streams."""
    encoder = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    for chunk in chunks:
        if out := encoder.compress(chunk):
            yield out
    yield encoder.flush()


def response_cache(request: Request) -> ResponseCache:
    state = request.app.state
    if getattr(state, "sdmx_cache", None) is None:
        state.sdmx_cache = cache_for(request.app.state.context.settings.cache_url)
    return state.sdmx_cache  # type: ignore[no-any-return]


def _encoded(chunks: Iterator[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("utf-8")


def _kept(chunks: Iterator[bytes], keep: Callable[[bytes], None] | None, *, zipped: bool
          ) -> Iterator[bytes]:
    """``chunks`` passed on; the whole body, gzip-encoded, handed to ``keep`` at the end when
    it is small enough (the cache holds compressed answers)."""
    if keep is None:
        yield from chunks
        return
    kept: list[bytes] | None = []
    size = 0
    for chunk in chunks:
        if kept is not None:
            size += len(chunk)
            if size > MAX_ENTRY_BYTES:
                kept = None
            else:
                kept.append(chunk)
        yield chunk
    if kept is not None:
        body = b"".join(kept)
        keep(body if zipped else gzip.compress(body, compresslevel=GZIP_LEVEL))


def _prepare(r: DataRequest, flow: str, key: str | None, provider: str | None
             ) -> tuple[DataQuery, Source]:
    try:
        query = parse_data_query(load_catalogue(), flow=flow, key=key, provider=provider,
                                 params=_params(r.request))
        with reading(r.context) as session:
            return query, data_service.source(session, query, Access(r.caller, r.release))
    except QueryError as error:
        raise problem_of(error) from None


Flow = Annotated[str, Path(max_length=200, description="`ID`, `AGENCY,ID` or "
                           "`AGENCY,ID,VERSION`.")]
Key = Annotated[str, Path(max_length=2000, description="Dot-separated codes per key dimension;"
                          " `+` alternatives, empty or `*` any; `all`.")]
Provider = Annotated[str, Path(max_length=200, description="`all` or `MMX`.")]
Release = Annotated[str | None, Query(max_length=20, description="A release id, or "
                                      "`harmonized` (see who may).")]
Text = Annotated[str | None, Query(max_length=100)]


@dataclass(frozen=True)
class DataRequest:
    """What every data route reads besides its path."""

    request: Request
    context: AppContext
    caller: Principal | None
    format: str | None
    release: str | None
    accept: str | None
    accept_language: str | None
    if_none_match: str | None
    if_modified_since: str | None
    # availableconstraint's ``mode``: exact or available.
    mode: str = "exact"
    accept_encoding: str | None = None


async def data_request(
        request: Request, context: Context, caller: MaybeCaller,
        format: Annotated[str | None, Query(max_length=40, description=(
            "structurespecificdata, genericdata, sdmx-csv, sdmx-json, csv, json"))] = None,
        release: Release = None,
        startPeriod: Text = None, endPeriod: Text = None,
        dimensionAtObservation: Text = None, detail: Text = None,
        firstNObservations: Text = None, lastNObservations: Text = None,
        updatedAfter: Text = None, asOf: Text = None,
        accept: Annotated[str | None, Header()] = None,
        accept_language: Annotated[str | None, Header()] = None,
        if_none_match: Annotated[str | None, Header()] = None,
        if_modified_since: Annotated[str | None, Header()] = None,
        accept_encoding: Annotated[str | None, Header()] = None) -> DataRequest:
    """The query parameters are declared for the documentation; the query itself is read
    from the URL by ``standards.sdmx.data_query`` (which answers 400, not 422). The routes
    open their read session themselves (``reading``): a cached answer needs none."""
    return DataRequest(request, context, caller, format, release, accept,
                       accept_language, if_none_match, if_modified_since,
                       accept_encoding=accept_encoding)


Data = Annotated[DataRequest, Depends(data_request)]
DATA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {r: {} for r in ("application/vnd.sdmx.structurespecificdata+xml",
                                      "application/vnd.sdmx.genericdata+xml",
                                      "application/vnd.sdmx.data+csv", "text/csv",
                                      "application/vnd.sdmx.data+json")}},
    304: {"description": "Not modified"},
    **problem_responses(400, 401, 403, 404, 406, 501)}


@router.get("/data/{flow}", response_model=None, responses=DATA_RESPONSES,
            description=DATA_DOC + WHO)
@router.get("/data/{flow}/", response_model=None, include_in_schema=False)
def data_of_flow(r: Data, flow: Flow) -> Response:
    return _data(r, flow, None, None)


@router.get("/data/{flow}/{key}", response_model=None, responses=DATA_RESPONSES,
            description=DATA_DOC + WHO)
@router.get("/data/{flow}/{key}/", response_model=None, include_in_schema=False)
def data_of_key(r: Data, flow: Flow, key: Key) -> Response:
    return _data(r, flow, key, None)


@router.get("/data/{flow}/{key}/{provider}", response_model=None, responses=DATA_RESPONSES,
            description=DATA_DOC + WHO)
@router.get("/data/{flow}/{key}/{provider}/", response_model=None, include_in_schema=False)
def data_of_provider(r: Data, flow: Flow, key: Key, provider: Provider) -> Response:
    return _data(r, flow, key, provider)


def _data(r: DataRequest, flow: str, key: str | None, provider: str | None) -> Response:
    representation = negotiate(Kind.DATA, accept=r.accept, format_param=r.format)
    lang = language(r.accept_language)
    query, src = _prepare(r, flow, key, provider)
    tag = data_service.etag(src, query.canonical(), representation.key, lang)
    headers = _headers(src, tag, lang)
    zipped = accepts_gzip(r.accept_encoding)
    if zipped and "ETag" in headers:
        headers["ETag"] = _gzip_tag(tag)
    tags = entity_tags(r.if_none_match)
    if "ETag" in headers and _not_modified(src, tag, tags, r.if_modified_since):
        return Response(status_code=304, headers=headers)
    # If-None-Match: * is 304 once the answer is known to exist (cached, or rows found).
    any_tag = "ETag" in headers and tags is not None and "*" in tags
    validators = dict(headers)
    if representation.key in ("sdmx-csv", "csv"):
        headers["Content-Disposition"] = f'attachment; filename="{query.flow.id}.csv"'
    if zipped:
        headers["Content-Encoding"] = "gzip"
    cache = response_cache(r.request) if src.shared else None
    if cache is not None and (body := cache.get(tag)) is not None:
        if any_tag:
            return Response(status_code=304, headers=validators)
        return Response(body if zipped else gzip.decompress(body),
                        media_type=representation.content_type, headers=headers)
    rows = data_service.open_rows(r.context.database_url,
                                  data_service.rows_statement(src, query))
    if rows is None:
        raise problem_of(no_results())
    if any_tag:
        rows.close()
        return Response(status_code=304, headers=validators)
    ds = DataSet(query, rows, language=lang, valid_from=src.valid_from)
    now = datetime.now(UTC)
    message_id = f"MMX{now:%Y%m%d%H%M%S}{secrets.token_hex(4)}"
    body_chunks = _encoded(WRITERS[representation.key](ds, message_id, now))
    if zipped:
        body_chunks = _compressed(body_chunks)
    keep = (lambda body: cache.put(tag, body)) if cache is not None else None
    return StreamingResponse(_kept(body_chunks, keep, zipped=zipped),
                             media_type=representation.content_type, headers=headers)


AVAILABILITY_DOC = """The codes of each dimension that data matching the key holds, as an
actual content constraint (SDMX REST 2.1 `availableconstraint`), with the number of matching
observations (annotation `obs_count`): what a data explorer needs to grey out empty filter
values. `mode=exact` (default): the codes in the data the whole key selects; `mode=available`:
for each dimension, the codes left by the other dimensions' filters. `componentID` (or `all`)
limits the answer to one dimension. SDMX-ML 2.1 structure message by default, SDMX-JSON with
`Accept: application/vnd.sdmx.structure+json` or `format=sdmx-json`.

"""


AVAILABILITY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/vnd.sdmx.structure+xml": {},
                      "application/vnd.sdmx.structure+json": {}}},
    **problem_responses(400, 401, 403, 404, 406, 501)}


async def availability_request(
        request: Request, context: Context, caller: MaybeCaller,
        mode: Annotated[str, Query(pattern="^(exact|available)$")] = "exact",
        format: Annotated[str | None, Query(max_length=40)] = None,
        release: Release = None, startPeriod: Text = None, endPeriod: Text = None,
        updatedAfter: Text = None, asOf: Text = None,
        accept: Annotated[str | None, Header()] = None,
        accept_language: Annotated[str | None, Header()] = None) -> DataRequest:
    return DataRequest(request, context, caller, format, release,
                       accept, accept_language, None, None, mode=mode)


Availability = Annotated[DataRequest, Depends(availability_request)]


@router.get("/availableconstraint/{flow}", response_model=None,
            responses=AVAILABILITY_RESPONSES, description=AVAILABILITY_DOC + WHO)
def availability_of_flow(r: Availability, flow: Flow) -> Response:
    return _availability(r, flow, None, None, None)


@router.get("/availableconstraint/{flow}/{key}", response_model=None,
            responses=AVAILABILITY_RESPONSES, description=AVAILABILITY_DOC + WHO)
def availability_of_key(r: Availability, flow: Flow, key: Key) -> Response:
    return _availability(r, flow, key, None, None)


@router.get("/availableconstraint/{flow}/{key}/{provider}", response_model=None,
            responses=AVAILABILITY_RESPONSES, description=AVAILABILITY_DOC + WHO)
def availability_of_provider(r: Availability, flow: Flow, key: Key, provider: Provider
                             ) -> Response:
    return _availability(r, flow, key, provider, None)


@router.get("/availableconstraint/{flow}/{key}/{provider}/{componentID}", response_model=None,
            responses=AVAILABILITY_RESPONSES, description=AVAILABILITY_DOC + WHO)
def availability_of_component(
        r: Availability, flow: Flow, key: Key, provider: Provider,
        componentID: Annotated[str, Path(max_length=100)]) -> Response:
    return _availability(r, flow, key, provider, componentID)


def _availability(r: DataRequest, flow: str, key: str | None, provider: str | None,
                  component_id: str | None) -> Response:
    representation = negotiate(Kind.STRUCTURE, accept=r.accept, format_param=r.format)
    lang = language(r.accept_language)
    params = {k: v for k, v in _params(r.request).items() if k != "mode"}
    try:
        query = parse_data_query(load_catalogue(), flow=flow, key=key, provider=provider,
                                 params=params)
        component = None if component_id in (None, "all", "*") else component_id
        with reading(r.context) as session:
            src = data_service.source(session, query, Access(r.caller, r.release))
            found = data_service.availability(session, src, query, component=component,
                                              mode=r.mode)
    except QueryError as error:
        raise problem_of(error) from None
    message_id = f"MMX{datetime.now(UTC):%Y%m%d%H%M%S}{secrets.token_hex(4)}"
    headers = {"Vary": VARY, "Content-Language": lang,
               "Cache-Control": "public, max-age=60" if src.shared else "private, no-store"}
    if representation.key == "structure":
        body = constraint_ml(query.flow, found.values, found.observations,
                             message_id=message_id)
    else:
        body = constraint_json(query.flow, found.values, found.observations,
                               message_id=message_id, lang=lang)
    return Response(body, media_type=representation.content_type, headers=headers)
