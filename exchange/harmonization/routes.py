"""``/api/v1/observations``: a state-period's harmonized observations, unprotected, for the
roles that may analyse them (the task force, and each state its own). Published, protected
figures are the releases'."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from exchange.auth import policy
from exchange.auth.policy import Permission, who_may
from exchange.auth.principal import Principal
from exchange.harmonization import service
from exchange.web.deps import ReadDB, allowed, problem_responses
from exchange.web.enums import PERIOD_PATTERN, RefArea
from exchange.web.tables import csv_response, wants_csv

router = APIRouter(prefix="/api/v1/observations", tags=["observations"])
Viewer = Annotated[Principal, Depends(allowed(Permission.VIEW_HARMONIZED))]


@router.get("", response_model=None,
            responses={200: {"content": {"text/csv": {}}}, **problem_responses(401, 403)},
            description="The harmonized observations of one state and period (the current "
            "harmonized revision, with the totals and age bands harmonization derived), as "
            "JSON or CSV (`?format=csv` or `Accept: text/csv`). Unprotected: never exported "
            "outside the exchange; releases hold what is published.\n\n"
            + who_may(Permission.VIEW_HARMONIZED))
def list_observations(session: ReadDB, caller: Viewer, ref_area: Annotated[RefArea, Query()],
                      period: Annotated[str, Query(pattern=PERIOD_PATTERN)],
                      format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
                      accept: Annotated[str | None, Header()] = None
                      ) -> Response | list[dict[str, object]]:
    policy.require_state(caller, Permission.VIEW_HARMONIZED, ref_area.value)
    frame = service.observations(session, ref_area=ref_area.value, period=period)
    return csv_response(frame) if wants_csv(format, accept) else frame.to_dicts()
