"""API clients and member states: creation, authentication, disabling, seeding from the
standard. Functions take the caller's session and never commit: the request or command that
calls them owns the transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from exchange.accounts.models import ApiClient, State
from exchange.audit.service import Action, record
from exchange.auth.passwords import DUMMY_HASH, hash_secret, new_secret, verify_secret
from exchange.auth.principal import Principal, Role
from exchange.core.problems import Problem, not_found
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


def create_client(session: Session, *, role: Role, ref_area: str | None, name: str,
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
    record(session, actor=actor, action=Action.CLIENT_CREATED, target=f"client/{client_id}",
           detail={"role": role.value, "ref_area": ref_area})
    return client, secret


def disable_client(session: Session, *, client_id: str, actor: str) -> ApiClient:
    """Disable a client: no new tokens, and its tokens stop working at their next request."""
    client = session.get(ApiClient, client_id)
    if client is None:
        raise not_found(f"Client {client_id}")
    if client.active:
        client.active = False
        session.add(client)
        record(session, actor=actor, action=Action.CLIENT_DISABLED, target=f"client/{client_id}")
    return client


def list_clients(session: Session) -> list[ApiClient]:
    return list(session.exec(select(ApiClient).order_by(ApiClient.created_at)).all())


@dataclass(frozen=True)
class Login:
    principal: Principal | None  # None: refused (the attempt is audited either way)


def authenticate(session: Session, *, client_id: str, secret: str) -> Login:
    """The principal for valid credentials of an active client; refused otherwise. Unknown ids
    cost the same argon2 verification as known ones, so timing does not tell them apart."""
    client = session.get(ApiClient, client_id)
    ok = verify_secret(client.secret_hash if client else DUMMY_HASH, secret)
    if client is None or not ok or not client.active:
        record(session, actor=client_id[:64] or "?", action=Action.LOGIN_FAILED)
        return Login(None)
    record(session, actor=client.id, action=Action.LOGIN)
    return Login(Principal(client_id=client.id, role=Role(client.role),
                           ref_area=client.ref_area))


def is_active(session: Session, client_id: str) -> bool:
    """Whether a token's client may still act (checked on every request)."""
    client = session.get(ApiClient, client_id)
    return client is not None and client.active
