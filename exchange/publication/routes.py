"""``/api/v1/releases``: ask for a release (admin), list and read releases and their protected
cells (anyone, once published and past any embargo; admins and analysts before), and a
release's audit (admin). Thin: parse, authorize, call the service, respond."""

from __future__ import annotations

from typing import Annotated

import polars as pl
from fastapi import APIRouter, BackgroundTasks, Depends, Header, Path, Query, Response

from exchange.auth import policy
from exchange.auth.policy import Permission, who_may
from exchange.auth.principal import Principal
from exchange.core.outbox import relay
from exchange.publication import service
from exchange.publication.schemas import ReleaseIn, ReleaseOut, ScheduleIn, ScheduleOut
from exchange.publication.status import Trigger
from exchange.web.deps import DB, Context, MaybeCaller, ReadDB, allowed, problem_responses
from exchange.web.enums import PERIOD_PATTERN
from exchange.web.tables import csv_response, wants_csv

router = APIRouter(prefix="/api/v1/releases", tags=["releases"])
calendar_router = APIRouter(prefix="/api/v1/release-calendar", tags=["releases"])
Watcher = Annotated[Principal, Depends(allowed(Permission.SEE_EMBARGOED))]
Admin = Annotated[Principal, Depends(allowed(Permission.REQUEST_RELEASE))]
Auditor = Annotated[Principal, Depends(allowed(Permission.READ_AUDIT))]
ReleaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Format = Annotated[str | None, Query(pattern="^(json|csv)$",
                                     description="json (default) or csv; or `Accept: text/csv`.")]
PUBLIC = ("Published releases are public once any embargo has passed; before that, and while "
          "a release is queued, building or refused, only `analyst` and `admin` see it (others "
          "get 404).\n\n")


def _table(frame: pl.DataFrame, format: str | None, accept: str | None, name: str
           ) -> Response | list[dict[str, object]]:
    return csv_response(frame, name) if wants_csv(format, accept) else frame.to_dicts()


@router.post("", status_code=202, response_model=ReleaseOut,
             responses=problem_responses(401, 403, 409, 422),
             description="Queue the next release of a period; the workers build it "
             "(disclosure control, audit) and publish it, or refuse it when the audit finds a "
             "cell under-protected. A release of the period already queued or building is "
             "answered instead.\n\n" + who_may(Permission.REQUEST_RELEASE))
def create_release(response: Response, context: Context, session: DB, admin: Admin,
                   background: BackgroundTasks, body: ReleaseIn) -> ReleaseOut:
    release = service.request_release(session, period=body.period, trigger=Trigger.ADMIN,
                                      requested_by=admin.client_id, notes=body.notes,
                                      embargo_until=body.embargo_until)
    session.flush()
    response.headers["Location"] = f"/api/v1/releases/{release.id}"
    # Runs after the commit and the response: the outbox row is durable by then.
    background.add_task(relay, context.database_url, context.queue, release_ids=[release.id])
    return ReleaseOut.of(release)


@router.get("", response_model=list[ReleaseOut], responses=problem_responses(401),
            description="Releases, oldest first." + " " + PUBLIC + who_may(None))
def list_releases(session: ReadDB, caller: MaybeCaller,
                  period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None
                  ) -> list[ReleaseOut]:
    return [ReleaseOut.of(r) for r in service.list_releases(
        session, see_embargoed=policy.sees_embargoed(caller), period=period)]


@router.get("/{release_id}", response_model=ReleaseOut, responses=problem_responses(401, 404),
            description="A release: its coverage, solver, audit verdict and notes. "
            + PUBLIC + who_may(None))
def get_release(session: ReadDB, caller: MaybeCaller, release_id: ReleaseId) -> ReleaseOut:
    return ReleaseOut.of(service.get_release(session, release_id,
                                             see_embargoed=policy.sees_embargoed(caller)))


@router.get("/{release_id}/cells", response_model=None, responses={
    200: {"content": {"text/csv": {}}}, **problem_responses(401, 404)},
    description="The release's protected cells: national tables of the states that consented "
    "to national publication (AREA a state) and regional tables (AREA a region). Suppressed "
    "cells are present with their CONF_STATUS (A small count, O/G dominance or too few "
    "states, S secondary, C/N flagged by the sender) and no value. " + PUBLIC + who_may(None))
def release_cells(session: ReadDB, caller: MaybeCaller, release_id: ReleaseId,
                  area: Annotated[str | None, Query(max_length=40)] = None,
                  format: Format = None,
                  accept: Annotated[str | None, Header()] = None
                  ) -> Response | list[dict[str, object]]:
    release = service.get_release(session, release_id, see_embargoed=policy.sees_embargoed(caller))
    return _table(service.release_cells(session, release, area=area), format, accept,
                  f"release-{release.id}")


@router.get("/{release_id}/audit", response_model=None, responses={
    200: {"content": {"text/csv": {}}}, **problem_responses(401, 403, 404)},
    description="For every suppressed cell: its true value and the interval everything "
    "published allows for it, against the protection it needed. Reading it is audited.\n\n"
    + who_may(Permission.READ_AUDIT))
def release_audit(session: DB, auditor: Auditor, release_id: ReleaseId,
                  format: Format = None, accept: Annotated[str | None, Header()] = None
                  ) -> Response | list[dict[str, object]]:
    release = service.get_release(session, release_id, see_embargoed=True)
    return _table(service.release_audit(session, release, actor=auditor.client_id), format,
                  accept, f"release-{release.id}-audit")


@calendar_router.get("", response_model=list[ScheduleOut], responses=problem_responses(401, 403),
                     description="The release calendar: scheduled releases and the releases "
                     "they queued.\n\n" + who_may(Permission.SEE_EMBARGOED))
def list_calendar(session: ReadDB, caller: Watcher) -> list[ScheduleOut]:
    return [ScheduleOut.of(e) for e in service.calendar(session)]


@calendar_router.post("", status_code=201, response_model=ScheduleOut,
                      responses=problem_responses(401, 403, 422),
                      description="Schedule a release of a period: the workers queue it when "
                      "`due_at` passes (and again on every pass while nothing of the period is "
                      "signed off).\n\n" + who_may(Permission.REQUEST_RELEASE))
def schedule(session: DB, admin: Admin, body: ScheduleIn) -> ScheduleOut:
    return ScheduleOut.of(service.schedule_release(
        session, period=body.period, due_at=body.due_at, actor=admin.client_id,
        notes=body.notes, embargo_until=body.embargo_until))
