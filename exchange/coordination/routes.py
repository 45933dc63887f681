"""``/api/v1/datasets/{ref_area}/{period}/signoff`` and ``.../sendback`` (a National
Coordinator decides on its state's harmonized quarter) and ``/api/v1/states/{ref_area}/consent``
(its publication consent). Thin: parse, authorize, call the service, respond; the request's
unit of work commits the decision, the rebuilt regional tables and the audit entry together."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path

from exchange.auth.policy import Permission, who_may
from exchange.auth.principal import Principal
from exchange.coordination import service
from exchange.coordination.schemas import ConsentIn, ConsentOut, ReviewOut, SendBackIn, SignOffIn
from exchange.core.outbox import relay
from exchange.publication import service as publication
from exchange.web.deps import DB, Context, ReadDB, allowed, problem_responses
from exchange.web.enums import PERIOD_PATTERN, RefArea

router = APIRouter(tags=["national coordinators"])
Area = Annotated[RefArea, Path(description="The state (ISO 3166-1 alpha-3).")]
Period = Annotated[str, Path(pattern=PERIOD_PATTERN, description="The quarter (YYYY-Qn) or "
                             "emergency week (YYYY-Www).", examples=["2026-Q3"])]
Coordinator = Annotated[Principal, Depends(allowed(Permission.SIGN_OFF))]
ConsentReader = Annotated[Principal, Depends(allowed(Permission.VIEW_CONSENT))]
ConsentSetter = Annotated[Principal, Depends(allowed(Permission.SET_CONSENT))]
DATASET = "/api/v1/datasets/{ref_area}/{period}"
REVIEW_ERRORS = problem_responses(401, 403, 404, 409)


@router.post(DATASET + "/signoff", response_model=ReviewOut, responses=REVIEW_ERRORS,
             description="Sign off the state-quarter's current harmonized revision for "
             "regional use: the regional tables include the state from now on, until a newer "
             "revision is harmonized (it needs its own sign-off) or the sign-off is withdrawn. "
             "409 when nothing is harmonized yet or `revision` is not the current one.\n\n"
             + who_may(Permission.SIGN_OFF))
def sign_off(session: DB, caller: Coordinator, ref_area: Area, period: Period,
             context: Context, background: BackgroundTasks,
             body: SignOffIn | None = None) -> ReviewOut:
    submission, rebuilt = service.sign_off(
        session, principal=caller, ref_area=ref_area.value, period=period,
        revision=body.revision if body else None)
    # Enough of a region signed off: the next release of the period is queued
    # (``MMX_RELEASE_COVERAGE_SHARE``), relayed after the commit.
    release = publication.release_if_covered(
        session, period=period, regions=rebuilt,
        share=context.settings.release_coverage_share)
    if release is not None:
        session.flush()
        background.add_task(relay, context.database_url, context.queue,
                            release_ids=[release.id])
    return ReviewOut.of(submission, rebuilt)


@router.delete(DATASET + "/signoff", response_model=ReviewOut, responses=REVIEW_ERRORS,
               description="Withdraw the sign-off of the current harmonized revision: the "
               "regional tables stop including the state for the quarter. 409 when it is not "
               "signed off.\n\n" + who_may(Permission.SIGN_OFF))
def withdraw_sign_off(session: DB, caller: Coordinator, ref_area: Area, period: Period
                      ) -> ReviewOut:
    submission, rebuilt = service.withdraw_sign_off(session, principal=caller,
                                                    ref_area=ref_area.value, period=period)
    return ReviewOut.of(submission, rebuilt)


@router.post(DATASET + "/sendback", response_model=ReviewOut, responses=REVIEW_ERRORS,
             description="Send the current harmonized revision back to the state's agency "
             "with a reason, shown on that submission (`review`). A signed-off revision sent "
             "back leaves the regional tables.\n\n" + who_may(Permission.SIGN_OFF))
def send_back(session: DB, caller: Coordinator, ref_area: Area, period: Period,
              body: SendBackIn) -> ReviewOut:
    submission, rebuilt = service.send_back(session, principal=caller, ref_area=ref_area.value,
                                            period=period, reason=body.reason,
                                            revision=body.revision)
    return ReviewOut.of(submission, rebuilt)


@router.get("/api/v1/states/{ref_area}/consent", response_model=ConsentOut,
            responses=problem_responses(401, 403, 404),
            description="The state's publication consent.\n\n"
            + who_may(Permission.VIEW_CONSENT))
def get_consent(session: ReadDB, caller: ConsentReader, ref_area: Area) -> ConsentOut:
    return ConsentOut.of(service.get_consent(session, principal=caller,
                                             ref_area=ref_area.value))


@router.put("/api/v1/states/{ref_area}/consent", response_model=ConsentOut,
            responses=problem_responses(401, 403, 404),
            description="Set the state's publication consent: `regional_only` (its figures "
            "are published only inside regional aggregates; the default) or `national` "
            "(national tables too).\n\n" + who_may(Permission.SET_CONSENT))
def set_consent(session: DB, caller: ConsentSetter, ref_area: Area, body: ConsentIn
                ) -> ConsentOut:
    return ConsentOut.of(service.set_consent(session, principal=caller, ref_area=ref_area.value,
                                             consent=body.publication_consent))
