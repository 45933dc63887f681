"""SDMX REST structure queries, pure: the path and parameters clients send, parsed into a
query, and the query resolved against the catalogue into the artefacts to return.

Both path forms are read: SDMX 2.1 (``{resource}/{agency}/{id}/{version}[/{item}]``, and the
``structure`` resource for every type) and SDMX 3.0 (``structure/{type}/{agency}/{id}/{version}
[/{item}]``). Clients differ in what they send, so every spelling means the same thing:
``all``/``*`` for any agency, id or item; ``latest``/``~``/``+``/``all``/``*`` or a missing
segment for the version (the catalogue holds one version of each artefact, the standard's);
``,`` or ``+`` between several ids; a trailing slash. Errors carry the HTTP status the
specification gives them (400 malformed, 404 nothing matches, 501 not implemented) so the web
layer only translates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from standards.sdmx.artefacts import Artefact, ArtefactType, Graph
from standards.sdmx.catalogue import Categorisation, Dataflow, DataStructure

ANY = frozenset({"all", "*"})
ANY_VERSION = frozenset({"all", "*", "latest", "~", "+"})
# Every structure type of SDMX 2.1 and 3.0 REST: a query for one we do not publish is valid
# and matches nothing (404), where an unknown word is malformed (400).
SDMX_TYPES = frozenset({
    "datastructure", "metadatastructure", "categoryscheme", "conceptscheme", "codelist",
    "hierarchicalcodelist", "hierarchy", "hierarchyassociation", "valuelist", "agencyscheme",
    "dataproviderscheme", "metadataproviderscheme", "dataconsumerscheme",
    "organisationunitscheme", "organisationscheme", "dataflow", "metadataflow",
    "reportingtaxonomy", "provisionagreement", "metadataprovisionagreement", "structureset",
    "structuremap", "representationmap", "conceptschememap", "categoryschememap",
    "organisationschememap", "reportingtaxonomymap", "process", "categorisation",
    "contentconstraint", "dataconstraint", "metadataconstraint", "attachmentconstraint",
    "actualconstraint", "allowedconstraint", "transformationscheme", "rulesetscheme",
    "userdefinedoperatorscheme", "customtypescheme", "namepersonalisationscheme",
    "vtlmappingscheme"})
REFERENCE_MODES = frozenset({"none", "parents", "parentsandsiblings", "ancestors", "children",
                             "descendants", "all"})
DETAILS = frozenset({"full", "allstubs", "referencestubs", "allcompletestubs",
                     "referencecompletestubs", "referencepartial", "raw"})
ID = re.compile(r"^[A-Za-z0-9_@$\-]+(\.[A-Za-z0-9_@$\-]+)*$")
VERSION = re.compile(r"^\d+\+?(\.\d+\+?){0,2}$")
SEPARATORS = re.compile(r"[,+]")


class StructureQueryError(Exception):
    """A query we answer with an error: ``status`` is the HTTP status SDMX REST gives it."""

    def __init__(self, status: int, slug: str, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail


def malformed(detail: str) -> StructureQueryError:
    return StructureQueryError(400, "malformed-query", "Malformed query", detail)


def nothing_matches(detail: str) -> StructureQueryError:
    return StructureQueryError(404, "not-found", "No results", detail)


def not_implemented(detail: str) -> StructureQueryError:
    return StructureQueryError(501, "not-implemented", "Not implemented", detail)


@dataclass(frozen=True)
class StructureQuery:
    """What was asked. None means any (agency, id, version, item); ``types`` None means every
    type, an empty set a type we do not publish."""

    types: frozenset[ArtefactType] | None
    agencies: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    versions: frozenset[str] | None = None
    items: frozenset[str] | None = None
    references: frozenset[str] = frozenset({"none"})
    detail: str = "full"
    asked: str = ""


def _types(word: str) -> frozenset[ArtefactType] | None:
    if word in ANY or word == "structure":
        return None
    kind = ArtefactType.of(word)
    if kind is not None:
        return frozenset({kind})
    if word in SDMX_TYPES:
        return frozenset()
    raise malformed(f"{word!r} is not an SDMX structure type.")


def _ids(segment: str, what: str) -> frozenset[str] | None:
    values = SEPARATORS.split(segment)
    if any(v in ANY for v in values):
        return None
    for v in values:
        if not ID.match(v):
            raise malformed(f"{v!r} is not a valid {what}.")
    return frozenset(values)


def _versions(segment: str) -> frozenset[str] | None:
    values = segment.split(",")
    if any(v in ANY_VERSION for v in values):
        return None
    for v in values:
        if not VERSION.match(v) or v.count("+") > 1:
            raise malformed(f"{v!r} is not a version (1.0.0, latest, ~, +, all or *).")
    return frozenset(values)


def _split(path: str) -> list[str]:
    segments = path.strip("/").split("/")
    if segments == [""]:
        return []
    if "" in segments:
        raise malformed("The path has an empty segment (two slashes in a row).")
    return segments


def parse(path: str, params: Mapping[str, str] | None = None) -> StructureQuery:
    """The query for ``path`` (what follows the API's base, e.g. ``dataflow/MMX/all/latest``
    or ``structure/codelist/MMX/CL_SEX``) and its query parameters."""
    params = params or {}
    segments = _split(path)
    if not segments:
        raise malformed("Name a structure type: dataflow, datastructure, codelist, ...")
    head, rest = segments[0], segments[1:]
    if head == "structure" and rest and (rest[0] in SDMX_TYPES or rest[0] in ANY):
        head, rest = rest[0], rest[1:]  # SDMX 3.0: structure/{type}/...
    types = _types(head)
    if len(rest) > 4:
        raise malformed("Too many path segments: {type}/{agency}/{id}/{version}/{item} at most.")
    agency, id_, version, item = (rest + [None] * 4)[:4]  # type: ignore[list-item]
    items = _ids(item, "item id") if item is not None else None
    if item is not None and (types is None or any(not t.is_item_scheme for t in types)):
        raise malformed("Only item schemes (codelist, conceptscheme, categoryscheme) have "
                        "items to select.")
    if "asOf" in params or "asof" in params:
        raise not_implemented("asOf: the catalogue holds the current standard only.")
    return StructureQuery(
        types=types,
        agencies=_ids(agency, "agency id") if agency is not None else None,
        ids=_ids(id_, "artefact id") if id_ is not None else None,
        versions=_versions(version) if version is not None else None,
        items=items,
        references=_references(params.get("references")),
        detail=_detail(params.get("detail")),
        asked=path)


def _references(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset({"none"})
    out = set()
    for word in value.lower().split(","):
        word = word.strip()
        if word not in REFERENCE_MODES and word not in SDMX_TYPES:
            raise malformed(f"references={word!r}: use none, parents, parentsandsiblings, "
                            "ancestors, children, descendants, all or a structure type.")
        out.add(word)
    return frozenset(out)


def _detail(value: str | None) -> str:
    if not value:
        return "full"
    word = value.lower()
    if word not in DETAILS:
        raise malformed(f"detail={value!r}: use {', '.join(sorted(DETAILS))}.")
    return word


def version_matches(wanted: str, actual: str) -> bool:
    """Exact, or SDMX 3.0 semantic wildcards: ``2.0+.0`` is 2.0.0 or any later 2.x.y."""
    if "+" not in wanted:
        return wanted == actual
    parts = wanted.split(".")
    fixed = next(i for i, p in enumerate(parts) if p.endswith("+"))
    try:
        lower = [int(p.rstrip("+")) for p in parts]
        have = [int(p) for p in actual.split(".")]
    except ValueError:
        return False
    return have[:fixed] == lower[:fixed] and have >= lower


# --- resolution -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """An artefact in the answer: as a stub (identification and names only; ``complete``
    adds descriptions) or in full, with all its items or only ``items`` (isPartial)."""

    artefact: Artefact
    stub: bool = False
    complete: bool = False
    items: frozenset[str] | None = None

    @property
    def partial(self) -> bool:
        return self.items is not None

    def keeps(self, item: str) -> bool:
        return self.items is None or item in self.items


@dataclass(frozen=True)
class Selection:
    """The artefacts a query returns, in SDMX-ML container order."""

    entries: tuple[Entry, ...]
    matched: frozenset[tuple[str, str, str, str]] = field(default_factory=frozenset)

    def of_type(self, kind: ArtefactType) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.artefact.type is kind)


def _matches(query: StructureQuery, a: Artefact) -> bool:
    return ((query.types is None or a.type in query.types)
            and (query.agencies is None or a.agency in query.agencies)
            and (query.ids is None or a.id in query.ids)
            and (query.versions is None
                 or any(version_matches(v, a.version) for v in query.versions))
            and (query.items is None or bool(query.items & set(a.items))))


def _closure(start: Iterable[Artefact], step: Mapping[tuple, tuple[Artefact, ...]]
             ) -> dict[tuple, Artefact]:
    seen: dict[tuple, Artefact] = {}
    todo = list(start)
    while todo:
        for nxt in step[todo.pop().key]:
            if nxt.key not in seen:
                seen[nxt.key] = nxt
                todo.append(nxt)
    return seen


def _one_step(start: Iterable[Artefact], step: Mapping[tuple, tuple[Artefact, ...]]
              ) -> dict[tuple, Artefact]:
    return {n.key: n for a in start for n in step[a.key]}


def references_of(matched: list[Artefact], modes: frozenset[str], graph: Graph
                  ) -> dict[tuple, Artefact]:
    """The artefacts ``references`` adds to the matched ones."""
    out: dict[tuple, Artefact] = {}
    parents = _one_step(matched, graph.parents)
    siblings = _one_step(parents.values(), graph.children)
    for mode in modes:
        if mode == "children":
            out |= _one_step(matched, graph.children)
        elif mode == "descendants":
            out |= _closure(matched, graph.children)
        elif mode == "parents":
            out |= parents
        elif mode == "parentsandsiblings":
            out |= parents | siblings
        elif mode == "ancestors":
            out |= _closure(matched, graph.parents)
        elif mode == "all":
            out |= parents | siblings | _closure(matched, graph.children)
        elif mode != "none":  # a type: those of it related either way
            related = (_closure(matched, graph.children) | _closure(matched, graph.parents)
                       | parents | siblings)
            out |= {k: a for k, a in related.items() if a.type.resource == mode}
    return out


def _partial_items(entry_artefact: Artefact, returned: list[Artefact]) -> frozenset[str] | None:
    """For detail=referencepartial: the items of a referenced item scheme that the returned
    artefacts use (codes the returned dataflows' constraints allow, concepts of the returned
    structures, categories of the returned categorisations); None when all are used."""
    kind = entry_artefact.type
    if kind is ArtefactType.CODELIST:
        allowed: set[str] | None = None
        for a in returned:
            if not isinstance(a.obj, Dataflow):
                continue
            for dim in a.obj.structure.dimensions:
                if dim.codelist is not None and dim.codelist.id == entry_artefact.id:
                    codes = a.obj.constraint.get(dim.id)
                    if codes is None:
                        return None
                    allowed = (allowed or set()) | set(codes)
        return frozenset(allowed) if allowed is not None else None
    if kind is ArtefactType.CONCEPTSCHEME:
        used = {c.id for a in returned if isinstance(a.obj, DataStructure)
                for c in a.obj.components}
        return frozenset(used) if used else None
    if kind is ArtefactType.CATEGORYSCHEME:
        used = {a.obj.category.id for a in returned if isinstance(a.obj, Categorisation)}
        return frozenset(used) if used else None
    return None


def resolve(query: StructureQuery, graph: Graph) -> Selection:
    """The selection ``query`` asks for; 404 when nothing matches."""
    matched = [a for a in graph.artefacts if _matches(query, a)]
    if not matched:
        if query.types is not None and not query.types:
            raise nothing_matches("The exchange publishes dataflows, data structures, code "
                                  "lists, concept schemes, category schemes and "
                                  "categorisations only.")
        raise nothing_matches(f"No structure matches {query.asked!r}.")
    matched_keys = {a.key for a in matched}
    extra = {k: a for k, a in references_of(matched, query.references, graph).items()
             if k not in matched_keys}
    returned = matched + list(extra.values())
    detail = query.detail
    entries = []
    for a in returned:
        is_ref = a.key not in matched_keys
        stub = detail in ("allstubs", "allcompletestubs") or (
            is_ref and detail in ("referencestubs", "referencecompletestubs"))
        items: frozenset[str] | None = None
        if not is_ref and query.items is not None:
            items = query.items & frozenset(a.items)
        elif is_ref and detail == "referencepartial":
            items = _partial_items(a, returned)
        entries.append(Entry(artefact=a, stub=stub, complete=stub and "complete" in detail,
                             items=items))
    order = {t: i for i, t in enumerate(ArtefactType)}
    entries.sort(key=lambda e: (order[e.artefact.type], e.artefact.agency, e.artefact.id,
                                e.artefact.version))
    return Selection(entries=tuple(entries), matched=frozenset(matched_keys))


def schema_query(context: str, path: str) -> StructureQuery:
    """A SDMX 3.0 schema query (``schema/{context}/{agency}/{id}[/{version}]``): the structure
    the data of a dataflow or data structure must follow, i.e. the artefact with its
    descendants, code lists cut to what the dataflow's constraint allows."""
    if context not in ("dataflow", "datastructure", "provisionagreement"):
        raise malformed(f"{context!r} is not a schema context (dataflow, datastructure, "
                        "provisionagreement).")
    segments = _split(path)
    if len(segments) not in (2, 3):
        raise malformed("A schema query names {agency}/{id}[/{version}].")
    agency, id_ = segments[0], segments[1]
    version = segments[2] if len(segments) == 3 else "~"
    if agency in ANY or id_ in ANY or "," in agency + id_ or "+" in agency + id_:
        raise malformed("A schema query names one artefact: no wildcards or lists.")
    return StructureQuery(
        types=_types(context), agencies=_ids(agency, "agency id"), ids=_ids(id_, "artefact id"),
        versions=_versions(version), references=frozenset({"descendants"}),
        detail="referencepartial", asked=f"schema/{context}/{path.strip('/')}")
