"""``/api/v1/indicators``: the indicator definitions, and their values of the latest release
of each period (public once published and past any embargo; ``see_embargoed`` holders see
embargoed releases too). JSON or CSV. Thin: parse, authorize, call the service, respond."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Header, Query, Response
from pydantic import StringConstraints

from exchange.auth import policy
from exchange.auth.policy import Permission, who_may
from exchange.indicators import service
from exchange.indicators.schemas import IndicatorOut, IndicatorValueOut
from exchange.web.deps import MaybeCaller, ReadDB, problem_responses
from exchange.web.enums import PERIOD_PATTERN
from exchange.web.tables import csv_response, wants_csv
from standards.indicators import load_indicators

router = APIRouter(prefix="/api/v1/indicators", tags=["indicators"])
Format = Annotated[str | None, Query(pattern="^(json|csv)$",
                                     description="json (default) or csv; or `Accept: text/csv`.")]
# Generated from the definitions, so OpenAPI lists the indicator ids.
IndicatorId = StrEnum("IndicatorId", {i.id: i.id for i in load_indicators().indicators})  # type: ignore[misc]
Indicators = Annotated[list[IndicatorId] | None, Query(max_length=50)]
Areas = Annotated[list[Annotated[str, StringConstraints(pattern=r"^[A-Z_]{1,40}$")]] | None,
                  Query(max_length=50, description="A state (KAZ) or a region (CENTRAL_ASIA).")]
Periods = Annotated[list[Annotated[str, StringConstraints(pattern=PERIOD_PATTERN)]] | None,
                    Query(max_length=50)]


@router.get("", response_model=None, responses={
    200: {"model": list[IndicatorOut], "content": {"text/csv": {}}}},
    description="The indicators the exchange computes on every release: labels (en, ru, fr), "
    "definition, formula over the standard's codes, unit, the part of the Regional Action "
    "Plan it serves (I to IV) and its seed sources.\n\n" + who_may(None))
def list_indicators(format: Format = None, accept: Annotated[str | None, Header()] = None
                    ) -> Response | list[IndicatorOut]:
    rows = service.definitions()
    if wants_csv(format, accept):
        return csv_response(pl.DataFrame([{
            "id": r["id"], **{f"name_{lang}": r["name"].get(lang, "") for lang in
                              ("en", "ru", "fr")},
            "unit": r["unit"], "action_plan_part": r["action_plan_part"],
            "breakdowns": " ".join(r["breakdowns"]), "definition": r["description"].get("en"),
            "formula": json.dumps(r["formula"], sort_keys=True),
            "source": " ".join(f"{s['file']}:{s['line']}" for s in r["source"])}
            for r in rows]), "indicators")
    return [IndicatorOut.model_validate(r) for r in rows]


@router.get("/values", response_model=None, responses={
    200: {"model": list[IndicatorValueOut], "content": {"text/csv": {}}},
    **problem_responses(401)},
    description="Indicator values of the latest release of each period (its vintage: "
    "RELEASE_NUMBER), computed from the release's protected cells only. A value with a "
    "suppressed input is withheld: no OBS_VALUE, CONF_STATUS S and SUPPRESSED_INPUTS naming "
    "the cells. Filter by indicator, area (a state or a region) and period (each repeatable)."
    "\n\nReleases are public once published and past any embargo; callers holding "
    f"`{Permission.SEE_EMBARGOED.value}` (" + ", ".join(
        f"`{role.value}`" for role in policy.RULES[Permission.SEE_EMBARGOED])
    + ") also see embargoed releases.\n\n" + who_may(None))
def indicator_values(session: ReadDB, caller: MaybeCaller, indicator: Indicators = None,
                     area: Areas = None, period: Periods = None, format: Format = None,
                     accept: Annotated[str | None, Header()] = None
                     ) -> Response | list[dict[str, object]]:
    frame = service.indicator_values(
        session, see_embargoed=policy.sees_embargoed(caller),
        indicators=[str(i) for i in indicator] if indicator else None, areas=area,
        periods=period)
    if wants_csv(format, accept):
        return csv_response(frame.with_columns(pl.col("SUPPRESSED_INPUTS").list.join(" ")),
                    "indicator-values")
    return frame.to_dicts()
