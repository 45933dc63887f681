"""Releases: asked for (admin, calendar, coverage), built by the ``release`` stage (gather the
period's signed-off tables, protect them with ``standards.disclosure``, keep the protected cells
and the audit), and read back by whoever may see them.

A release is immutable: building it writes its cells once; a revision of the period is a new
release with the next number, audited together with every earlier one (their published cells
are constants an attacker knows). A release whose audit fails is ``refused``: none of its cells
is kept as published. Functions take the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlmodel import Session, select

from exchange.accounts.models import State
from exchange.audit.service import Action, record
from exchange.core.columns import utcnow
from exchange.core.db import session_scope
from exchange.core.outbox import Outbox
from exchange.core.problems import Problem, not_found
from exchange.harmonization.models import Observation, ObservationKey
from exchange.publication.models import Release, ReleaseAudit, ReleaseCalendar, ReleaseCell
from exchange.publication.status import ReleaseStatus, Trigger
from exchange.publication.vintages import forget_on_commit
from exchange.regional.models import RegionalCoverage, RegionalObservation
from standards import load_standard
from standards.disclosure import Protected, load_parameters, protect
from standards.disclosure import Release as EarlierRelease

STAGE = "release"
# The cell key, in the standard's column names (REF_AREA is AREA: a state or a region).
KEY = tuple(ObservationKey.model_fields)


def _column_names() -> dict[str, str]:
    """Observation columns -> the standard's dimension ids (TIME_PERIOD is ``period``)."""
    return {d.column: d.id for d in load_standard().dimensions if d.id != "REF_AREA"}


# --- asking for a release ----------------------------------------------------------------------

def request_release(session: Session, *, period: str, trigger: Trigger, requested_by: str,
                    notes: str | None = None, embargo_until: datetime | None = None) -> Release:
    """Queue the next release of ``period``; it is built by the workers. A release of the
    period already queued or building is returned instead (one at a time, in order)."""
    pending = session.exec(select(Release).where(
        Release.period == period, Release.next_stage.is_not(None))).first()  # type: ignore[union-attr]
    if pending is not None:
        return pending
    if not session.exec(select(RegionalCoverage).where(
            RegionalCoverage.period == period,
            sa.func.json_array_length(RegionalCoverage.included) > 0)).first():
        raise Problem(409, "nothing-to-release", "Nothing to release",
                      f"No regional table of {period} includes a signed-off state yet.")
    number = session.exec(select(sa.func.coalesce(sa.func.max(Release.number), 0)).where(
        Release.period == period)).one() + 1
    release = Release(period=period, number=number, status=ReleaseStatus.QUEUED,
                      next_stage=STAGE, trigger=trigger, requested_by=requested_by,
                      notes=notes, embargo_until=embargo_until,
                      standard_version=load_standard().version)
    session.add(release)
    session.flush()
    session.add(Outbox(release_id=release.id, stage=STAGE))
    record(session, actor=requested_by, action=Action.RELEASE_REQUESTED,
           target=f"release/{release.id}",
           detail={"period": period, "number": number, "trigger": str(trigger)})
    return release


def release_if_covered(session: Session, *, period: str, regions: list[str], share: float,
                       ) -> Release | None:
    """Queue a release of ``period`` when one of ``regions`` (tables just rebuilt) has at
    least ``share`` of its participants signed off and no release of the period covers that
    many of its states yet. ``share`` 0 turns it off."""
    if share <= 0:
        return None
    latest = session.exec(select(Release).where(Release.period == period)
                          .order_by(Release.number.desc())).first()  # type: ignore[attr-defined]
    for coverage in session.exec(select(RegionalCoverage).where(
            RegionalCoverage.period == period,
            RegionalCoverage.region.in_(regions))).all():  # type: ignore[attr-defined]
        expected = len(coverage.included) + len(coverage.awaiting_signoff) \
            + len(coverage.missing)
        if not coverage.included or len(coverage.included) < share * expected:
            continue
        released = len((latest.coverage.get(coverage.region) or {}).get("states", [])) \
            if latest is not None else 0
        if len(coverage.included) > released:
            return request_release(session, period=period, trigger=Trigger.COVERAGE,
                                   requested_by="system",
                                   notes=f"{coverage.region}: {len(coverage.included)} of "
                                   f"{expected} participants signed off.")
    return None


def schedule_release(session: Session, *, period: str, due_at: datetime, actor: str,
                     notes: str | None = None, embargo_until: datetime | None = None
                     ) -> ReleaseCalendar:
    entry = ReleaseCalendar(period=period, due_at=due_at, notes=notes,
                            embargo_until=embargo_until, created_by=actor)
    session.add(entry)
    session.flush()
    record(session, actor=actor, action=Action.RELEASE_SCHEDULED,
           target=f"release-calendar/{entry.id}",
           detail={"period": period, "due_at": due_at.isoformat()})
    return entry


def calendar(session: Session) -> list[ReleaseCalendar]:
    return list(session.exec(select(ReleaseCalendar).order_by(ReleaseCalendar.due_at)).all())


def release_due(database_url: str, now: datetime | None = None) -> list[int]:
    """Queue the releases of the calendar whose time has come (the workers' sweeper calls
    this on every pass); returns the releases queued. An entry whose period has nothing to
    release yet stays due and is tried again on the next pass."""
    queued = []
    with session_scope(database_url) as session:
        due = session.exec(select(ReleaseCalendar).where(
            ReleaseCalendar.release_id.is_(None),  # type: ignore[union-attr]
            ReleaseCalendar.due_at <= (now or utcnow())).with_for_update()).all()
        for entry in due:
            try:
                with session.begin_nested():
                    release = request_release(
                        session, period=entry.period, trigger=Trigger.CALENDAR,
                        requested_by=entry.created_by, notes=entry.notes,
                        embargo_until=entry.embargo_until)
            except Problem:
                continue
            entry.release_id = release.id
            session.add(entry)
            queued.append(int(release.id or 0))
    return queued


# --- building it (the ``release`` stage) -------------------------------------------------------

@dataclass(frozen=True)
class Built:
    """What the stage's work produced, for its short completing transaction."""

    protected: Protected
    coverage: dict[str, Any]


def build(database_url: str, release: Release, *, threads: int = 0) -> Built:
    """Gather the period's tables in a read-only transaction and protect them (no writing
    transaction is open while the solver runs). ``threads``: the solver's (0: one per core)."""
    with session_scope(database_url, writes=False) as session:
        cells, regions, consent, coverage = _inputs(session, release.period)
        previous = _earlier(session, release)
    parameters = replace(load_parameters(), threads=threads)
    protected = protect(cells, standard=load_standard(), parameters=parameters,
                        regions=regions, consent=consent, previous=previous)
    return Built(protected=protected, coverage=coverage)


def _inputs(session: Session, period: str
            ) -> tuple[pl.DataFrame, dict[str, tuple[str, ...]], dict[str, bool], dict[str, Any]]:
    """The regional tables of the period (as the ``aggregate`` stage built them: signed-off
    participants only, on the age bands they share), the national cells of every state they
    include, the states' consent, and the coverage the release will state."""
    names = _column_names()
    coverages = session.exec(select(RegionalCoverage).where(
        RegionalCoverage.period == period)).all()
    regions = {c.region: tuple(c.included) for c in coverages if c.included}
    if not regions:
        raise Problem(409, "nothing-to-release", "Nothing to release",
                      f"No regional table of {period} includes a signed-off state yet.")
    states = sorted({s for members in regions.values() for s in members})
    r = RegionalObservation.__table__.c
    regional = pl.DataFrame(
        session.execute(sa.select(r.region, *(r[k] for k in KEY), r.value).where(
            r.period == period, r.region.in_(list(regions)))).all(),
        schema=["AREA", *(names[k] for k in KEY), "VALUE"], orient="row")
    o = Observation.__table__.c
    national = pl.DataFrame(
        session.execute(sa.select(o.ref_area, *(o[k] for k in KEY), o.value, o.conf_status)
                        .where(o.period == period, o.ref_area.in_(states),
                               o.value.is_not(None))).all(),
        schema=["AREA", *(names[k] for k in KEY), "VALUE", "SENDER_FLAG"], orient="row")
    cells = pl.concat([regional.with_columns(pl.lit(None, dtype=pl.String)
                                             .alias("SENDER_FLAG")), national],
                      how="vertical_relaxed")
    consent = {s.ref_area: s.publication_consent == "national" for s in session.exec(
        select(State).where(State.ref_area.in_(states))).all()}  # type: ignore[attr-defined]
    coverage = {c.region: {"states": list(c.included), "missing": list(c.missing),
                           "awaiting_signoff": list(c.awaiting_signoff),
                           "age_bands": list(c.age_bands)}
                for c in coverages if c.included}
    return cells, regions, consent, coverage


def _earlier(session: Session, release: Release) -> list[EarlierRelease]:
    """Every earlier published release of the period: constants for the audit."""
    names = _column_names()
    key = ["AREA", *(names[k] for k in KEY)]
    out = []
    for earlier in session.exec(select(Release).where(
            Release.period == release.period, Release.status == ReleaseStatus.PUBLISHED,
            Release.number < release.number).order_by(Release.number)).all():
        c = ReleaseCell.__table__.c
        cells = pl.DataFrame(
            session.execute(sa.select(c.area, *(c[k] for k in KEY), c.value, c.conf_status)
                            .where(c.release_id == earlier.id)).all(),
            schema={**{k: pl.String for k in key}, "VALUE": pl.Int64, "CONF_STATUS": pl.String},
            orient="row")
        # The true values of its suppressed cells are in its audit (inside the exchange):
        # with them a revised cell is told from an unchanged one exactly.
        a = ReleaseAudit.__table__.c
        truth = pl.DataFrame(
            session.execute(sa.select(a.area, *(a[k] for k in KEY), a.value).where(
                a.release_id == earlier.id, a.published.is_(True))).all(),
            schema={**{k: pl.String for k in key}, "TRUE_VALUE": pl.Int64}, orient="row")
        cells = cells.join(truth, on=key, how="left").with_columns(
            pl.coalesce("TRUE_VALUE", "VALUE").alias("TRUE_VALUE"),
            pl.lit(True).alias("PUBLISHED"))
        out.append(EarlierRelease(cells=cells, coverage={
            region: tuple(entry["states"]) for region, entry in earlier.coverage.items()}))
    return out


def complete(session: Session, release: Release, built: Built) -> ReleaseStatus:
    """Keep the protected cells and the audit; publish, or refuse when the audit failed."""
    protected = built.protected
    audit = protected.audit
    if "RELEASE" in audit.columns:  # earlier releases' own quantities are theirs to show
        audit = audit.filter(pl.col("RELEASE") == 0)
    if audit.height:
        session.execute(sa.insert(ReleaseAudit), [
            _row(release.id, r, {
                "conf_status": r["CONF_STATUS"], "published": bool(r["PUBLISHED"]),
                "value": round(r["VALUE"]), "lower": r["LOWER"], "upper": r["UPPER"],
                "required_lower": float(r["REQUIRED_LOWER"]),
                "required_upper": float(r["REQUIRED_UPPER"]),
                "exact": bool(r["EXACT"]), "ok": bool(r["OK"])})
            for r in audit.iter_rows(named=True)])
    release.solver = protected.solver
    release.audit_ok = protected.ok
    release.coverage = built.coverage
    release.updated_at = utcnow()
    if not protected.ok:
        record(session, actor="system", action=Action.RELEASE_REFUSED,
               target=f"release/{release.id}",
               detail={"failing_cells": int((~audit["OK"]).sum()) if audit.height else 0,
                       "timed_out": protected.timed_out,
                       "seconds": round(protected.timings.get("total", 0.0), 1)})
        return ReleaseStatus.REFUSED
    published = protected.cells.filter(pl.col("PUBLISHED"))
    if published.height:
        session.execute(sa.insert(ReleaseCell), [
            _row(release.id, r, {"value": r["PUBLISHED_VALUE"],
                                 "conf_status": r["CONF_STATUS"]})
            for r in published.iter_rows(named=True)])
    release.cells_published = published.height
    release.cells_suppressed = int((published["CONF_STATUS"] != "F").sum())
    release.published_at = utcnow()
    forget_on_commit(session)
    record(session, actor="system", action=Action.RELEASE_PUBLISHED,
           target=f"release/{release.id}",
           detail={"period": release.period, "number": release.number,
                   "cells": release.cells_published, "suppressed": release.cells_suppressed,
                   "solver": protected.solver})
    return ReleaseStatus.PUBLISHED


def _row(release_id: int | None, cell: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    names = _column_names()
    return {"release_id": release_id, "area": cell["AREA"],
            **{k: cell[names[k]] for k in KEY}, **extra}


# --- reading -----------------------------------------------------------------------------------

def visible(release: Release, *, see_embargoed: bool, now: datetime | None = None) -> bool:
    """Published, and past its embargo unless the caller may see embargoed releases."""
    if release.status != ReleaseStatus.PUBLISHED:
        return see_embargoed
    if release.embargo_until is None or see_embargoed:
        return True
    return release.embargo_until <= (now or utcnow())


def latest_releases(session: Session, *, see_embargoed: bool,
                    periods: Collection[str] | None = None, now: datetime | None = None,
                    settled: bool = False) -> list[Release]:
    """The latest published release of each period (of ``periods``) the caller may see;
    ``settled``: only releases no stage is due on any more (their indicators computed: while
    a new vintage's are, the previous vintage answers)."""
    query = select(Release).where(Release.status == ReleaseStatus.PUBLISHED)
    if settled:
        query = query.where(Release.next_stage.is_(None))  # type: ignore[union-attr]
    if periods is not None:
        query = query.where(Release.period.in_(sorted(periods)))  # type: ignore[attr-defined]
    latest: dict[str, Release] = {}
    for release in session.exec(query.order_by(Release.period, Release.number)).all():
        if visible(release, see_embargoed=see_embargoed, now=now):
            latest[release.period] = release
    return list(latest.values())


def get_release(session: Session, release_id: int, *, see_embargoed: bool) -> Release:
    release = session.get(Release, release_id)
    if release is None or not visible(release, see_embargoed=see_embargoed):
        raise not_found(f"Release {release_id}")
    return release


def list_releases(session: Session, *, see_embargoed: bool,
                  period: str | None = None) -> list[Release]:
    query = select(Release).order_by(Release.period, Release.number)
    if period:
        query = query.where(Release.period == period)
    return [r for r in session.exec(query).all() if visible(r, see_embargoed=see_embargoed)]


def release_cells(session: Session, release: Release, *, area: str | None = None
                  ) -> pl.DataFrame:
    """The release's published cells, in the standard's column names; suppressed cells carry
    their CONF_STATUS and no value."""
    names = _column_names()
    c = ReleaseCell.__table__.c
    query = sa.select(c.area, *(c[k] for k in KEY), c.value, c.conf_status).where(
        c.release_id == release.id)
    if area:
        query = query.where(c.area == area)
    return pl.DataFrame(session.execute(query.order_by(c.id)).all(),
                        schema={"AREA": pl.String, **{names[k]: pl.String for k in KEY},
                                "OBS_VALUE": pl.Int64, "CONF_STATUS": pl.String},
                        orient="row")


def release_audit(session: Session, release: Release, *, actor: str) -> pl.DataFrame:
    names = _column_names()
    a = ReleaseAudit.__table__.c
    rows = session.execute(sa.select(a.area, *(a[k] for k in KEY), a.conf_status, a.published,
                                     a.value, a.lower, a.upper, a.required_lower,
                                     a.required_upper, a.exact, a.ok)
                           .where(a.release_id == release.id).order_by(a.id)).all()
    record(session, actor=actor, action=Action.RELEASE_AUDIT_READ,
           target=f"release/{release.id}", detail={"rows": len(rows)})
    return pl.DataFrame(rows, schema={"AREA": pl.String, **{names[k]: pl.String for k in KEY},
                                      "CONF_STATUS": pl.String, "PUBLISHED": pl.Boolean,
                                      "VALUE": pl.Int64, "LOWER": pl.Float64,
                                      "UPPER": pl.Float64, "REQUIRED_LOWER": pl.Float64,
                                      "REQUIRED_UPPER": pl.Float64, "EXACT": pl.Boolean,
                                      "OK": pl.Boolean},
                        orient="row")
