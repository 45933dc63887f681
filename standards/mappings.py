"""Mapping tables (aliases, nested age bands, older versions) and the pure functions that apply
them to a frame's distinct values. No I/O beyond loading the YAML once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from standards.bands import COARSE, band_system
from standards.loader import CURRENT_VERSION, DATA_DIR, load_standard, read_data_file
from standards.model import Standard

BAND = re.compile(r"^Y(\d+)T(\d+)$|^Y_GE(\d+)$")


@dataclass(frozen=True)
class Move:
    """Rows whose columns hold every ``when`` value get the ``set`` values (several columns at
    once: 1.0.0's POP_GROUP=VOT became POP_GROUP=_T, SPEC_NEED=VOT)."""

    when: dict[str, str]
    set: dict[str, str]


@dataclass(frozen=True)
class Step:
    """What lifts a file of one version of the standard to the next one."""

    source: str
    target: str
    moves: tuple[Move, ...] = ()
    renames: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> old -> new


@dataclass(frozen=True)
class Mappings:
    aliases: dict[str, dict[str, str]]  # dimension -> casefolded variant -> code
    steps: dict[str, Step]  # older version -> the step to the next one

    def known_versions(self) -> tuple[str, ...]:
        return (CURRENT_VERSION, *sorted(self.steps, reverse=True))

    def chain(self, version: str) -> list[Step]:
        """The steps from ``version`` to the current one (none for the current version)."""
        steps = []
        while version != CURRENT_VERSION and version in self.steps:
            steps.append(self.steps[version])
            version = self.steps[version].target
        return steps


@dataclass
class MappingLog:
    """What was mapped, for the report: (kind, dimension, from, to) -> rows."""

    applied: dict[tuple[str, str, str, str], int] = field(default_factory=dict)

    def add(self, kind: str, dim: str, source: str, target: str, rows: int) -> None:
        key = (kind, dim, source, target)
        self.applied[key] = self.applied.get(key, 0) + rows

    def notes(self, limit: int = 20) -> list[str]:
        lines = [f"Mapped {dim} '{src}' -> {dst} ({kind}, {rows:,} rows)."
                 for (kind, dim, src, dst), rows in sorted(self.applied.items())[:limit]]
        if len(self.applied) > limit:
            lines.append(f"... and {len(self.applied) - limit} more mappings.")
        return lines


def _country_names(standard: Standard) -> dict[str, str]:
    """alpha-2, official, common, English, French and Russian names of every ISO country ->
    alpha-3, taken from the loaded CL_AREA (the loader already reads pycountry once): its labels
    and the ISO names a label replaced (``aliases``), so 'Киргизия' and 'Кыргызстан' both map."""
    names: dict[str, str] = {}
    for code in standard.codelists["CL_AREA"].codes:
        variants = {str(code.properties.get("alpha_2", "")),
                    str(code.properties.get("common_name", "")),
                    *code.name.values(), *code.description.values(), *code.aliases}
        for variant in variants - {""}:
            names[variant.casefold()] = code.id
    return names


@cache
def load_mappings() -> Mappings:
    raw = read_data_file(DATA_DIR / "mappings.yaml")
    countries = _country_names(load_standard())
    aliases: dict[str, dict[str, str]] = {}
    for dim, table in raw["aliases"].items():
        base = dict(countries) if dim in ("CITIZENSHIP", "REF_AREA") else {}
        base.update({str(k).casefold(): str(v) for k, v in table.items()})
        aliases[dim] = base
    steps = {
        str(v): Step(
            source=str(v), target=str(raw_step["to"]),
            moves=tuple(Move(when={k: str(x) for k, x in m["when"].items()},
                             set={k: str(x) for k, x in m["set"].items()})
                        for m in raw_step.get("move") or ()),
            renames={d: {str(a): str(b) for a, b in t.items()}
                     for d, t in (raw_step.get("rename") or {}).items()},
        )
        for v, raw_step in raw["versions"].items()
    }
    return Mappings(aliases=aliases, steps=steps)


def known_versions() -> tuple[str, ...]:
    """Versions an upload may declare: the current one and those the mapping tables lift."""
    return load_mappings().known_versions()


def nest_target(code: str, standard: Standard, system: str | None = None) -> str | None:
    """The narrowest standard age band a national band lies in, or None (straddles them all, or
    not a band). With the ``system`` of the file's other bands, only that system's bands and
    the coarse Y_LT18/Y_GE18 are candidates, so a national band joins the file's system (Y18T24
    in a UNHCR file goes to Y18T59, in a Eurostat or base file to Y18T34)."""
    match = BAND.match(code)
    if not match:
        return None
    low = int(match.group(1) or match.group(3))
    high = int(match.group(2)) if match.group(2) else None
    fits: list[tuple[float, int, str]] = []
    for band in standard.codelists["CL_AGE"].codes:
        lo, hi = band.properties.get("lower"), band.properties.get("upper")
        systems = set(band.properties.get("systems") or ())  # type: ignore[call-overload]
        if lo is None or (system is not None and not systems & {system, COARSE}):
            continue
        if low >= int(lo) and (hi is None or (high is not None and high <= int(hi))):
            width = float("inf") if hi is None else int(hi) - int(lo)  # type: ignore[arg-type]
            # Open-ended bands are all infinitely wide: the narrowest starts highest.
            fits.append((width, -int(lo), band.id))  # type: ignore[call-overload]
    return min(fits)[2] if fits else None


def value_map(vocabulary: list[str], dim: str, standard: Standard, mappings: Mappings
              ) -> dict[str, tuple[str, str]]:
    """For the distinct values of one column: value -> (code, kind), for values that are not
    codes already but that an alias or the age nesting maps. Works on distinct values, never
    on rows. (Codes of older versions are lifted before, step by step.)"""
    codelist = standard.dimension[dim].codelist if dim in standard.dimension else None
    if codelist is None:
        return {}
    aliases = mappings.aliases.get(dim, {})
    system = None
    if dim == "AGE":  # the system of the file's standard bands, if they name one
        found = band_system(codelist, [v for v in vocabulary if v in codelist])
        system = found if found not in (None, COARSE) else None
    out: dict[str, tuple[str, str]] = {}
    for value in vocabulary:
        if value.strip().upper() in codelist:
            continue  # a code padded or in lower case: flagged with a hint, not silently fixed
        if value.strip().casefold() in aliases:
            out[value] = (aliases[value.strip().casefold()], "alias")
        elif dim == "AGE" and (target := nest_target(value.strip(), standard, system)) is not None:
            out[value] = (target, "nested band")
    return out
