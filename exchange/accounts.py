"""API clients and member states: creation, authentication, seeding from the standard."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select

from exchange import audit
from exchange.auth import Principal, Role
from exchange.auth.passwords import DUMMY_HASH, hash_secret, new_secret, verify_secret
from exchange.models import ApiClient, State
from exchange.problems import Problem
from standards import load_standard


def ensure_states(session: Session) -> int:
    """Register every state that belongs to a region of the standard; returns how many new."""
    standard = load_standard()
    areas = standard.codelists["CL_AREA"]
    members = sorted({m for region in standard.regions for m in standard.region_members(region)})
    known = set(session.exec(select(State.ref_area)).all())
    new = [State(ref_area=m, name=areas.by_id[m].label()) for m in members if m not in known]
    session.add_all(new)
    return len(new)


def create_client(session: Session, role: Role, ref_area: str | None, name: str,
                  actor: str = "cli") -> tuple[ApiClient, str]:
    """A new client and its secret. The secret is returned once and only its hash is kept."""
    try:
        Principal(client_id="-", role=role, ref_area=ref_area)
    except ValueError as exc:
        raise Problem(422, "invalid-client", "Invalid client", str(exc)) from exc
    if ref_area is not None and session.get(State, ref_area) is None:
        raise Problem(422, "unknown-state", "Unknown reporting state",
                      f"{ref_area!r} is not a state registered with the exchange.")
    prefix = (ref_area or role.value).lower()
    client_id = f"{prefix}-{secrets.token_hex(6)}"
    secret = new_secret()
    client = ApiClient(id=client_id, name=name, role=role.value, ref_area=ref_area,
                       secret_hash=hash_secret(secret))
    session.add(client)
    audit.record(session, actor, audit.Action.CLIENT_CREATED, f"client/{client_id}",
                 {"role": role.value, "ref_area": ref_area})
    return client, secret


def authenticate(session: Session, client_id: str, secret: str) -> Principal | None:
    """The principal for valid, active credentials; None otherwise (and the attempt is logged)."""
    client = session.get(ApiClient, client_id)
    ok = verify_secret(client.secret_hash if client else DUMMY_HASH, secret)
    if client is None or not ok or not client.active:
        audit.record(session, client_id[:64] or "?", audit.Action.LOGIN_FAILED)
        return None
    audit.record(session, client.id, audit.Action.LOGIN)
    return Principal(client_id=client.id, role=Role(client.role), ref_area=client.ref_area)
