"""``mmx clients``, ``mmx regions``, ``mmx audit``, ``mmx db``, ``mmx openapi``: administering
an installation from the machine it runs on (audited as the actor ``cli``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from exchange.auth.principal import Role

clients_app = typer.Typer(help="Manage API clients (national agencies, analysts, admins).",
                          no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
regions_app = typer.Typer(help="Regions: which member states take part, and coverage.",
                          no_args_is_help=True)
participants_app = typer.Typer(
    help="The member states that take part in a region (participation is voluntary).",
    no_args_is_help=True)
regions_app.add_typer(participants_app, name="participants")
Region = Annotated[str, typer.Argument(help="Region id, e.g. ALMATY_PROCESS "
                                       "(`mmx standard show REGIONS`).")]
State = Annotated[str, typer.Argument(help="Member state (ISO alpha-3).")]


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
    """Bring the schema to the latest revision, register the standard's member states and new
    regions (every member participating from MMX_PARTICIPATION_FROM), and rebuild regional
    tables left stale. Idempotent; run once per deployment before the API and workers start."""
    from exchange.accounts.service import ensure_states
    from exchange.core.config import get_settings
    from exchange.core.db import migrate, session_scope
    from exchange.regional.service import ensure_participants, rebuild_stale

    settings = get_settings()
    url = settings.resolved_database_url
    migrate(url)
    with session_scope(url) as session:
        added = ensure_states(session)
        participants = ensure_participants(session, first_period=settings.participation_from)
        rebuilt = rebuild_stale(session)
    typer.echo(f"database schema current; {added} new member state(s), {participants} new "
               f"regional participant(s) registered; {rebuilt} regional table(s) rebuilt.")


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


@participants_app.command("list")
def list_participants(region: Region) -> None:
    """List a region's participants and the first quarter each reports."""
    from exchange.core.db import session_scope
    from exchange.regional.service import list_participants as participants

    with _problems(), session_scope(database_url(), writes=False) as session:
        for p in participants(session, region.upper()):
            typer.echo(f"{p.ref_area}\tfrom {p.first_period}")


@participants_app.command("set")
def set_participant(
    region: Region, state: State,
    first_period: Annotated[str, typer.Option(
        "--from", help="First quarter the state reports, YYYY-Qn.")],
) -> None:
    """Make a member state a participant from a quarter (or move its first quarter)."""
    from exchange.core.db import session_scope
    from exchange.regional.service import set_participant as put

    _require_period(first_period, quarter=True)
    with _problems(), session_scope(database_url()) as session:
        put(session, region=region.upper(), ref_area=state.upper(), first_period=first_period,
            actor="cli")
    typer.echo(f"{state.upper()} takes part in {region.upper()} from {first_period}")


@participants_app.command("remove")
def remove_participant(region: Region, state: State) -> None:
    """The state stops taking part in the region."""
    from exchange.core.db import session_scope
    from exchange.regional.service import remove_participant as remove

    with _problems(), session_scope(database_url()) as session:
        remove(session, region=region.upper(), ref_area=state.upper(), actor="cli")
    typer.echo(f"{state.upper()} no longer takes part in {region.upper()}")


@regions_app.command("coverage")
def coverage(
    region: Region,
    period: Annotated[str, typer.Argument(help="Quarter YYYY-Qn, or week YYYY-Www.")],
) -> None:
    """Whom the region's table for a period includes, awaits the sign-off of, and misses."""
    from exchange.core.db import session_scope
    from exchange.regional.service import coverage as read

    _require_period(period)
    with _problems(), session_scope(database_url(), writes=False) as session:
        view = read(session, region=region.upper(), period=period)
    for label, states in (("expected", view.expected), ("included", view.included),
                          ("awaiting sign-off", view.awaiting_signoff),
                          ("missing", view.missing), ("provisional", view.provisional)):
        typer.echo(f"{label + ':':<19}{' '.join(states) or '-'}")
    if view.stale:
        typer.echo("(a rebuild is due: these are the lists of the last one)")


@contextmanager
def _problems() -> Iterator[None]:
    """A service's refusal as a one-line error and exit code 2."""
    from exchange.core.problems import Problem

    try:
        yield
    except Problem as exc:
        typer.echo(f"error: {exc.detail or exc.title}", err=True)
        raise typer.Exit(2) from exc


def _require_period(period: str, quarter: bool = False) -> None:
    """Exit 2 unless ``period`` is a quarter (or, unless ``quarter``, a week) of the standard."""
    from exchange.regional.service import QUARTER_PATTERN
    from standards import load_standard

    pattern = QUARTER_PATTERN if quarter else load_standard().dimension["TIME_PERIOD"].pattern
    if not re.fullmatch(pattern or "", period):
        typer.echo(f"error: {period!r} is not a {'quarter (YYYY-Qn)' if quarter else 'period'}",
                   err=True)
        raise typer.Exit(2)


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
