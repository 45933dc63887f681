"""Age band systems: which breakdowns a file's age bands must satisfy, and which coarser bands
the exchange can derive from finer ones.

UNHCR's and Eurostat's bands cross at 14, 35 and 65, so CL_AGE holds base bands that nest into
both, each band tagged with the ``systems`` it belongs to. A file reports in one system (plus the
coarse Y_LT18/Y_GE18, _U and _T) and adds up within it; a band's ``parts`` say how it is built
from base bands, which is what harmonization uses to put every state on the same bands.
"""

from __future__ import annotations

from collections.abc import Iterable

from standards.model import Additivity, Codelist, Dimension, Standard

# Systems a file may use, in the order a shared band is attributed to them.
SYSTEMS = ("base", "unhcr", "eurostat")
COARSE = "coarse"


def _bands(codelist: Codelist, system: str) -> list[str]:
    return [c.id for c in codelist.codes if system in (c.properties.get("systems") or ())]


def _is_child(codelist: Codelist, code: str) -> bool:
    return bool(codelist.by_id[code].properties.get("child"))


def band_system(codelist: Codelist, used: Iterable[str]) -> str | None:
    """The system a file's bands belong to: the first of ``SYSTEMS`` holding all of them,
    ``coarse`` when it uses none (only Y_LT18/Y_GE18/_U/_T), None when they mix systems."""
    banded = {c for c in used if c in codelist and set(
        codelist.by_id[c].properties.get("systems") or ()) & set(SYSTEMS)}
    if not banded:
        return COARSE
    return next((s for s in SYSTEMS if banded <= set(_bands(codelist, s))), None)


def mixed_bands(codelist: Codelist, used: Iterable[str]) -> list[str]:
    """For a file that mixes systems: the bands outside the system most of its bands are in."""
    banded = [c for c in used if c in codelist and set(
        codelist.by_id[c].properties.get("systems") or ()) & set(SYSTEMS)]
    best = max(SYSTEMS, key=lambda s: sum(c in _bands(codelist, s) for c in banded))
    return sorted(c for c in banded if c not in _bands(codelist, best))


def system_breakdowns(dim: Dimension, system: str) -> tuple[Additivity, ...]:
    """The breakdowns of a file in ``system``: its bands plus _U make _T, its bands under 18
    make Y_LT18 and the others Y_GE18, and Y_LT18 + Y_GE18 + _U make _T."""
    codelist = dim.codelist
    assert codelist is not None and dim.additivity is not None
    total = dim.additivity.total
    unknown = [c for c in ("_U",) if c in codelist]
    coarse = _bands(codelist, COARSE)
    if system == COARSE:
        return (Additivity(dim.id, total, (*coarse, *unknown)),)
    out = [Additivity(dim.id, total, (*coarse, *unknown), anchors=tuple(coarse))]
    bands = _bands(codelist, system)
    children = tuple(b for b in bands if _is_child(codelist, b))
    adults = tuple(b for b in bands if not _is_child(codelist, b))
    out.append(Additivity(dim.id, total, (*bands, *unknown)))
    for code in coarse:
        out.append(Additivity(dim.id, code, children if _is_child(codelist, code) else adults))
    return tuple(out)


def derivations(dim: Dimension) -> tuple[Additivity, ...]:
    """Every way a band can be derived, finest first: the UNHCR and Eurostat bands from base
    bands, Y_LT18 and Y_GE18 from any system's bands, _T from them. Harmonization applies
    them in order, each where its parts are complete and the band is not given."""
    codelist = dim.codelist
    assert codelist is not None and dim.additivity is not None
    out = [Additivity(dim.id, c.id, tuple(c.properties["parts"])) for c in codelist.codes
           if c.properties.get("parts") and COARSE not in (c.properties.get("systems") or ())]
    for system in SYSTEMS:
        out.extend(a for a in system_breakdowns(dim, system)
                   if a.total != dim.additivity.total)
    out.extend(a for a in system_breakdowns(dim, COARSE))
    unique: dict[tuple[str, tuple[str, ...]], Additivity] = {}
    for a in out:
        unique.setdefault((a.total, a.parts), a)
    return tuple(unique.values())


def breakdowns_for(standard: Standard, used: dict[str, set[str]]
                   ) -> tuple[tuple[Additivity, ...], dict[str, list[str]]]:
    """The breakdowns a file must satisfy given the codes it uses per dimension, and, per
    band-system dimension whose bands mix systems, the offending bands (then that dimension's
    breakdowns are left out: they cannot be judged)."""
    out = list(standard.additive_breakdowns)
    mixed: dict[str, list[str]] = {}
    for dim in standard.dimensions:
        if not dim.band_systems or dim.codelist is None:
            continue
        system = band_system(dim.codelist, used.get(dim.id, set()))
        if system is None:
            mixed[dim.id] = mixed_bands(dim.codelist, used.get(dim.id, set()))
            continue
        out.extend(system_breakdowns(dim, system))
    return tuple(out), mixed


def all_derivations(standard: Standard) -> tuple[Additivity, ...]:
    """Every total harmonization may derive, in order: per dimension in DSD order, the
    breakdowns that hold in every file, band systems by ``derivations``."""
    out: list[Additivity] = []
    for dim in standard.dimensions:
        if dim.band_systems:
            out.extend(derivations(dim))
        else:
            out.extend(a for a in standard.additive_breakdowns if a.dimension == dim.id)
    return tuple(out)
