"""Regional tables: every member state's current observations summed per region, quarter and
key, with coverage (included, provisional, missing states). Rebuilt when a member's
observations change; a rebuild that finds its table fresh does nothing."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from exchange.core.columns import utcnow
from exchange.harmonization.models import Observation
from exchange.regional.models import RegionalCoverage, RegionalObservation
from standards import load_standard


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
        summed = (
            sa.select(sa.literal(region), o.period, o.pop_group, o.measure, o.citizenship, o.sex,
                      o.age, sa.func.sum(o.value), sa.func.count())  # one row per state and key
            .where(o.period == period, o.ref_area.in_(members), o.value.is_not(None))
            .group_by(o.period, o.pop_group, o.measure, o.citizenship, o.sex, o.age)
        )
        r = RegionalObservation.__table__.c
        session.execute(sa.insert(RegionalObservation).from_select(
            [r.region, r.period, r.pop_group, r.measure, r.citizenship, r.sex, r.age, r.value,
             r.states], summed))
        included = sorted(session.execute(
            sa.select(o.ref_area).distinct().where(o.period == period,
                                                   o.ref_area.in_(members))).scalars())
        provisional = sorted(session.execute(
            sa.select(o.ref_area).distinct().where(o.period == period, o.obs_status == "P",
                                                   o.ref_area.in_(members))).scalars())
        coverage.included = included
        coverage.provisional = provisional
        coverage.missing = [m for m in members if m not in included]
        coverage.stale = False
        coverage.updated_at = utcnow()
        session.add(coverage)
        rebuilt.append(region)
    return rebuilt


def _ensure_coverage(session: Session, region: str, period: str) -> None:
    if session.get(RegionalCoverage, (region, period)) is None:
        try:
            with session.begin_nested():
                session.add(RegionalCoverage(region=region, period=period))
        except sa.exc.IntegrityError:
            pass  # created concurrently
