"""The SDMX artefacts the exchange publishes, built from the standard: structures (DSDs), their
code lists and concepts, the dataflows and the categories that organise them.

Every SDMX writer (SDMX-ML, SDMX-JSON, SDMX-CSV) and every REST route reads this one catalogue,
so an id, a label or a version is declared once in ``standards/data`` and never typed again.
Published tables hold regions beside states, so the published DSD's REF_AREA takes a code list
of both (``ref_area_codelist`` in dataflows.yaml), generated from CL_AREA and regions.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from standards.indicators import load_indicators
from standards.loader import DATA_DIR, load_standard, read_data_file
from standards.model import Code, Codelist, SourceRef, Standard

LANGUAGES = ("en", "fr", "ru")


@dataclass(frozen=True)
class Component:
    """A dimension, the measure or an attribute of a structure. ``codelist`` is None for a
    free representation (TIME_PERIOD, OBS_VALUE)."""

    id: str
    name: Mapping[str, str]
    codelist: Codelist | None = None
    # The concept's core representation as SDMX names it, for free components.
    text_type: str | None = None
    # An attribute every observation must carry (SDMX assignmentStatus Mandatory).
    mandatory: bool = False


@dataclass(frozen=True)
class DataStructure:
    id: str
    agency: str
    version: str
    name: Mapping[str, str]
    # The last one is the time dimension (TIME_PERIOD), as SDMX orders them.
    dimensions: tuple[Component, ...]
    measure: Component
    # Observation-level attributes.
    attributes: tuple[Component, ...]
    description: Mapping[str, str] = field(default_factory=dict)

    @property
    def time_dimension(self) -> Component:
        return self.dimensions[-1]

    @property
    def key_dimensions(self) -> tuple[Component, ...]:
        """The dimensions of a series key (all but time)."""
        return self.dimensions[:-1]

    @property
    def components(self) -> tuple[Component, ...]:
        return (*self.dimensions, self.measure, *self.attributes)

    @property
    def codelists(self) -> tuple[Codelist, ...]:
        seen: dict[str, Codelist] = {}
        for c in self.components:
            if c.codelist is not None:
                seen.setdefault(c.codelist.id, c.codelist)
        return tuple(seen.values())

    @property
    def urn(self) -> str:
        return f"{self.agency}:{self.id}({self.version})"


@dataclass(frozen=True)
class Category:
    id: str
    name: Mapping[str, str]


@dataclass(frozen=True)
class CategoryScheme:
    id: str
    agency: str
    version: str
    name: Mapping[str, str]
    categories: tuple[Category, ...]


@dataclass(frozen=True)
class ConceptScheme:
    id: str
    agency: str
    version: str
    name: Mapping[str, str]
    # Concept id -> names; every component of every structure is a concept here.
    concepts: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Dataflow:
    id: str
    agency: str
    version: str
    name: Mapping[str, str]
    structure: DataStructure
    category: str
    # Dimension id -> the codes this flow holds (FREQ Q for the quarters); others unconstrained.
    constraint: Mapping[str, frozenset[str]] = field(default_factory=dict)
    description: Mapping[str, str] = field(default_factory=dict)
    source: tuple[SourceRef, ...] = ()

    @property
    def urn(self) -> str:
        """``AGENCY:ID(VERSION)``, as SDMX-CSV's STRUCTURE_ID and references write it."""
        return f"{self.agency}:{self.id}({self.version})"


@dataclass(frozen=True)
class Categorisation:
    """Files a dataflow under a category of the category scheme (SDMX keeps this link as an
    artefact of its own, so a client can list the flows of a topic)."""

    id: str
    agency: str
    version: str
    name: Mapping[str, str]
    dataflow: Dataflow
    category: Category
    # The category scheme the category belongs to (its id), for the reference to it.
    scheme: str


@dataclass(frozen=True)
class Catalogue:
    agency: str
    structures: Mapping[str, DataStructure]
    dataflows: Mapping[str, Dataflow]
    concept_scheme: ConceptScheme
    category_scheme: CategoryScheme

    @cached_property
    def codelists(self) -> dict[str, Codelist]:
        """Every code list a published structure uses, by id."""
        out: dict[str, Codelist] = {}
        for structure in self.structures.values():
            for codelist in structure.codelists:
                out.setdefault(codelist.id, codelist)
        return out

    @cached_property
    def categorisations(self) -> dict[str, Categorisation]:
        """One per dataflow, named for it: the flow under its category."""
        categories = {c.id: c for c in self.category_scheme.categories}
        out: dict[str, Categorisation] = {}
        for flow in self.dataflows.values():
            category = categories[flow.category]
            out[f"CAT_{flow.id}"] = Categorisation(
                id=f"CAT_{flow.id}", agency=flow.agency, version=flow.version,
                name={lang: f"{label(flow.name, lang)} — {label(category.name, lang)}"
                      for lang in LANGUAGES},
                dataflow=flow, category=category, scheme=self.category_scheme.id)
        return out


def label(names: Mapping[str, str], lang: str = "en") -> str:
    """The name in ``lang``, falling back to English (every code has one)."""
    return names.get(lang) or names.get("en") or next(iter(names.values()), "")


def _ref_area_codelist(standard: Standard, spec: dict[str, Any]) -> Codelist:
    regions = tuple(
        Code(id=r.id, name=dict(r.name), description=dict(r.description), source=r.source,
             properties={"members": sorted(standard.region_members(r.id))})
        for r in standard.regions.values())
    return Codelist(id=str(spec["id"]), version=standard.version, name=dict(spec["name"]),
                    codes=(*standard.codelists["CL_AREA"].codes, *regions))


def mixed_movements_structure(standard: Standard, ref_area: Codelist) -> DataStructure:
    """The standard's DSD as published: REF_AREA takes states and regions."""
    dimensions = tuple(
        Component(id=d.id, name=d.name,
                  codelist=ref_area if d.id == "REF_AREA" else d.codelist,
                  text_type=None if d.codelist is not None else "ObservationalTimePeriod")
        for d in standard.dimensions)
    measure_name = {"en": "Observation value", "fr": "Valeur de l'observation",
                    "ru": "Значение наблюдения"}
    return DataStructure(
        id=standard.id, agency=standard.agency, version=standard.version, name=standard.name,
        dimensions=dimensions,
        measure=Component(id=standard.measure, name=measure_name, text_type="Integer"),
        attributes=tuple(Component(id=a.id, name=a.name, codelist=a.codelist,
                                   mandatory=a.required)
                         for a in standard.attributes))


def indicator_structure(standard: Standard, ref_area: Codelist) -> DataStructure:
    """The indicator DSD as indicators.yaml declares it: FREQ, REF_AREA (states and regions),
    INDICATOR (a code per definition, with its unit and Regional Action Plan part), the
    breakdown dimensions (the standard's code lists plus _Z, not applicable), TIME_PERIOD;
    a decimal OBS_VALUE; UNIT_MEASURE from the indicator units, OBS_STATUS and CONF_STATUS
    from the standard."""
    declared = load_indicators()
    spec = declared.structure
    indicators = Codelist(
        id=spec.indicator_codelist_id, version=standard.version,
        name=dict(spec.indicator_codelist_name),
        codes=tuple(Code(id=i.id, name=dict(i.name), description=dict(i.description),
                         source=i.source, properties={"unit": i.unit, "part": i.part})
                    for i in declared.indicators))
    dims = standard.dimension
    breakdowns = tuple(
        Component(id=b.id, name=dims[b.id].name, codelist=Codelist(
            id=b.codelist_id, version=standard.version,
            name=standard.codelists[b.based_on].name,
            codes=(*standard.codelists[b.based_on].codes, spec.not_applicable)))
        for b in spec.breakdowns)
    units = Codelist(id=declared.units_id, version=standard.version,
                     name=dict(declared.units_name), codes=declared.units)
    attributes = tuple(
        Component(id=a, name=standard.attribute[a].name,
                  codelist=units if a == "UNIT_MEASURE" else standard.attribute[a].codelist)
        for a in spec.attributes)
    return DataStructure(
        id=spec.id, agency=standard.agency, version=standard.version, name=dict(spec.name),
        description=dict(spec.description),
        dimensions=(Component(id="FREQ", name=dims["FREQ"].name, codelist=dims["FREQ"].codelist),
                    Component(id="REF_AREA", name=dims["REF_AREA"].name, codelist=ref_area),
                    Component(id="INDICATOR", name=dict(spec.indicator_concept),
                              codelist=indicators),
                    *breakdowns,
                    Component(id="TIME_PERIOD", name=dims["TIME_PERIOD"].name,
                              text_type="ObservationalTimePeriod")),
        measure=Component(id=spec.measure_id, name=dict(spec.measure_name),
                          text_type=spec.measure_type),
        attributes=attributes)


# Builders of the published structures, each given the standard and the REF_AREA code list
# of published data.
StructureBuilder = Callable[[Standard, Codelist], DataStructure]
STRUCTURE_BUILDERS: tuple[StructureBuilder, ...] = (mixed_movements_structure,
                                                    indicator_structure)


def build_catalogue(standard: Standard, spec: dict[str, Any]) -> Catalogue:
    ref_area = _ref_area_codelist(standard, spec["ref_area_codelist"])
    structures = {s.id: s for s in (build(standard, ref_area) for build in STRUCTURE_BUILDERS)}
    agency = str(spec["agency"])
    dataflows = {}
    for raw in spec["dataflows"]:
        flow = Dataflow(
            id=raw["id"], agency=agency, version=standard.version, name=raw["name"],
            structure=structures[raw["structure"]], category=raw["category"],
            constraint={k: frozenset(v) for k, v in (raw.get("constraint") or {}).items()},
            description=raw.get("description") or {},
            source=tuple(SourceRef(file=s["file"], line=int(s["line"]), quote=s.get("quote", ""))
                         for s in raw.get("source") or ()))
        dataflows[flow.id] = flow
    concepts: dict[str, Mapping[str, str]] = {}
    for structure in structures.values():
        for component in structure.components:
            concepts.setdefault(component.id, component.name)
    cats = spec["categories"]
    return Catalogue(
        agency=agency, structures=structures, dataflows=dataflows,
        concept_scheme=ConceptScheme(id="CS_MMX", agency=agency, version=standard.version,
                                     name={"en": "Concepts of the exchange",
                                           "fr": "Concepts de l'échange",
                                           "ru": "Понятия обмена"},
                                     concepts=concepts),
        category_scheme=CategoryScheme(
            id=cats["id"], agency=agency, version=standard.version, name=cats["name"],
            categories=tuple(Category(id=c["id"], name=c["name"])
                             for c in cats["items"])))


@cache
def load_catalogue() -> Catalogue:
    """The catalogue of the current standard, built once per process."""
    return build_catalogue(load_standard(), read_data_file(DATA_DIR / "dataflows.yaml"))
