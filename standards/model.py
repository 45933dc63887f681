"""Typed objects for the standard, so callers never poke into raw YAML dictionaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class SourceRef:
    """Where a code comes from in the seed documents (file name and 1-based line)."""

    file: str
    line: int
    quote: str = ""


@dataclass(frozen=True)
class Code:
    id: str
    name: dict[str, str]
    description: dict[str, str] = field(default_factory=dict)
    source: tuple[SourceRef, ...] = ()
    # Code-list specific properties (``family`` for population groups, ``kind`` for measures,
    # ``child``/``lower``/``upper`` for age bands, ``total`` for totals).
    properties: dict[str, object] = field(default_factory=dict)
    # Other names of the code, accepted in uploads but never shown: for a country whose label was
    # replaced by a natural short name, the ISO 3166 names it replaced ("Киргизия").
    aliases: tuple[str, ...] = ()

    def label(self, lang: str = "en") -> str:
        return self.name.get(lang) or self.name.get("en") or self.id


@dataclass(frozen=True)
class Codelist:
    id: str
    version: str
    name: dict[str, str]
    codes: tuple[Code, ...]

    @cached_property
    def by_id(self) -> dict[str, Code]:
        return {c.id: c for c in self.codes}

    @cached_property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.codes)

    def __contains__(self, code_id: object) -> bool:
        return code_id in self.by_id

    def label(self, lang: str = "en") -> str:
        return self.name.get(lang) or self.name.get("en") or self.id


@dataclass(frozen=True)
class Additivity:
    """A breakdown whose parts must add up to a total code of the same dimension."""

    dimension: str
    total: str
    parts: tuple[str, ...]
    # Checked only where one of these parts is given (empty: any part). Y_LT18 + Y_GE18 + _U
    # = _T is not judged in a file that gives bands and _U but no coarse totals.
    anchors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Default:
    """How a column left out of a file is filled: a constant code, or a code read from another
    column's value (``from``: FREQ from the period's form, COUNTERPART_AREA and UNIT_MEASURE
    from the measure)."""

    default: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Dimension:
    id: str
    name: dict[str, str]
    position: int
    codelist: Codelist | None = None
    pattern: str | None = None
    additivity: Additivity | None = None
    default: Default | None = None
    # Every other code of the dimension is a subset of this one (never summed into it).
    subsets_of: str | None = None
    # The dimension's codes belong to band systems (CL_AGE ``systems``): a file uses one and
    # adds up within it.
    band_systems: bool = False

    @property
    def column(self) -> str:
        """The database column of the dimension (TIME_PERIOD is ``period``)."""
        return "period" if self.id == "TIME_PERIOD" else self.id.lower()


@dataclass(frozen=True)
class Attribute:
    id: str
    name: dict[str, str]
    codelist: Codelist
    required: bool = False
    # Codes that allow (and require) an empty OBS_VALUE.
    missing_codes: tuple[str, ...] = ()
    # Codes a submitter may send; None: all of the code list.
    upload_codes: tuple[str, ...] | None = None
    default: Default | None = None

    @property
    def column(self) -> str:
        return self.id.lower()


@dataclass(frozen=True)
class Region:
    id: str
    name: dict[str, str]
    members: tuple[str, ...]
    subregions: tuple[str, ...] = ()
    description: dict[str, str] = field(default_factory=dict)
    source: tuple[SourceRef, ...] = ()


@dataclass(frozen=True)
class IdentifierRule:
    kind: str
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class MicrodataRule:
    min_rows: int
    max_share_of_ones: float
    exact_age_pattern: str
    date_pattern: str


@dataclass(frozen=True)
class Standard:
    """One version of the DSD with everything it references."""

    id: str
    agency: str
    version: str
    name: dict[str, str]
    dimensions: tuple[Dimension, ...]
    measure: str
    attributes: tuple[Attribute, ...]
    codelists: dict[str, Codelist]
    regions: dict[str, Region]
    identifier_rules: tuple[IdentifierRule, ...]
    microdata: MicrodataRule
    additivity_tolerance: int = 0
    # privacy.yaml's ``disclosure`` section as read (thresholds of published tables);
    # ``standards.disclosure.load_parameters`` types it.
    disclosure: dict[str, object] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        """The SDMX dataflow reference used in SDMX-CSV (``AGENCY:ID(VERSION)``)."""
        return f"{self.agency}:{self.id}({self.version})"

    @cached_property
    def dimension_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)

    @cached_property
    def dimension(self) -> dict[str, Dimension]:
        return {d.id: d for d in self.dimensions}

    @cached_property
    def attribute(self) -> dict[str, Attribute]:
        return {a.id: a for a in self.attributes}

    @cached_property
    def upload_attributes(self) -> tuple[Attribute, ...]:
        """Attributes a submitter may send (all of them; some with a restricted set of codes)."""
        return self.attributes

    @cached_property
    def upload_columns(self) -> tuple[str, ...]:
        return (*self.dimension_ids, self.measure, *(a.id for a in self.upload_attributes))

    @cached_property
    def required_columns(self) -> tuple[str, ...]:
        """Columns a file must have: the dimensions that have no default, and OBS_VALUE."""
        return (*(d.id for d in self.dimensions if d.default is None), self.measure)

    @cached_property
    def status_attribute(self) -> Attribute | None:
        """The attribute whose codes mark a value as missing (OBS_STATUS)."""
        return next((a for a in self.attributes if a.missing_codes), None)

    @cached_property
    def codelist_columns(self) -> tuple[str, ...]:
        """Upload columns whose values come from a code list (dimensions and attributes)."""
        coded = [d.id for d in self.dimensions if d.codelist is not None]
        return (*coded, *(a.id for a in self.upload_attributes))

    @cached_property
    def additive_breakdowns(self) -> tuple[Additivity, ...]:
        """Breakdowns that hold in every file: a dimension's total over its parts (band systems
        aside: see ``standards.bands``) and every code declared as the sum of ``parts``."""
        out: list[Additivity] = []
        for d in self.dimensions:
            if d.additivity is not None and not d.band_systems:
                out.append(d.additivity)
            if d.codelist is None or d.band_systems:
                continue
            out.extend(Additivity(dimension=d.id, total=c.id, parts=tuple(c.properties["parts"]))
                       for c in d.codelist.codes if c.properties.get("parts"))
        return tuple(out)

    def region_members(self, region_id: str) -> frozenset[str]:
        """Members of a region including those of its sub-regions, transitively."""
        region = self.regions[region_id]
        members = set(region.members)
        for sub in region.subregions:
            members |= self.region_members(sub)
        return frozenset(members)

    def regions_of(self, area: str) -> tuple[str, ...]:
        return tuple(r for r in self.regions if area in self.region_members(r))
