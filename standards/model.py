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


@dataclass(frozen=True)
class Dimension:
    id: str
    name: dict[str, str]
    position: int
    codelist: Codelist | None = None
    pattern: str | None = None
    additivity: Additivity | None = None


@dataclass(frozen=True)
class Attribute:
    id: str
    name: dict[str, str]
    codelist: Codelist
    required: bool = False
    published_only: bool = False
    missing_code: str | None = None


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
        """Attributes a submitter may send; ``published_only`` ones are set by the exchange."""
        return tuple(a for a in self.attributes if not a.published_only)

    @cached_property
    def upload_columns(self) -> tuple[str, ...]:
        return (*self.dimension_ids, self.measure, *(a.id for a in self.upload_attributes))

    @cached_property
    def codelist_columns(self) -> tuple[str, ...]:
        """Upload columns whose values come from a code list (dimensions and attributes)."""
        coded = [d.id for d in self.dimensions if d.codelist is not None]
        return (*coded, *(a.id for a in self.upload_attributes))

    @cached_property
    def additive_breakdowns(self) -> tuple[Additivity, ...]:
        return tuple(d.additivity for d in self.dimensions if d.additivity is not None)

    def region_members(self, region_id: str) -> frozenset[str]:
        """Members of a region including those of its sub-regions, transitively."""
        region = self.regions[region_id]
        members = set(region.members)
        for sub in region.subregions:
            members |= self.region_members(sub)
        return frozenset(members)

    def regions_of(self, area: str) -> tuple[str, ...]:
        return tuple(r for r in self.regions if area in self.region_members(r))
