"""``/api/v1/coverage`` (the state x quarter coverage matrix of the task force) and
``/api/v1/annual/{year}`` (annual figures in UNHCR's Refugee Data Finder shape). Thin: parse,
authorize, call the service, respond as JSON or CSV."""

from __future__ import annotations

from typing import Annotated

import polars as pl
from fastapi import APIRouter, Depends, Header, Path, Query, Response

from exchange.auth.policy import Permission, who_may
from exchange.auth.principal import Principal
from exchange.views import annual, coverage
from exchange.views.schemas import AnnualOut, MatrixOut, matrix_frame
from exchange.web.deps import MaybeCaller, ReadDB, allowed, problem_responses
from exchange.web.enums import RegionId
from exchange.web.tables import csv_response, wants_csv

router = APIRouter(tags=["views"])
Viewer = Annotated[Principal, Depends(allowed(Permission.VIEW_COVERAGE))]
Format = Annotated[str | None, Query(pattern="^(json|csv)$",
                                     description="json (default) or csv; or `Accept: text/csv`.")]
QUARTER = r"^[0-9]{4}-Q[1-4]$"


def _csv(frame: pl.DataFrame, format: str | None, accept: str | None, name: str
         ) -> Response | None:
    return csv_response(frame, name) if wants_csv(format, accept) else None


@router.get("/api/v1/coverage", response_model=MatrixOut,
            responses={200: {"content": {"text/csv": {}}}, **problem_responses(401, 403, 422)},
            description="The coverage matrix: every participating state (of `region`, or of "
            "all regions) x quarter, each cell with how far the latest revision got (missing, "
            "received, rejected, harmonized, signed_off, released), the quality flags of the "
            "harmonized data (counts of estimated, provisional and break observations) and "
            "the quarter's revisions. Quarters: `startPeriod` to `endPeriod`; by default the "
            "last 8 quarters with any data. JSON, or CSV (`?format=csv` or `Accept: "
            "text/csv`; one row per cell). A coordinator sees the regions its state is a "
            "member of.\n\n" + who_may(Permission.VIEW_COVERAGE))
def coverage_matrix(session: ReadDB, caller: Viewer,
                    region: Annotated[RegionId | None, Query()] = None,
                    start_period: Annotated[str | None, Query(
                        alias="startPeriod", pattern=QUARTER, examples=["2025-Q1"])] = None,
                    end_period: Annotated[str | None, Query(
                        alias="endPeriod", pattern=QUARTER, examples=["2026-Q4"])] = None,
                    format: Format = None, accept: Annotated[str | None, Header()] = None
                    ) -> Response | MatrixOut:
    matrix = coverage.coverage_matrix(session, principal=caller,
                                      region=region.value if region else None,
                                      start_period=start_period, end_period=end_period)
    return _csv(matrix_frame(matrix), format, accept,
                f"coverage-{region.value if region else 'all'}") or MatrixOut.of(matrix)


@router.get("/api/v1/annual/{year}", response_model=AnnualOut,
            responses={200: {"content": {"text/csv": {}}}, **problem_responses(401, 403)},
            description="A year's figures in the shape of UNHCR's Refugee Data Finder "
            "(year, coo_iso = citizenship, coa_iso = reporting state or region, pop_type, "
            "measure, f_0_4 ... m_total, total), derived from the quarters: stocks are the "
            "fourth quarter's, flows the sum of the four. `basis=protected` (default, "
            "anyone): the published cells of the latest release of each quarter; a figure "
            "is empty, with a flag naming the quarter, when any quarter it needs is "
            "suppressed or missing. `basis=harmonized`: unprotected harmonized figures, for "
            f"those who hold `{Permission.VIEW_HARMONIZED.value}` (their scope: an agency or "
            "coordinator its own state). JSON, or CSV (the rows).\n\n" + who_may(None))
def annual_figures(session: ReadDB, caller: MaybeCaller,
                   year: Annotated[int, Path(ge=1000, le=9999)],
                   basis: Annotated[annual.Basis, Query()] = annual.Basis.PROTECTED,
                   area: Annotated[str | None, Query(max_length=40, description="One state "
                                                     "or region (coa_iso).")] = None,
                   format: Format = None, accept: Annotated[str | None, Header()] = None
                   ) -> Response | AnnualOut:
    table = annual.annual_table(session, principal=caller, year=year, basis=basis, area=area)
    return _csv(table.rows, format, accept, f"annual-{year}-{basis.value}") \
        or AnnualOut.of(table)
