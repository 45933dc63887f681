"""``mmx coverage`` (the task force's state x quarter coverage matrix) and ``mmx annual``
(annual figures in UNHCR's Refugee Data Finder shape): thin readers of the API, printing its
CSV. Exit code 0 done, 1 refused by the exchange, 2 error."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from exchange.cli.coordinator_cmd import call_api
from exchange.cli.submit_cmd import ClientId, ClientSecret, Token, Url


class Basis(StrEnum):
    PROTECTED = "protected"
    HARMONIZED = "harmonized"


def coverage(
    region: Annotated[str | None, typer.Option(help="One region (default: every region "
                                               "you may see).")] = None,
    start: Annotated[str | None, typer.Option(help="First quarter, YYYY-Qn.")] = None,
    end: Annotated[str | None, typer.Option(help="Last quarter, YYYY-Qn.")] = None,
    url: Url = None, client_id: ClientId = None, client_secret: ClientSecret = None,
    access_token: Token = None,
) -> None:
    """The coverage matrix as CSV: each state and quarter, how far its latest revision got
    (missing ... released), its quality flags and revisions (analyst, admin, coordinator)."""
    typer.echo(call_api(lambda c: c.csv_view("/api/v1/coverage", {
        "region": region, "startPeriod": start, "endPeriod": end}), url, access_token,
        client_id, client_secret), nl=False)


def annual(
    year: Annotated[int, typer.Argument(min=1000, max=9999, help="The year, e.g. 2026.")],
    basis: Annotated[Basis, typer.Option(help="protected: published cells of releases "
                                         "(anyone); harmonized: unprotected (analysts).")]
        = Basis.PROTECTED,
    area: Annotated[str | None, typer.Option(help="One state or region only.")] = None,
    url: Url = None, client_id: ClientId = None, client_secret: ClientSecret = None,
    access_token: Token = None,
) -> None:
    """A year's figures as CSV in UNHCR's Refugee Data Finder shape (stocks: the fourth
    quarter; flows: the sum of four; empty, with a flag, where a quarter is suppressed or
    missing)."""
    typer.echo(call_api(lambda c: c.csv_view(f"/api/v1/annual/{year}", {
        "basis": basis.value, "area": area}), url, access_token, client_id, client_secret,
        anonymous=basis == Basis.PROTECTED), nl=False)
