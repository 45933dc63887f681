"""``/api/v1/regions/{region}/participants`` (which member states take part; the admin
changes them) and ``/api/v1/regions/{region}/coverage`` (whom a regional table includes, awaits
and misses). Thin: parse, authorize, call the service, respond."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from exchange.auth.policy import Permission, who_may
from exchange.auth.principal import Principal
from exchange.regional import service
from exchange.regional.schemas import CoverageOut, ParticipantIn, ParticipantOut
from exchange.web.deps import DB, ReadDB, allowed, problem_responses
from exchange.web.enums import PERIOD_PATTERN, RefArea, RegionId

router = APIRouter(prefix="/api/v1/regions/{region}", tags=["regions"])
Region = Annotated[RegionId, Path(description="A region of the standard.")]
Area = Annotated[RefArea, Path(description="A member state of the region.")]
Viewer = Annotated[Principal, Depends(allowed(Permission.VIEW_COVERAGE))]
Admin = Annotated[Principal, Depends(allowed(Permission.MANAGE_PARTICIPANTS))]
REGION_SCOPE = (" A coordinator sees the regions its state is a member of.\n\n")


@router.get("/participants", response_model=list[ParticipantOut],
            responses=problem_responses(401, 403, 404),
            description="The member states that take part in the region, each with the first "
            "quarter it reports. Participation is voluntary; coverage expects participants "
            "only." + REGION_SCOPE + who_may(Permission.VIEW_COVERAGE))
def list_participants(session: ReadDB, caller: Viewer, region: Region) -> list[ParticipantOut]:
    service.require_region(caller, Permission.VIEW_COVERAGE, region.value)
    return [ParticipantOut.of(p) for p in service.list_participants(session, region.value)]


@router.put("/participants/{ref_area}", response_model=ParticipantOut,
            responses=problem_responses(401, 403, 404, 422),
            description="Make a member state a participant from a first quarter (or move its "
            "first quarter). The region's tables are rebuilt with the new expectation.\n\n"
            + who_may(Permission.MANAGE_PARTICIPANTS))
def set_participant(session: DB, admin: Admin, region: Region, ref_area: Area,
                    body: ParticipantIn) -> ParticipantOut:
    return ParticipantOut.of(service.set_participant(
        session, region=region.value, ref_area=ref_area.value, first_period=body.first_period,
        actor=admin.client_id))


@router.delete("/participants/{ref_area}", status_code=204, response_class=Response,
               responses=problem_responses(401, 403, 404),
               description="The state stops taking part: the region's tables no longer expect "
               "or sum it.\n\n" + who_may(Permission.MANAGE_PARTICIPANTS))
def remove_participant(session: DB, admin: Admin, region: Region, ref_area: Area) -> Response:
    service.remove_participant(session, region=region.value, ref_area=ref_area.value,
                               actor=admin.client_id)
    return Response(status_code=204)


@router.get("/coverage", response_model=CoverageOut,
            responses=problem_responses(401, 403, 404),
            description="Whom the region's table for a quarter includes, awaits the sign-off "
            "of, and misses." + REGION_SCOPE + who_may(Permission.VIEW_COVERAGE))
def get_coverage(session: ReadDB, caller: Viewer, region: Region,
                 period: Annotated[str, Query(pattern=PERIOD_PATTERN, examples=["2026-Q3"])]
                 ) -> CoverageOut:
    service.require_region(caller, Permission.VIEW_COVERAGE, region.value)
    return CoverageOut.of(service.coverage(session, region=region.value, period=period))
