"""Regional tables: every member state's current observations summed per region, quarter and
key, with coverage (included, provisional, missing states). Rebuilt when a member's
observations change; a rebuild that finds its table fresh does nothing."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from exchange.core.columns import utcnow
from exchange.harmonization.models import Observation, ObservationKey
from exchange.regional.models import RegionalCoverage, RegionalObservation
from standards import load_standard

# The dimensions a regional table keeps (every observation key column; REF_AREA is summed over).
KEY_COLUMNS = tuple(ObservationKey.model_fields)


def mark_regions_stale(session: Session, ref_area: str, period: str) -> None:
    for region in load_standard().regions_of(ref_area):
        _ensure_coverage(session, region, period)
        session.execute(sa.update(RegionalCoverage).where(
            RegionalCoverage.region == region, RegionalCoverage.period == period)
            .values(stale=True))


def rebuild_regional(session: Session, ref_area: str, period: str) -> list[str]:
    """Recompute every stale regional table that includes ``ref_area`` for ``period``.

    Each region's rows are replaced as a whole under a lock on its coverage row, so two workers
    rebuilding the same region never interleave, and one that finds it fresh does nothing.
    Returns the regions rebuilt.
    """
    standard = load_standard()
    rebuilt = []
    for region in standard.regions_of(ref_area):
        members = sorted(standard.region_members(region))
        _ensure_coverage(session, region, period)
        coverage = session.exec(select(RegionalCoverage).where(
            RegionalCoverage.region == region, RegionalCoverage.period == period)
            .with_for_update()).one()
        if not coverage.stale:
            continue
        session.execute(sa.delete(RegionalObservation).where(
            RegionalObservation.region == region, RegionalObservation.period == period))
        o = Observation.__table__.c
        included = sorted(session.execute(
            sa.select(o.ref_area).distinct().where(o.period == period,
                                                   o.ref_area.in_(members))).scalars())
        bands = _shared_age_bands(session, period, included)
        keys = [o[k] for k in KEY_COLUMNS]
        summed = (
            sa.select(sa.literal(region), *keys, sa.func.sum(o.value),
                      sa.func.count())  # one row per state and key
            .where(o.period == period, o.ref_area.in_(members), o.value.is_not(None),
                   o.age.in_(bands))
            .group_by(*keys)
        )
        r = RegionalObservation.__table__.c
        session.execute(sa.insert(RegionalObservation).from_select(
            [r.region, *(r[k] for k in KEY_COLUMNS), r.value, r.states], summed))
        provisional = sorted(session.execute(
            sa.select(o.ref_area).distinct().where(o.period == period, o.obs_status == "P",
                                                   o.ref_area.in_(members))).scalars())
        coverage.included = included
        coverage.provisional = provisional
        coverage.missing = [m for m in members if m not in included]
        coverage.age_bands = bands
        coverage.stale = False
        coverage.updated_at = utcnow()
        session.add(coverage)
        rebuilt.append(region)
    return rebuilt


def _shared_age_bands(session: Session, period: str, states: list[str]) -> list[str]:
    """The age bands every one of ``states`` has for ``period`` (harmonization derived every
    band each state's own bands allow): a regional band is summed only where all contribute,
    so a state reporting Eurostat bands and one reporting UNHCR bands meet on the bands they
    share, at least under-18 / 18+ / total."""
    o = Observation.__table__.c
    shared: set[str] | None = None
    for state in states:
        bands = set(session.execute(sa.select(o.age).distinct().where(
            o.period == period, o.ref_area == state)).scalars())
        shared = bands if shared is None else shared & bands
    order = load_standard().codelists["CL_AGE"].ids
    return [code for code in order if code in (shared or set())]


def _ensure_coverage(session: Session, region: str, period: str) -> None:
    if session.get(RegionalCoverage, (region, period)) is None:
        try:
            with session.begin_nested():
                session.add(RegionalCoverage(region=region, period=period))
        except sa.exc.IntegrityError:
            pass  # created concurrently
