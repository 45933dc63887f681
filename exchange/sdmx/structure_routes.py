"""``/sdmx``: SDMX REST structure queries (dataflows, data structures, code lists, concept
schemes, category schemes, categorisations) in the SDMX 2.1 form ``/sdmx/{resource}/...``
and the SDMX 3.0 forms ``/sdmx/structure/{type}/...`` and ``/sdmx/schema/{context}/...``.
Public: structures describe published data and hold no data.

Thin: the path is handed, as the client sent it, to ``standards.sdmx.structure_query`` (which
reads every spelling clients use); the answer is written by the SDMX-ML or SDMX-JSON writer
that content negotiation picks. Structures change only with the standard, so responses are
cacheable: a weak ETag of the code and standard (``cache.code_fingerprint``), the query, the
format and the language; ``If-None-Match`` gets 304.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.convertors import Convertor, register_url_convertor

from exchange.auth.policy import who_may
from exchange.core.problems import Problem
from exchange.sdmx import cache
from exchange.sdmx.negotiation import (
    SDMX_JSON_STRUCTURE,
    STRUCTURE_XML,
    Kind,
    Representation,
    entity_tags,
    language,
    negotiate,
)
from exchange.web.deps import problem_responses
from standards.sdmx import load_catalogue
from standards.sdmx.artefacts import build_graph
from standards.sdmx.structure_json import structure_document
from standards.sdmx.structure_ml import structure_message
from standards.sdmx.structure_query import (
    SDMX_TYPES,
    StructureQueryError,
    parse,
    resolve,
    schema_query,
)

PREFIX = "/sdmx"
CACHE_CONTROL = "public, max-age=3600"
VARY = "Accept, Accept-Language"


class _ResourceConvertor(Convertor[str]):
    """Matches an SDMX structure type only, so ``/sdmx/data/...`` and the other SDMX
    resources stay free for their own routes whatever the order of registration."""

    regex = "|".join(re.escape(t) for t in sorted(SDMX_TYPES, key=len, reverse=True))

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("sdmx_structure_type", _ResourceConvertor())

router = APIRouter(prefix=PREFIX, tags=["sdmx"])

References = Annotated[str | None, Query(
    description="none (default), parents, parentsandsiblings, ancestors, children, "
    "descendants, all, or a structure type (e.g. codelist); several comma-separated.")]
Detail = Annotated[str | None, Query(
    description="full (default), allstubs, referencestubs, allcompletestubs, "
    "referencecompletestubs, referencepartial, raw.")]
Resource = Annotated[str, Path(
    description="dataflow, datastructure, codelist, conceptscheme, categoryscheme, "
    "categorisation (other SDMX structure types are valid and match nothing).")]
AgencyId = Annotated[str, Path(description="`MMX`, or `all`/`*`.")]
ResourceId = Annotated[str, Path(
    description="An artefact id, several separated by `,` or `+`, or `all`/`*`.")]
Version = Annotated[str, Path(
    description="A version (the standard's), `latest`, `~`, `+`, `all` or `*`.")]
Format = Annotated[str | None, Query(
    description="Overrides `Accept`: `structure` (SDMX-ML 2.1, the default) or `sdmx-json` "
    "(SDMX-JSON 2.0).")]
RESPONSES: dict[int | str, dict] = {
    200: {"description": "The structures, as SDMX-ML 2.1 (default) or SDMX-JSON 2.0.",
          "content": {STRUCTURE_XML: {"schema": {"type": "string"}},
                      SDMX_JSON_STRUCTURE: {"schema": {"type": "object"}}}},
    304: {"description": "Not modified (`If-None-Match` names the current ETag)."},
    **problem_responses(400, 404, 406, 501)}
FORMS = ("Every spelling clients send is read: `all` or `*` for any agency or id, `latest`, "
         "`~`, `+` or a missing segment for the latest version, several ids separated by `,` "
         "(or `%2C`) or `+`, a trailing slash; item schemes take a fifth segment selecting "
         "items. Labels in English, French or Russian by `Accept-Language`.\n\n")


def _error(exc: StructureQueryError) -> Problem:
    return Problem(exc.status, exc.slug, exc.title, exc.detail)


def _etag(representation: Representation, lang: str, query: str) -> str:
    key = "\n".join((cache.code_fingerprint(), representation.key, lang, query))
    return 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def _not_modified(request: Request, etag: str) -> bool:
    """The structure exists once resolved, so ``*`` matches it too."""
    tags = entity_tags(request.headers.get("if-none-match") or None)
    return tags is not None and ("*" in tags or etag.removeprefix("W/") in tags)


def _answer(request: Request, path: str, context: str = "") -> Response:
    """Negotiate, parse, resolve and write; ``context`` set for a schema query."""
    representation = negotiate(Kind.STRUCTURE, accept=request.headers.get("accept"),
                               format_param=request.query_params.get("format"))
    lang = language(request.headers.get("accept-language"))
    params = {k: v for k, v in request.query_params.items() if k != "format"}
    catalogue = load_catalogue()
    try:
        query = schema_query(context, path) if context else parse(path, params)
        selection = resolve(query, build_graph(catalogue))
    except StructureQueryError as exc:
        raise _error(exc) from None
    canonical = (f"{'schema:' + context if context else 'structure'}:{path.strip('/')}?"
                 + "&".join(f"{k}={v}" for k, v in sorted(params.items())))
    etag = _etag(representation, lang, canonical)
    headers = {"ETag": etag, "Vary": VARY, "Cache-Control": CACHE_CONTROL,
               "Content-Language": lang}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    message_id = "IREF" + etag[3:15].upper()
    if representation.content_type == STRUCTURE_XML:
        body = structure_message(selection, concept_scheme=catalogue.concept_scheme,
                                 agency=catalogue.agency, lang=lang, message_id=message_id)
        return Response(body.encode(), media_type=STRUCTURE_XML, headers=headers)
    document = structure_document(selection, concept_scheme=catalogue.concept_scheme,
                                  agency=catalogue.agency, lang=lang, message_id=message_id)
    return Response(json.dumps(document, ensure_ascii=False).encode(),
                    media_type=SDMX_JSON_STRUCTURE, headers=headers)


def _after(request: Request, prefix: str) -> str:
    """The path after ``prefix`` (``/sdmx/`` or ``/sdmx/schema/{context}/``), as sent,
    percent-decoded."""
    path: str = request.scope["path"]
    start = path.find(prefix)
    return path[start + len(prefix):] if start >= 0 else ""


@router.get("/structure/{resource}/{agency_id}/{resource_id}/{version}",
            response_class=Response, responses=RESPONSES,
            summary="Structures (SDMX 3.0 path)",
            description="SDMX 3.0 structure query: `/sdmx/structure/{type}/{agency}/{id}/"
            "{version}[/{items}]` (also `/sdmx/structure/{type}`, `.../{agency}`, "
            "`.../{agency}/{id}`). Types: dataflow, datastructure, codelist, conceptscheme, "
            "categoryscheme, categorisation, or `*`/`all`. " + FORMS + who_may(None))
def structure_v3(request: Request, resource: Resource, agency_id: AgencyId,
                 resource_id: ResourceId, version: Version, references: References = None,
                 detail: Detail = None, format: Format = None) -> Response:
    return _answer(request, _after(request, PREFIX + "/"))


@router.get("/{resource:sdmx_structure_type}/{agency_id}/{resource_id}/{version}",
            response_class=Response, responses=RESPONSES,
            summary="Structures (SDMX 2.1 path)",
            description="SDMX 2.1 structure query: `/sdmx/{resource}/{agency}/{id}/{version}"
            "[/{items}]` (also `/sdmx/{resource}`, `.../{agency}`, `.../{agency}/{id}`); "
            "`/sdmx/dataflow/MMX/all/latest` lists the dataflows. " + FORMS + who_may(None))
def structure_v21(request: Request, resource: Resource, agency_id: AgencyId,
                  resource_id: ResourceId, version: Version, references: References = None,
                  detail: Detail = None, format: Format = None) -> Response:
    return _answer(request, _after(request, PREFIX + "/"))


@router.get("/schema/{context}/{agency_id}/{resource_id}/{version}",
            response_class=Response, responses=RESPONSES,
            summary="Data validity schema of a dataflow (SDMX 3.0)",
            description="SDMX 3.0 schema query (`/sdmx/schema/{context}/{agency}/{id}"
            "[/{version}]`, context dataflow or datastructure): the data structure with its "
            "concepts and code lists, cut to the codes the dataflow allows (what pysdmx's "
            "`RegistryClient.get_schema` reads). " + who_may(None))
def schema(request: Request, context: str, agency_id: AgencyId, resource_id: ResourceId,
           version: Version, format: Format = None) -> Response:
    return _answer(request, _after(request, f"{PREFIX}/schema/{context}/"), context)


# The shorter and longer spellings of the same queries, not repeated in the OpenAPI document.
@router.get("/structure", include_in_schema=False)
@router.get("/structure/{rest:path}", include_in_schema=False)
@router.get("/{resource:sdmx_structure_type}", include_in_schema=False)
@router.get("/{resource:sdmx_structure_type}/{rest:path}", include_in_schema=False)
def structure_any(request: Request) -> Response:
    return _answer(request, _after(request, PREFIX + "/"))


@router.get("/schema/{context}/{rest:path}", include_in_schema=False)
def schema_any(request: Request, context: str) -> Response:
    return _answer(request, _after(request, f"{PREFIX}/schema/{context}/"), context)
