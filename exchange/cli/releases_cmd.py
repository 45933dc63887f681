"""``mmx releases``: ask for a release of a period (admin), follow it, and read its protected
cells (anyone, once published) or its audit (admin), over the API. Exit code 0 done, 1
refused by the exchange, 2 error."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from exchange.cli.coordinator_cmd import call_api
from exchange.cli.submit_cmd import ClientId, ClientSecret, Token, Url

app = typer.Typer(help="Releases: protected, numbered vintages of a period's tables.",
                  no_args_is_help=True)
ReleaseId = Annotated[int, typer.Argument(min=1, help="The release id.")]


def _line(r: dict[str, Any]) -> str:
    audit = {True: "audit ok", False: "audit FAILED", None: "not audited yet"}[r["audit_ok"]]
    counts = "" if r["cells_published"] is None else \
        f", {r['cells_published']:,} cells ({r['cells_suppressed']:,} suppressed)"
    embargo = f", embargo until {r['embargo_until']}" if r["embargo_until"] else ""
    return (f"release {r['id']}: {r['period']} #{r['number']} {r['status']} ({audit}"
            f"{counts}{embargo}; solver {r['solver'] or '-'})")


@app.command("create")
def create(
    period: Annotated[str, typer.Option(help="Quarter YYYY-Qn, or emergency week YYYY-Www.")],
    notes: Annotated[str | None, typer.Option(help="Release notes.")] = None,
    embargo_until: Annotated[str | None, typer.Option(
        help="ISO time before which only admins and analysts see it.")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait until it is built (0: none).")]
        = 300,
    url: Url = None, client_id: ClientId = None, client_secret: ClientSecret = None,
    access_token: Token = None,
) -> None:
    """Queue the next release of a period and wait until it is published or refused."""
    def act(client: Any) -> dict[str, Any]:
        release = client.request_release(period, notes, embargo_until)
        deadline = time.monotonic() + wait
        while release["status"] in ("queued", "building") and time.monotonic() < deadline:
            time.sleep(0.5)
            release = client.release(release["id"])
        return release  # type: ignore[no-any-return]

    release = call_api(act, url, access_token, client_id, client_secret)
    typer.echo(_line(release))
    if release["status"] in ("refused", "failed"):
        typer.echo(release.get("failure_reason") or "the audit found a cell under-protected: "
                   "nothing was published", err=True)
        raise typer.Exit(1)


@app.command("schedule")
def schedule(
    period: Annotated[str, typer.Option(help="Quarter YYYY-Qn, or emergency week YYYY-Www.")],
    at: Annotated[str, typer.Option(help="ISO time when the workers queue it.")],
    notes: Annotated[str | None, typer.Option(help="Release notes.")] = None,
    embargo_until: Annotated[str | None, typer.Option(
        help="ISO time before which only admins and analysts see it.")] = None,
    url: Url = None, client_id: ClientId = None, client_secret: ClientSecret = None,
    access_token: Token = None,
) -> None:
    """Put a release of a period on the calendar (admin)."""
    entry = call_api(lambda c: c.schedule_release(period, at, notes, embargo_until), url,
                     access_token, client_id, client_secret)
    typer.echo(f"scheduled {entry['period']} for {entry['due_at']} (calendar {entry['id']})")


@app.command("list")
def list_releases(
    period: Annotated[str | None, typer.Option(help="Only this period.")] = None,
    url: Url = None, client_id: ClientId = None, client_secret: ClientSecret = None,
    access_token: Token = None,
) -> None:
    """The releases you may see (published ones for everyone)."""
    for release in call_api(lambda c: c.releases(period), url, access_token, client_id,
                            client_secret, anonymous=True):
        typer.echo(_line(release))


@app.command("cells")
def cells(
    release_id: ReleaseId,
    area: Annotated[str | None, typer.Option(help="One state or region only.")] = None,
    url: Url = None, client_id: ClientId = None, client_secret: ClientSecret = None,
    access_token: Token = None,
) -> None:
    """The release's protected cells as CSV (suppressed cells: CONF_STATUS, no value)."""
    typer.echo(call_api(lambda c: c.release_table(release_id, "cells", area), url,
                        access_token, client_id, client_secret, anonymous=True), nl=False)


@app.command("audit")
def audit(
    release_id: ReleaseId,
    url: Url = None, client_id: ClientId = None, client_secret: ClientSecret = None,
    access_token: Token = None,
) -> None:
    """The release's audit as CSV: every suppressed cell's interval and protection (admin)."""
    typer.echo(call_api(lambda c: c.release_table(release_id, "audit"), url, access_token,
                        client_id, client_secret), nl=False)
