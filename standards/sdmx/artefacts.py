"""The catalogue as SDMX maintainable artefacts: one uniform view (type, agency, id, version,
names, and what each references) that the structure queries select from and the writers walk.

The types are listed in the order the SDMX-ML 2.1 schema wants their containers in
``mes:Structures`` (Dataflows, CategorySchemes, Categorisations, Codelists, Concepts,
DataStructures); pysdmx validates messages against that XSD, so the order is not cosmetic.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum

from standards.model import Codelist
from standards.sdmx.catalogue import (
    Catalogue,
    Categorisation,
    CategoryScheme,
    ConceptScheme,
    Dataflow,
    DataStructure,
)

URN_PREFIX = "urn:sdmx:org.sdmx.infomodel"


class ArtefactType(Enum):
    """(REST resource name, SDMX class, package, SDMX-ML container, SDMX-JSON key, item class).
    Declaration order is the SDMX-ML 2.1 container order."""

    DATAFLOW = ("dataflow", "Dataflow", "datastructure", "Dataflows", "dataflows", None)
    CATEGORYSCHEME = ("categoryscheme", "CategoryScheme", "categoryscheme", "CategorySchemes",
                      "categorySchemes", "Category")
    CATEGORISATION = ("categorisation", "Categorisation", "categoryscheme", "Categorisations",
                      "categorisations", None)
    CODELIST = ("codelist", "Codelist", "codelist", "Codelists", "codelists", "Code")
    CONCEPTSCHEME = ("conceptscheme", "ConceptScheme", "conceptscheme", "Concepts",
                     "conceptSchemes", "Concept")
    DATASTRUCTURE = ("datastructure", "DataStructure", "datastructure", "DataStructures",
                     "dataStructures", None)

    def __init__(self, resource: str, cls: str, package: str, container: str, json_key: str,
                 item_class: str | None) -> None:
        self.resource = resource
        self.cls = cls
        self.package = package
        self.container = container
        self.json_key = json_key
        self.item_class = item_class

    @classmethod
    def of(cls, resource: str) -> ArtefactType | None:
        return next((t for t in cls if t.resource == resource), None)

    @property
    def is_item_scheme(self) -> bool:
        return self.item_class is not None


ArtefactObject = Dataflow | DataStructure | Codelist | ConceptScheme | CategoryScheme \
    | Categorisation


@dataclass(frozen=True)
class Artefact:
    type: ArtefactType
    agency: str
    id: str
    version: str
    name: Mapping[str, str]
    obj: ArtefactObject

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.type.resource, self.agency, self.id, self.version)

    @property
    def urn(self) -> str:
        return maintainable_urn(self.type, self.agency, self.id, self.version)

    @property
    def items(self) -> tuple[str, ...]:
        """The ids of an item scheme's items (codes, concepts, categories); () otherwise."""
        obj = self.obj
        if isinstance(obj, Codelist):
            return obj.ids
        if isinstance(obj, ConceptScheme):
            return tuple(obj.concepts)
        if isinstance(obj, CategoryScheme):
            return tuple(c.id for c in obj.categories)
        return ()


def maintainable_urn(kind: ArtefactType, agency: str, id: str, version: str) -> str:
    return f"{URN_PREFIX}.{kind.package}.{kind.cls}={agency}:{id}({version})"


def item_urn(kind: ArtefactType, agency: str, scheme: str, version: str, item: str) -> str:
    return f"{URN_PREFIX}.{kind.package}.{kind.item_class}={agency}:{scheme}({version}).{item}"


@dataclass(frozen=True)
class Graph:
    """Every artefact of the catalogue, and which references which (children) and the reverse
    (parents), by artefact key."""

    artefacts: tuple[Artefact, ...]
    children: Mapping[tuple[str, str, str, str], tuple[Artefact, ...]]
    parents: Mapping[tuple[str, str, str, str], tuple[Artefact, ...]]

    def by_key(self) -> dict[tuple[str, str, str, str], Artefact]:
        return {a.key: a for a in self.artefacts}


def _artefacts(catalogue: Catalogue) -> Iterator[Artefact]:
    agency = catalogue.agency
    for flow in catalogue.dataflows.values():
        yield Artefact(ArtefactType.DATAFLOW, flow.agency, flow.id, flow.version, flow.name,
                       flow)
    scheme = catalogue.category_scheme
    yield Artefact(ArtefactType.CATEGORYSCHEME, scheme.agency, scheme.id, scheme.version,
                   scheme.name, scheme)
    for cat in catalogue.categorisations.values():
        yield Artefact(ArtefactType.CATEGORISATION, cat.agency, cat.id, cat.version, cat.name,
                       cat)
    for codelist in catalogue.codelists.values():
        yield Artefact(ArtefactType.CODELIST, agency, codelist.id, codelist.version,
                       codelist.name, codelist)
    concepts = catalogue.concept_scheme
    yield Artefact(ArtefactType.CONCEPTSCHEME, concepts.agency, concepts.id, concepts.version,
                   concepts.name, concepts)
    for structure in catalogue.structures.values():
        yield Artefact(ArtefactType.DATASTRUCTURE, structure.agency, structure.id,
                       structure.version, structure.name, structure)


def build_graph(catalogue: Catalogue) -> Graph:
    artefacts = tuple(_artefacts(catalogue))
    index = {(a.type, a.id): a for a in artefacts}
    concept_scheme = index[(ArtefactType.CONCEPTSCHEME, catalogue.concept_scheme.id)]
    children: dict[tuple[str, str, str, str], tuple[Artefact, ...]] = {}
    for a in artefacts:
        obj = a.obj
        refs: list[Artefact] = []
        if isinstance(obj, Dataflow):
            refs = [index[(ArtefactType.DATASTRUCTURE, obj.structure.id)]]
        elif isinstance(obj, DataStructure):
            refs = [index[(ArtefactType.CODELIST, cl.id)] for cl in obj.codelists]
            refs.append(concept_scheme)
        elif isinstance(obj, Categorisation):
            refs = [index[(ArtefactType.DATAFLOW, obj.dataflow.id)],
                    index[(ArtefactType.CATEGORYSCHEME, catalogue.category_scheme.id)]]
        children[a.key] = tuple(refs)
    parents: dict[tuple[str, str, str, str], list[Artefact]] = {a.key: [] for a in artefacts}
    for a in artefacts:
        for child in children[a.key]:
            parents[child.key].append(a)
    return Graph(artefacts=artefacts, children=children,
                 parents={k: tuple(v) for k, v in parents.items()})

