"""The indicators as data: ``standards/data/indicators.yaml`` read by its one loader into typed
definitions, checked against the standard (every dimension and code a formula names exists,
every ``by`` is a breakdown of the indicator DSD, a change refers to an indicator that is not
itself a change), so a typo in the file fails at load time, not in a release."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from standards.loader import DATA_DIR, load_standard, read_data_file
from standards.model import Code, SourceRef, Standard

# Not applicable: the code of a breakdown an indicator does not break down by (SDMX _Z).
NOT_APPLICABLE = "_Z"
# The release dimensions a formula may select on: every dimension of the standard except the
# area (each area is evaluated alone) and the period (each period is evaluated alone).
Selection = Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class Sum:
    """The selected cells of an area grouped by ``by`` and summed."""

    select: Selection
    by: tuple[str, ...]


@dataclass(frozen=True)
class Ratio:
    """Sum of the numerator's cells over the sum of the denominator's, per group, times
    ``scale``."""

    numerator: Selection
    denominator: Selection
    by: tuple[str, ...]
    scale: float = 1.0


@dataclass(frozen=True)
class Change:
    """Percentage change of indicator ``of`` against ``lag[FREQ]`` periods earlier."""

    of: str
    lag: Mapping[str, int]


@dataclass(frozen=True)
class Coverage:
    """Participating states included over participating states of each region, in percent."""


Formula = Sum | Ratio | Change | Coverage


@dataclass(frozen=True)
class Indicator:
    id: str
    name: Mapping[str, str]
    description: Mapping[str, str]
    formula: Formula
    unit: str
    part: str  # the Regional Action Plan part it serves (I to IV)
    decimals: int
    source: tuple[SourceRef, ...]
    # The formula as the file writes it, for the definitions the API serves.
    declared: Mapping[str, Any] = field(default_factory=dict)

    @property
    def by(self) -> tuple[str, ...]:
        """The breakdown dimensions of its values."""
        formula = self.formula
        return formula.by if isinstance(formula, Sum | Ratio) else ()


@dataclass(frozen=True)
class Breakdown:
    """A breakdown dimension of the indicator DSD: its code list is the standard's
    ``based_on`` plus the not-applicable code, published under its own id."""

    id: str
    codelist_id: str
    based_on: str


@dataclass(frozen=True)
class IndicatorStructure:
    """The indicator DSD as declared (``standards.sdmx.catalogue`` builds the SDMX one)."""

    id: str
    name: Mapping[str, str]
    description: Mapping[str, str]
    indicator_codelist_id: str
    indicator_codelist_name: Mapping[str, str]
    indicator_concept: Mapping[str, str]
    not_applicable: Code
    breakdowns: tuple[Breakdown, ...]
    measure_id: str
    measure_name: Mapping[str, str]
    measure_type: str
    attributes: tuple[str, ...]


@dataclass(frozen=True)
class Part:
    id: str
    name: Mapping[str, str]
    source: tuple[SourceRef, ...]


@dataclass(frozen=True)
class Indicators:
    """Everything indicators.yaml declares."""

    version: str
    parts: tuple[Part, ...]
    parts_source: tuple[SourceRef, ...]
    units_id: str
    units_name: Mapping[str, str]
    units: tuple[Code, ...]
    structure: IndicatorStructure
    indicators: tuple[Indicator, ...] = field(default_factory=tuple)

    @property
    def by_id(self) -> dict[str, Indicator]:
        return {i.id: i for i in self.indicators}

    @property
    def breakdown_ids(self) -> tuple[str, ...]:
        return tuple(b.id for b in self.structure.breakdowns)

    @property
    def part(self) -> dict[str, Part]:
        return {p.id: p for p in self.parts}

    def breakdowns_of(self, indicator: Indicator) -> tuple[str, ...]:
        """The dimensions an indicator's values are broken down by (a change: those of the
        indicator it compares)."""
        formula = indicator.formula
        if isinstance(formula, Change):
            return self.by_id[formula.of].by
        return indicator.by

    def measures(self) -> frozenset[str] | None:
        """Every MEASURE a formula reads, so callers load only those cells of a release;
        None when some formula reads cells of any measure."""
        selections: list[Selection] = []
        for indicator in self.indicators:
            formula = indicator.formula
            if isinstance(formula, Sum):
                selections.append(formula.select)
            elif isinstance(formula, Ratio):
                selections += [formula.numerator, formula.denominator]
        if any("MEASURE" not in s for s in selections):
            return None
        return frozenset().union(*(s["MEASURE"] for s in selections))


def _sources(raw: list[dict[str, Any]] | None) -> tuple[SourceRef, ...]:
    return tuple(SourceRef(file=s["file"], line=int(s["line"]), quote=s.get("quote", ""))
                 for s in raw or ())


def _code(raw: dict[str, Any]) -> Code:
    return Code(id=str(raw["id"]), name=dict(raw["name"]),
                description=dict(raw.get("description") or {}), source=_sources(raw.get("source")))


class IndicatorError(ValueError):
    """indicators.yaml says something the standard cannot mean."""


def _selection(owner: str, raw: Mapping[str, Any] | None, standard: Standard) -> Selection:
    out: dict[str, frozenset[str]] = {}
    for dim, codes in (raw or {}).items():
        dimension = standard.dimension.get(dim)
        if dimension is None or dim in ("REF_AREA", "TIME_PERIOD") or dimension.codelist is None:
            raise IndicatorError(f"{owner}: cannot select on {dim!r}")
        wanted = frozenset([codes] if isinstance(codes, str) else codes)
        unknown = sorted(c for c in wanted if c not in dimension.codelist)
        if unknown:
            raise IndicatorError(f"{owner}: {dim} has no codes {unknown}")
        out[dim] = wanted
    return out


def _formula(owner: str, raw: dict[str, Any], standard: Standard,
             breakdowns: tuple[str, ...]) -> Formula:
    if len(raw) != 1:
        raise IndicatorError(f"{owner}: a formula has exactly one form, got {sorted(raw)}")
    (kind, spec), = raw.items()
    spec = spec or {}
    if kind in ("sum", "ratio"):
        by = tuple(spec.get("by") or ())
        if not set(by) <= set(breakdowns):
            raise IndicatorError(f"{owner}: breaks down by {sorted(set(by) - set(breakdowns))}, "
                                 f"not breakdowns of the indicator DSD {list(breakdowns)}")
        select = _selection(owner, spec.get("select"), standard)
        if kind == "sum":
            return Sum(select=select, by=by)
        return Ratio(numerator={**select, **_selection(owner, spec["numerator"], standard)},
                     denominator={**select, **_selection(owner, spec["denominator"], standard)},
                     by=by, scale=float(spec.get("scale", 1)))
    if kind == "change":
        lag = spec["lag"]
        freqs = standard.codelists["CL_FREQ"].ids
        lags = {f: int(lag) for f in freqs} if isinstance(lag, int) else {
            str(f): int(n) for f, n in lag.items()}
        if not set(lags) <= set(freqs) or any(n < 1 for n in lags.values()):
            raise IndicatorError(f"{owner}: lag {lag!r} is not a positive number of periods "
                                 f"per frequency of {list(freqs)}")
        return Change(of=str(spec["of"]), lag=lags)
    if kind == "coverage":
        return Coverage()
    raise IndicatorError(f"{owner}: unknown formula {kind!r} (sum, ratio, change, coverage)")


def indicators_from(raw: dict[str, Any], standard: Standard) -> Indicators:
    """Typed and checked definitions from the parsed file."""
    s = raw["structure"]
    breakdowns = tuple(Breakdown(id=b["id"], codelist_id=b["codelist"]["id"],
                                 based_on=b["codelist"]["from"]) for b in s["breakdowns"])
    for b in breakdowns:
        if b.id not in standard.dimension or b.based_on not in standard.codelists:
            raise IndicatorError(f"breakdown {b.id}: not a dimension with code list {b.based_on}")
    structure = IndicatorStructure(
        id=s["id"], name=dict(s["name"]), description=dict(s.get("description") or {}),
        indicator_codelist_id=s["indicator_codelist"]["id"],
        indicator_codelist_name=dict(s["indicator_codelist"]["name"]),
        indicator_concept=dict(s["indicator_codelist"]["concept"]),
        not_applicable=_code(s["not_applicable"]), breakdowns=breakdowns,
        measure_id=s["measure"]["id"], measure_name=dict(s["measure"]["name"]),
        measure_type=s["measure"]["text_type"], attributes=tuple(s["attributes"]))
    parts = tuple(Part(id=str(p["id"]), name=dict(p["name"]), source=_sources(p.get("source")))
                  for p in raw["action_plan"]["parts"])
    units = tuple(_code(u) for u in raw["units"]["codes"])
    by_id = [b.id for b in breakdowns]
    indicators = []
    for item in raw["indicators"]:
        owner = f"indicator {item['id']}"
        indicator = Indicator(
            id=str(item["id"]), name=dict(item["name"]),
            description=dict(item.get("description") or {}),
            formula=_formula(owner, item["formula"], standard, tuple(by_id)),
            unit=str(item["unit"]), part=str(item["part"]), decimals=int(item["decimals"]),
            source=_sources(item.get("source")), declared=dict(item["formula"]))
        if indicator.part not in {p.id for p in parts}:
            raise IndicatorError(f"{owner}: no Regional Action Plan part {indicator.part!r}")
        if indicator.unit not in {u.id for u in units}:
            raise IndicatorError(f"{owner}: no unit {indicator.unit!r}")
        indicators.append(indicator)
    known = {i.id: i for i in indicators}
    if len(known) != len(indicators):
        raise IndicatorError("indicator ids are not unique")
    for indicator in indicators:
        if isinstance(indicator.formula, Change):
            base = known.get(indicator.formula.of)
            if base is None or isinstance(base.formula, Change | Coverage):
                raise IndicatorError(f"indicator {indicator.id}: a change of "
                                     f"{indicator.formula.of!r}, which is not a sum or ratio")
    return Indicators(
        version=str(raw["version"]), parts=parts,
        parts_source=_sources(raw["action_plan"].get("source")),
        units_id=raw["units"]["id"], units_name=dict(raw["units"]["name"]), units=units,
        structure=structure, indicators=tuple(indicators))


def load_indicators_from(path: Path, standard: Standard) -> Indicators:
    return indicators_from(read_data_file(path), standard)


@cache
def load_indicators() -> Indicators:
    """The indicators of the current standard, loaded once per process."""
    return load_indicators_from(DATA_DIR / "indicators.yaml", load_standard())
