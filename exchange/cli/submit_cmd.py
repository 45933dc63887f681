"""``mmx token``, ``mmx submit`` and ``mmx status``: talking to a running exchange."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from exchange.cli.http_client import ExchangeClient
    from exchange.core.config import Settings
    from exchange.core.queue import TaskQueue

QueueFactory = Callable[["Settings"], "TaskQueue"]
Url = Annotated[str | None, typer.Option(
    "--url", envvar="MMX_URL", help="Base URL of the exchange (default: MMX_PUBLIC_URL).")]
ClientId = Annotated[str | None, typer.Option(envvar="MMX_CLIENT_ID", help="Client id.")]
ClientSecret = Annotated[str | None, typer.Option(
    envvar="MMX_CLIENT_SECRET", help="Client secret (prefer the environment variable).")]
Token = Annotated[str | None, typer.Option(envvar="MMX_TOKEN", help="An access token.")]


def connect(url: str | None, token: str | None, client_id: str | None,
            client_secret: str | None, *, anonymous: bool = False) -> ExchangeClient:
    """A client of the exchange with a token (given, or fetched with the credentials); with
    ``anonymous``, none when no credentials are given (public data)."""
    from exchange.cli.http_client import ExchangeClient
    from exchange.core.config import get_settings

    client = ExchangeClient(url or get_settings().public_url, token=token)
    if token is None:
        if anonymous and not (client_id and client_secret):
            return client
        if not client_id or not client_secret:
            typer.echo("error: give --token, or --client-id and --client-secret "
                       "(or MMX_CLIENT_ID / MMX_CLIENT_SECRET)", err=True)
            raise typer.Exit(2)
        client.fetch_token(client_id, client_secret)
    return client


def token(url: Url = None, client_id: ClientId = None, client_secret: ClientSecret = None
          ) -> None:
    """Print an access token for scripts (export MMX_TOKEN=$(mmx token))."""
    from exchange.cli.http_client import ApiError

    try:
        typer.echo(connect(url, None, client_id, client_secret).token)
    except (ApiError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def submit(
    file: Annotated[Path, typer.Argument(help="CSV, SDMX-CSV or XLSX file to submit.")],
    country: Annotated[str, typer.Option(help="Declared reporting state (ISO alpha-3).")],
    period: Annotated[str, typer.Option(
        help="Declared period: a quarter YYYY-Qn, or a week YYYY-Www for emergency figures.")],
    url: Url = None,
    client_id: ClientId = None,
    client_secret: ClientSecret = None,
    access_token: Token = None,
    emergency: Annotated[bool, typer.Option(
        help="Out-of-cycle emergency submission (the period must be a week).")] = False,
    standard_version: Annotated[str | None, typer.Option(
        help="Version of the standard the file follows (default: the current one); older "
        "versions are mapped forward.")] = None,
    rounding: Annotated[int, typer.Option(
        min=0, max=1000, help="The base the figures are rounded to (e.g. 5); 0: not rounded.")
    ] = 0,
    wait: Annotated[float, typer.Option(
        help="Seconds to wait for the server's verdict (0: do not wait).")] = 120,
    force: Annotated[bool, typer.Option(
        help="Upload even if the local validation fails.")] = False,
) -> None:
    """Validate locally, upload, and print the server's verdict.

    Exit code 0 accepted, 1 rejected (locally or by the server), 2 unusable input or error.
    """
    from exchange.cli.http_client import ApiError
    from exchange.cli.validate_cmd import render_report
    from standards.validation import validate_file

    console = Console()
    country = country.upper()
    from standards.loader import CURRENT_VERSION

    report = validate_file(file, country=country, period=period,
                           standard_version=standard_version or CURRENT_VERSION,
                           rounding=rounding)
    if not report.valid:
        render_report(report, console, str(file))
        if not force:
            console.print("Not uploaded: fix the file first (or use --force).")
            raise typer.Exit(report.exit_code)
    try:
        client = connect(url, access_token, client_id, client_secret)
        created = client.submit(file, country, period, emergency=emergency,
                                standard_version=standard_version, rounding=rounding)
        console.print(f"Uploaded as submission {created['id']} (revision {created['revision']} "
                      f"of {country} {period}); status {created['status']}.")
        current = client.wait(created["id"], wait) if wait > 0 else created
    except (ApiError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    status = current["status"]
    if status == "rejected":
        console.print(f"[bold red]REJECTED[/] by the exchange: {current['error_count']} "
                      "problem(s). `mmx status` shows them.")
        raise typer.Exit(1)
    if status in ("validated", "harmonizing", "harmonized", "published"):
        console.print(f"[bold green]ACCEPTED[/] submission {current['id']}: valid, now "
                      f"{status}.")
        return
    console.print(f"[bold yellow]{status.upper()}[/] submission {current['id']}: no verdict yet "
                  "(`mmx status` to follow it).")


def status_command(queue_for: QueueFactory) -> Callable[..., None]:
    """``mmx status``; the operator's overview asks the queue the installation runs on."""

    def status(
        submission_id: Annotated[int | None, typer.Argument(
            min=1, help="Submission id; omit for the operator's overview.")] = None,
        url: Url = None,
        client_id: ClientId = None,
        client_secret: ClientSecret = None,
        access_token: Token = None,
    ) -> None:
        """Show a submission's status, history and report; without an id, the operator's
        overview: queue, unsent outbox rows, stuck work."""
        console = Console()
        if submission_id is None:
            _overview(console, queue_for)
            return
        _submission_status(console, submission_id, url, access_token, client_id,
                           client_secret)

    return status


def _submission_status(console: Console, submission_id: int, url: str | None,
                       access_token: str | None, client_id: str | None,
                       client_secret: str | None) -> None:
    from exchange.cli.http_client import ApiError
    from exchange.cli.validate_cmd import render_report
    from standards.validation import Report

    try:
        client = connect(url, access_token, client_id, client_secret)
        current = client.submission(submission_id)
        console.print(f"submission {current['id']}: {current['ref_area']} {current['period']} "
                      f"revision {current['revision']} — [bold]{current['status']}[/] "
                      f"({current.get('progress', 0)}%)")
        if current.get("failure_reason"):
            console.print(f"  failed: {current['failure_reason']}")
        if review := current.get("review"):
            console.print(f"  National Coordinator: {review['decision'].replace('_', ' ')}"
                          + (f" — {review['reason']}" if review.get("reason") else ""),
                          markup=False)
        for entry in current.get("history", []):
            console.print(f"  {entry['at']}  {entry['status']}")
        if current["status"] == "rejected":
            data = client.report(submission_id)
            render_report(Report.from_dict(data), console, current["filename"])
    except (ApiError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if not isinstance(exc, ApiError) or exc.status >= 500 else 1) from exc


def _overview(console: Console, queue_for: QueueFactory) -> None:
    from exchange.cli.admin_cmd import database_url
    from exchange.core.config import get_settings
    from exchange.pipeline.ops import overview

    settings = get_settings()
    view = overview(database_url(), queue_for(settings), settings.stuck_after_seconds)
    depth = f"{view.queue_depth}" if view.queue_depth is not None else "unknown"
    console.print(f"queue: {view.queue_health}; depth {depth}")
    console.print(f"outbox rows not yet sent: {view.outbox_pending}")
    console.print("submissions by status: " + (", ".join(
        f"{k} {v}" for k, v in sorted(view.by_status.items())) or "none"))
    console.print(f"stuck (a stage due for over {settings.stuck_after_seconds} s): "
                  f"{len(view.stuck)}")
    for sid, state, stage, since in view.stuck[:20]:
        console.print(f"  submission {sid}: {state}, {stage} due since {since}")
