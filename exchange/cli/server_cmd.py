"""``mmx serve``, ``mmx clients``, ``mmx audit``, ``mmx openapi``: running the exchange."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from exchange.auth import Role
from exchange.config import get_settings

clients_app = typer.Typer(help="Manage API clients (national agencies, analysts, admins).",
                          no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


def _prepared_url() -> str:
    from exchange.accounts import ensure_states
    from exchange.db import migrate, session_scope

    url = get_settings().resolved_database_url
    migrate(url)
    with session_scope(url) as session:
        ensure_states(session)
    return url


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="API processes.")] = 1,
    with_worker: Annotated[bool, typer.Option(
        help="Also start one Celery worker process (the embedded default).")] = True,
) -> None:
    """Run the API (uvicorn) and, by default, a Celery worker beside it.

    With no configuration: SQLite database, file store and SQLite-backed task queue under ./var,
    no server needed. In production run `mmx serve --no-with-worker` and `mmx worker` apart.
    """
    import subprocess
    import sys

    import uvicorn

    _prepared_url()
    worker = None
    if with_worker and get_settings().processing == "queue":
        worker = subprocess.Popen([sys.executable, "-m", "exchange.cli.main", "worker",
                                   "--concurrency", "1", "--pool", "solo"])
    try:
        uvicorn.run("exchange.api.app:create_app", factory=True, host=host, port=port,
                    workers=workers, log_level="info")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)


def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Task processes.")] = 2,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork or solo.")] = "prefork",
) -> None:
    """Run a Celery worker (validate, harmonize, aggregate) with its sweeper thread."""
    from workers.celery_app import QUEUE, app

    _prepared_url()
    app.worker_main(["worker", f"--concurrency={concurrency}", f"--pool={pool}",
                     "--loglevel=INFO", "-Q", QUEUE, "--without-gossip", "--without-mingle",
                     "--without-heartbeat"])


@clients_app.command("create")
def create_client(
    role: Annotated[Role, typer.Option(help="Role of the client.")],
    ref_area: Annotated[str | None, typer.Option(
        help="State the client reports for (submitter, coordinator).")] = None,
    name: Annotated[str, typer.Option(help="Who this client is, for people.")] = "",
) -> None:
    """Create a client; prints its id and secret ONCE (only a hash of the secret is kept)."""
    from exchange.accounts import create_client as create
    from exchange.db import session_scope
    from exchange.problems import Problem

    url = _prepared_url()
    try:
        with session_scope(url) as session:
            client, secret = create(session, role, ref_area.upper() if ref_area else None,
                                    name or f"{role.value} {ref_area or ''}".strip())
    except Problem as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"client_id:     {client.id}\nclient_secret: {secret}")
    typer.echo("Keep the secret now: it cannot be shown again.", err=True)


@clients_app.command("list")
def list_clients() -> None:
    """List clients (never their secrets)."""
    from sqlmodel import select

    from exchange.db import session_scope
    from exchange.models import ApiClient

    with session_scope(_prepared_url()) as session:
        for c in session.exec(select(ApiClient).order_by(ApiClient.created_at)).all():
            typer.echo(f"{c.id}\t{c.role}\t{c.ref_area or '-'}\t"
                       f"{'active' if c.active else 'disabled'}\t{c.name}")


@audit_app.command("verify")
def verify_audit() -> None:
    """Recompute the hash chain; exit 1 and name the first bad entry if anything was altered."""
    from exchange.audit import verify_chain
    from exchange.db import session_scope

    with session_scope(_prepared_url()) as session:
        result = verify_chain(session)
    if result.ok:
        typer.echo(f"audit log intact: {result.entries} entries")
        return
    where = f"entry {result.first_bad_id}" if result.first_bad_id else "the end of the log"
    typer.echo(f"audit log TAMPERED at {where}: {result.reason}", err=True)
    raise typer.Exit(1)


def openapi(
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Print (or write) the OpenAPI document of the API."""
    from exchange.api.openapi import openapi_document

    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
