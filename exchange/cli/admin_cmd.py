"""``mmx clients``, ``mmx audit``, ``mmx db``, ``mmx openapi``: administering an installation
from the machine it runs on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from exchange.auth.principal import Role

clients_app = typer.Typer(help="Manage API clients (national agencies, analysts, admins).",
                          no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)


def database_url() -> str:
    """The configured database, refusing to touch one whose schema is not current."""
    from exchange.core.config import get_settings
    from exchange.core.db import schema_revision

    url = get_settings().resolved_database_url
    current, head = schema_revision(url)
    if current != head:
        typer.echo(f"error: the database schema is at {current or 'nothing'}, the code needs "
                   f"{head}: run `mmx db upgrade` first.", err=True)
        raise typer.Exit(2)
    return url


@db_app.command("upgrade")
def upgrade() -> None:
    """Bring the schema to the latest revision and register the standard's member states.
    Idempotent; run once per deployment before the API and workers start."""
    from exchange.accounts.service import ensure_states
    from exchange.core.config import get_settings
    from exchange.core.db import migrate, session_scope

    url = get_settings().resolved_database_url
    migrate(url)
    with session_scope(url) as session:
        added = ensure_states(session)
    typer.echo(f"database schema current; {added} new member state(s) registered.")


@clients_app.command("create")
def create_client(
    role: Annotated[Role, typer.Option(help="Role of the client.")],
    ref_area: Annotated[str | None, typer.Option(
        help="State the client reports for (submitter, coordinator).")] = None,
    name: Annotated[str, typer.Option(help="Who this client is, for people.")] = "",
) -> None:
    """Create a client; prints its id and secret ONCE (only a hash of the secret is kept)."""
    from exchange.accounts.service import create_client as create
    from exchange.core.db import session_scope
    from exchange.core.problems import Problem

    try:
        with session_scope(database_url()) as session:
            client, secret = create(session, role=role,
                                    ref_area=ref_area.upper() if ref_area else None,
                                    name=name or f"{role.value} {ref_area or ''}".strip())
    except Problem as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"client_id:     {client.id}\nclient_secret: {secret}")
    typer.echo("Keep the secret now: it cannot be shown again.", err=True)


@clients_app.command("list")
def list_clients() -> None:
    """List clients (never their secrets)."""
    from exchange.accounts.service import list_clients as clients
    from exchange.core.db import session_scope

    with session_scope(database_url(), writes=False) as session:
        for c in clients(session):
            typer.echo(f"{c.id}\t{c.role}\t{c.ref_area or '-'}\t"
                       f"{'active' if c.active else 'disabled'}\t{c.name}")


@clients_app.command("disable")
def disable_client(client_id: Annotated[str, typer.Argument(help="The client's id.")]) -> None:
    """Disable a client: no new tokens, and its tokens stop working at once."""
    from exchange.accounts.service import disable_client as disable
    from exchange.core.db import session_scope
    from exchange.core.problems import Problem

    try:
        with session_scope(database_url()) as session:
            disable(session, client_id=client_id, actor="cli")
    except Problem as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"client {client_id} disabled")


@audit_app.command("verify")
def verify_audit() -> None:
    """Recompute the hash chain; exit 1 and name the first bad entry if anything was altered."""
    from exchange.audit.service import verify_chain
    from exchange.core.db import session_scope

    with session_scope(database_url(), writes=False) as session:
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
    from exchange.api.committed import openapi_document

    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
