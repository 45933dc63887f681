"""``mmx signoff``, ``mmx sendback`` and ``mmx consent``: a state's National Coordinator
decides, over the API, whether a harmonized quarter goes into the regional tables and what may
be published of the state's figures. Exit code 0 done, 1 refused by the exchange, 2 error."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer

from exchange.cli.submit_cmd import ClientId, ClientSecret, Token, Url, connect

Country = Annotated[str, typer.Argument(help="Your state (ISO alpha-3).")]
Period = Annotated[str, typer.Argument(help="Quarter YYYY-Qn, or emergency week YYYY-Www.")]
Revision = Annotated[int | None, typer.Option(
    min=1, help="The revision you reviewed; refused unless it is the current harmonized one.")]


class Consent(StrEnum):  # the values of exchange.accounts.models.PublicationConsent
    REGIONAL_ONLY = "regional_only"
    NATIONAL = "national"


def signoff(
    country: Country, period: Period, revision: Revision = None,
    withdraw: Annotated[bool, typer.Option(
        "--withdraw", help="Withdraw the sign-off instead.")] = False,
    url: Url = None, client_id: ClientId = None, client_secret: ClientSecret = None,
    access_token: Token = None,
) -> None:
    """Sign off your state's harmonized quarter for the regional tables (or --withdraw it)."""
    def act(client: Any) -> dict[str, Any]:
        if withdraw:
            return client.withdraw_sign_off(country.upper(), period)  # type: ignore[no-any-return]
        return client.sign_off(country.upper(), period, revision)  # type: ignore[no-any-return]

    review = call_api(act, url, access_token, client_id, client_secret)
    _print_review(review)


def sendback(
    country: Country, period: Period,
    reason: Annotated[str, typer.Option(
        help="Why, for your agency (shown on its submission; never published).")],
    revision: Revision = None,
    url: Url = None, client_id: ClientId = None, client_secret: ClientSecret = None,
    access_token: Token = None,
) -> None:
    """Send your state's harmonized quarter back to its agency with a reason."""
    review = call_api(lambda c: c.send_back(country.upper(), period, reason, revision),
                   url, access_token, client_id, client_secret)
    _print_review(review)


def consent(
    country: Country,
    set_to: Annotated[Consent | None, typer.Option(
        "--set", help="regional_only: only inside regional aggregates; national: national "
        "tables too.")] = None,
    url: Url = None, client_id: ClientId = None, client_secret: ClientSecret = None,
    access_token: Token = None,
) -> None:
    """Show your state's publication consent, or --set it."""
    current = call_api(lambda c: c.consent(country.upper(), set_to.value if set_to else None),
                    url, access_token, client_id, client_secret)
    typer.echo(f"{current['ref_area']}: publication consent {current['publication_consent']}")


def call_api(act: Callable[[Any], Any], url: str | None, access_token: str | None,
             client_id: str | None, client_secret: str | None, *, anonymous: bool = False
             ) -> Any:
    """Run ``act`` with a connected client; an API error is printed and exits 1 (refused)
    or 2 (the exchange failed or could not be reached)."""
    from exchange.cli.http_client import ApiError

    try:
        return act(connect(url, access_token, client_id, client_secret, anonymous=anonymous))
    except (ApiError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        refused = isinstance(exc, ApiError) and exc.status < 500
        raise typer.Exit(1 if refused else 2) from exc


def _print_review(review: dict[str, Any]) -> None:
    typer.echo(f"{review['ref_area']} {review['period']} revision {review['revision']} "
               f"(submission {review['submission_id']}): "
               f"{review['decision'].replace('_', ' ')}")
    if review.get("regions_rebuilt"):
        typer.echo("regional tables rebuilt: " + ", ".join(review["regions_rebuilt"]))
