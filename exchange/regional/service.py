"""Regional tables and whom they expect.

A regional table for a quarter sums the observations of the states that *take part* in the
region (participation is voluntary: the Regional Cooperation Framework is "non-binding",
001 lines 212-214) from their first quarter on, and only of those whose current harmonized
revision their National Coordinator signed off (001 lines ~625-638). Its coverage says which
participants are included, which have data awaiting sign-off and which sent nothing; members
that do not take part are neither summed nor reported missing.

Tables are rebuilt when something they depend on changes: a member's observations (the
pipeline's ``aggregate`` stage), a sign-off (``exchange.coordination``) or a region's
participants (here). A rebuild that finds its table fresh does nothing. Functions take the
caller's session and never commit: the request, task or command owns the transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from exchange.audit.service import Action, record
from exchange.auth import policy
from exchange.auth.principal import Principal
from exchange.core.columns import utcnow
from exchange.core.problems import Problem, not_found
from exchange.harmonization.models import Observation, ObservationKey
from exchange.regional.models import (
    Participant,
    RegionalCoverage,
    RegionalObservation,
    RegisteredRegion,
)
from exchange.submissions.models import Dataset, Submission
from exchange.submissions.status import ReviewDecision
from standards import load_standard

# Participation starts with a quarter; emergency weeks count from their quarter on.
QUARTER_PATTERN = r"^[0-9]{4}-Q[1-4]$"
# The dimensions a regional table keeps (every observation key column; REF_AREA is summed over).
KEY_COLUMNS = tuple(ObservationKey.model_fields)

# --- participants --------------------------------------------------------------------------


def ensure_participants(session: Session, *, first_period: str) -> int:
    """Register the standard's regions the exchange does not know yet, each with every member
    as a participant from ``first_period`` (the documented default: an admin then removes the
    states that do not take part, or moves their first quarter). Regions registered before
    are left as the admins made them, except that states the standard no longer lists as
    members stop participating. Needs the states registered first
    (``exchange.accounts.service.ensure_states``). Returns how many participants were added."""
    standard = load_standard()
    known = set(session.exec(select(RegisteredRegion.id)).all())
    added = 0
    for region in standard.regions:
        members = sorted(standard.region_members(region))
        if region not in known:
            session.add(RegisteredRegion(id=region))
            session.flush()
            session.add_all([Participant(region=region, ref_area=m, first_period=first_period)
                             for m in members])
            record(session, actor="system", action=Action.REGION_REGISTERED,
                   target=f"region/{region}",
                   detail={"participants": members, "first_period": first_period})
            added += len(members)
            continue
        gone = session.exec(select(Participant).where(
            Participant.region == region,
            Participant.ref_area.not_in(members))).all()  # type: ignore[attr-defined]
        for participant in gone:
            session.delete(participant)
            record(session, actor="system", action=Action.PARTICIPANT_REMOVED,
                   target=f"region/{region}/participants/{participant.ref_area}",
                   detail={"reason": "no longer a member of the region in the standard"})
        if gone:
            _mark_region_stale(session, region)
    return added


def require_region(principal: Principal, permission: policy.Permission, region: str) -> None:
    """403 unless ``principal`` holds ``permission`` for ``region`` (``policy.require_region``
    with the region's members from the standard)."""
    policy.require_region(principal, permission, region, _members(region))


def list_participants(session: Session, region: str) -> list[Participant]:
    _members(region)
    return list(session.exec(select(Participant).where(Participant.region == region)
                             .order_by(Participant.ref_area)).all())


def set_participant(session: Session, *, region: str, ref_area: str, first_period: str,
                    actor: str) -> Participant:
    """Make a member state a participant of ``region`` from ``first_period`` (a quarter, or
    move its first quarter); the region's tables are rebuilt with the new expectation.
    Audited."""
    if not re.fullmatch(QUARTER_PATTERN, first_period):
        raise Problem(422, "not-a-quarter", "Not a quarter",
                      f"{first_period!r} is not a quarter (YYYY-Qn).")
    if ref_area not in _members(region):
        raise Problem(422, "not-a-member", "Not a member of the region",
                      f"{ref_area} is not a member of {region} in the standard; only members "
                      "can take part.")
    _lock_region(session, region)
    participant = session.get(Participant, (region, ref_area))
    previous = participant.first_period if participant else None
    if previous == first_period:
        return participant  # type: ignore[return-value]
    if participant is None:
        participant = Participant(region=region, ref_area=ref_area, first_period=first_period)
    participant.first_period = first_period
    participant.updated_at = utcnow()
    session.add(participant)
    record(session, actor=actor, action=Action.PARTICIPANT_SET,
           target=f"region/{region}/participants/{ref_area}",
           detail={"first_period": first_period, "previous_first_period": previous})
    refresh_region(session, region)
    return participant


def remove_participant(session: Session, *, region: str, ref_area: str, actor: str) -> None:
    """A state stops taking part in ``region``: its tables no longer expect or sum it. Audited."""
    _members(region)
    _lock_region(session, region)
    participant = session.get(Participant, (region, ref_area))
    if participant is None:
        raise not_found(f"Participant {ref_area} of {region}")
    session.delete(participant)
    record(session, actor=actor, action=Action.PARTICIPANT_REMOVED,
           target=f"region/{region}/participants/{ref_area}",
           detail={"first_period": participant.first_period})
    refresh_region(session, region)


def expected_states(session: Session, region: str, period: str) -> list[str]:
    """The participants a region's table for ``period`` expects: members taking part from
    ``period``'s quarter or earlier (quarters ``YYYY-Qn`` order as strings)."""
    members = _members(region)
    return sorted(session.exec(select(Participant.ref_area).where(
        Participant.region == region, Participant.first_period <= quarter_of(period),
        Participant.ref_area.in_(members))).all())  # type: ignore[attr-defined]


def quarter_of(period: str) -> str:
    """The quarter of a period: itself, or for an emergency week (``YYYY-Www``, ISO 8601) the
    quarter of its Thursday, the day that places an ISO week in its year."""
    year, _, rest = period.partition("-")
    if not rest.startswith("W"):
        return period
    try:
        thursday = date.fromisocalendar(int(year), int(rest[1:]), 4)
    except ValueError:  # W53 of a year of 52 weeks: the pattern allows it, the calendar not
        return f"{year}-Q4"
    return f"{thursday.year}-Q{(thursday.month - 1) // 3 + 1}"


def _members(region: str) -> frozenset[str]:
    standard = load_standard()
    if region not in standard.regions:
        raise not_found(f"Region {region}")
    return standard.region_members(region)


def _lock_region(session: Session, region: str) -> None:
    """The region's row, created if needed and locked: participation changes of one region
    are serialized (two admins adding the same state do not both insert it)."""
    if session.get(RegisteredRegion, region) is None:
        try:
            with session.begin_nested():
                session.add(RegisteredRegion(id=region))
        except sa.exc.IntegrityError:
            pass  # registered concurrently
    session.exec(select(RegisteredRegion).where(RegisteredRegion.id == region)
                 .with_for_update()).one()


# --- coverage ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageView:
    """A regional table's coverage as callers see it. ``stale``: a rebuild is due (the lists
    are those of the last rebuild); ``updated_at`` None: nothing was reported for the quarter
    yet, so every expected participant is missing."""

    region: str
    period: str
    included: list[str]
    provisional: list[str]
    awaiting_signoff: list[str]
    missing: list[str]
    stale: bool
    updated_at: datetime | None

    @property
    def expected(self) -> list[str]:
        return sorted({*self.included, *self.awaiting_signoff, *self.missing})


def coverage(session: Session, *, region: str, period: str) -> CoverageView:
    row = session.get(RegionalCoverage, (region, period))
    if row is None:
        return CoverageView(region, period, [], [], [], expected_states(session, region, period),
                            stale=False, updated_at=None)
    _members(region)
    return CoverageView(region, period, list(row.included), list(row.provisional),
                        list(row.awaiting_signoff), list(row.missing), row.stale,
                        row.updated_at)


# --- rebuilding ----------------------------------------------------------------------------


def mark_regions_stale(session: Session, ref_area: str, period: str) -> None:
    for region in load_standard().regions_of(ref_area):
        _ensure_coverage(session, region, period)
        session.execute(sa.update(RegionalCoverage).where(
            RegionalCoverage.region == region, RegionalCoverage.period == period)
            .values(stale=True))


def rebuild_regional(session: Session, ref_area: str, period: str) -> list[str]:
    """Recompute every stale regional table that includes ``ref_area`` for ``period``; returns
    the regions rebuilt."""
    return [region for region in load_standard().regions_of(ref_area)
            if rebuild_region(session, region, period)]


def refresh_region(session: Session, region: str) -> int:
    """Rebuild every quarter's table of ``region`` (its participants changed); returns how
    many. One INSERT ... SELECT per quarter reported, so it fits in a request."""
    periods = _mark_region_stale(session, region)
    return sum(rebuild_region(session, region, period) for period in periods)


def rebuild_stale(session: Session) -> int:
    """Rebuild every table marked stale and not rebuilt since (after a migration, or a
    participant pruned at upgrade); returns how many."""
    due = session.exec(select(RegionalCoverage.region, RegionalCoverage.period).where(
        RegionalCoverage.stale.is_(True))).all()  # type: ignore[attr-defined]
    known = load_standard().regions
    return sum(rebuild_region(session, region, period) for region, period in due
               if region in known)


def rebuild_region(session: Session, region: str, period: str) -> bool:
    """Recompute one region's table for ``period`` if it is stale.

    Its rows are replaced as a whole under a lock on its coverage row, so two workers
    rebuilding the same region never interleave, and one that finds it fresh does nothing.
    Sums count the expected participants whose current harmonized revision is signed off.
    """
    _ensure_coverage(session, region, period)
    row = session.exec(select(RegionalCoverage).where(
        RegionalCoverage.region == region, RegionalCoverage.period == period)
        .with_for_update()).one()
    if not row.stale:
        return False
    expected = expected_states(session, region, period)
    reviews = dict(session.exec(
        select(Dataset.ref_area, Submission.review)
        .join(Submission, sa.and_(Submission.dataset_id == Dataset.id,
                                  Submission.revision == Dataset.harmonized_revision))
        .where(Dataset.period == period, Dataset.harmonized_revision > 0,
               Dataset.ref_area.in_(expected))).all())  # type: ignore[attr-defined]
    included = sorted(a for a, review in reviews.items() if review == ReviewDecision.SIGNED_OFF)
    session.execute(sa.delete(RegionalObservation).where(
        RegionalObservation.region == region, RegionalObservation.period == period))
    o = Observation.__table__.c
    bands = _shared_age_bands(session, period, included)
    keys = [o[k] for k in KEY_COLUMNS]
    summed = (
        sa.select(sa.literal(region), *keys, sa.func.sum(o.value),
                  sa.func.count())  # one row per state and key
        .where(o.period == period, o.ref_area.in_(included), o.value.is_not(None),
               o.age.in_(bands))
        .group_by(*keys)
    )
    r = RegionalObservation.__table__.c
    session.execute(sa.insert(RegionalObservation).from_select(
        [r.region, *(r[k] for k in KEY_COLUMNS), r.value, r.states], summed))
    row.included = included
    row.age_bands = bands
    row.provisional = sorted(session.execute(
        sa.select(o.ref_area).distinct().where(o.period == period, o.obs_status == "P",
                                               o.ref_area.in_(included))).scalars())
    row.awaiting_signoff = sorted(a for a in reviews if a not in included)
    row.missing = [a for a in expected if a not in reviews]
    row.stale = False
    row.updated_at = utcnow()
    session.add(row)
    return True


def _mark_region_stale(session: Session, region: str) -> list[str]:
    periods = list(session.exec(select(RegionalCoverage.period).where(
        RegionalCoverage.region == region).order_by(RegionalCoverage.period)).all())
    session.execute(sa.update(RegionalCoverage).where(RegionalCoverage.region == region)
                    .values(stale=True))
    return periods


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
