"""Which format and language an SDMX REST caller gets: HTTP content negotiation (``Accept``,
``Accept-Language``) with the ``format=`` query parameter as the override people type in a
browser. One table of representations; the data and structure routes both read it.

SDMX clients send ``Accept: */*`` and expect SDMX-ML (sdmx1 does), so the first representation
of each kind is the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from exchange.core.problems import Problem
from standards.sdmx.catalogue import LANGUAGES


class Kind(StrEnum):
    DATA = "data"
    STRUCTURE = "structure"


@dataclass(frozen=True)
class Representation:
    """One format we produce: ``key`` is what ``format=`` names, ``content_type`` what the
    response says, ``accepts`` the media types (without parameters) that select it."""

    key: str
    kind: Kind
    content_type: str
    accepts: tuple[str, ...]
    aliases: tuple[str, ...] = ()


SS_XML = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
GENERIC_XML = "application/vnd.sdmx.genericdata+xml;version=2.1"
SDMX_CSV = "application/vnd.sdmx.data+csv;version=2.0.0"
SDMX_JSON_DATA = "application/vnd.sdmx.data+json;version=2.0.0"
STRUCTURE_XML = "application/vnd.sdmx.structure+xml;version=2.1"
SDMX_JSON_STRUCTURE = "application/vnd.sdmx.structure+json;version=2.0.0"

REPRESENTATIONS: tuple[Representation, ...] = (
    # Data; the first is the default.
    Representation("structurespecificdata", Kind.DATA, SS_XML,
                   ("application/vnd.sdmx.structurespecificdata+xml", "application/xml",
                    "text/xml"), aliases=("sdmx-ml", "xml")),
    Representation("genericdata", Kind.DATA, GENERIC_XML,
                   ("application/vnd.sdmx.genericdata+xml",)),
    Representation("sdmx-csv", Kind.DATA, SDMX_CSV, ("application/vnd.sdmx.data+csv",),
                   aliases=("csvfilewithlabels",)),
    Representation("sdmx-json", Kind.DATA, SDMX_JSON_DATA,
                   ("application/vnd.sdmx.data+json",), aliases=("jsondata",)),
    Representation("csv", Kind.DATA, "text/csv; charset=utf-8", ("text/csv",)),
    Representation("json", Kind.DATA, "application/json", ("application/json",)),
    # Structures; the first is the default.
    Representation("structure", Kind.STRUCTURE, STRUCTURE_XML,
                   ("application/vnd.sdmx.structure+xml", "application/xml", "text/xml"),
                   aliases=("sdmx-ml", "xml")),
    Representation("sdmx-json", Kind.STRUCTURE, SDMX_JSON_STRUCTURE,
                   ("application/vnd.sdmx.structure+json", "application/json"),
                   aliases=("json", "structure+json")),
)


def _ranges(accept: str) -> list[tuple[str, float, int, str | None]]:
    """(media type without parameters, q, position, its ``version`` parameter), best first;
    q=0 ranges dropped."""
    ranges = []
    for position, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q, version = 1.0, None
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            elif name.strip().lower() == "version":
                version = value.strip().strip('"')
        if q > 0:
            ranges.append((media, q, position, version))
    # More specific ranges win ties, then the caller's order.
    return sorted(ranges, key=lambda r: (-r[1], r[0].count("*"), r[2]))


def _media_ranges(accept: str) -> list[tuple[str, float, int]]:
    return [(media, q, position) for media, q, position, _v in _ranges(accept)]


def _version_ok(asked: str | None, content_type: str) -> bool:
    """Whether the SDMX format version asked for (``2``, ``2.0.0``, ``2.1``, or a semantic
    wildcard such as ``2+.0.0``) is the one we write: SDMX-CSV 1.0 and 2.0 are different
    layouts, so a version we do not write is not acceptable, not silently replaced."""
    if asked is None:
        return True
    ours = content_type.partition("version=")[2]
    if not ours:
        return True
    wanted = [p for p in asked.replace("+", "").split(".") if p]
    have = ours.split(".")
    return bool(wanted) and all(w == h for w, h in zip(wanted, have, strict=False))


def negotiate(kind: Kind, *, accept: str | None, format_param: str | None = None
              ) -> Representation:
    """The representation for a request: ``format=`` first, else the best ``Accept`` match,
    else the kind's default. 406 names what we produce."""
    candidates = [r for r in REPRESENTATIONS if r.kind == kind]
    if format_param:
        wanted = format_param.strip().lower()
        for r in candidates:
            if wanted == r.key or wanted in r.aliases:
                return r
        raise not_acceptable(kind, f"format={format_param}")
    if not accept or not accept.strip():
        return candidates[0]
    for media, _q, _pos, version in _ranges(accept):
        if media in ("*/*", "application/*"):
            return candidates[0]
        if media == "text/*":
            return next((r for r in candidates if r.content_type.startswith("text/")),
                        candidates[0])
        for r in candidates:
            if media in r.accepts and (not media.startswith("application/vnd.sdmx")
                                       or _version_ok(version, r.content_type)):
                return r
    raise not_acceptable(kind, f"Accept: {accept}")


def not_acceptable(kind: Kind, asked: str) -> Problem:
    produced = [r.content_type for r in REPRESENTATIONS if r.kind == kind]
    formats = sorted({r.key for r in REPRESENTATIONS if r.kind == kind})
    return Problem(406, "not-acceptable", "Not acceptable",
                   f"We do not produce {kind} as asked ({asked}).",
                   produced=produced, formats=formats)


def language(accept_language: str | None) -> str:
    """The best of our label languages for ``Accept-Language``; English otherwise."""
    if not accept_language:
        return "en"
    for media, _q, _pos in _media_ranges(accept_language):
        primary = media.split("-")[0]
        if primary in LANGUAGES:
            return primary
        if primary == "*":
            return "en"
    return "en"


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether the caller takes a gzip-compressed body (``Accept-Encoding``)."""
    if not accept_encoding:
        return False
    for coding, _q, _pos in _media_ranges(accept_encoding):
        if coding in ("gzip", "x-gzip", "*"):
            return True
    return False


def entity_tags(if_none_match: str | None) -> set[str] | None:
    """The entity tags of an ``If-None-Match`` header, weak ones compared as strong (RFC 9110
    weak comparison, what a GET's revalidation uses); None without the header."""
    if if_none_match is None:
        return None
    return {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
