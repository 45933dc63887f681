"""Request-scoped dependencies: the application context, the request's unit of work, the
caller, and the permission a route needs (decided by ``exchange.auth.policy``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from exchange.auth import policy
from exchange.auth.principal import Principal
from exchange.auth.tokens import InvalidToken, KeyRing
from exchange.core.config import Settings
from exchange.core.db import get_engine, writer
from exchange.core.problems import unauthorized
from exchange.core.queue import TaskQueue
from exchange.core.ratelimit import RateLimiter
from exchange.core.storage import FileStore
from exchange.web.schemas import ProblemDetail


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    keyring: KeyRing
    store: FileStore
    database_url: str
    queue: TaskQueue
    # Whether a token's client may still act; looked up on every request (wired by the app
    # factory from ``exchange.accounts``, which this package sits below).
    client_active: Callable[[Session, str], bool]
    limiter: RateLimiter


async def get_context(request: Request) -> AppContext:
    """Async, as every dependency that does no I/O: FastAPI runs a sync one in a worker
    thread, a hop that costs more than this."""
    return request.app.state.context  # type: ignore[no-any-return]


Context = Annotated[AppContext, Depends(get_context)]


def unit_of_work(context: Context) -> Iterator[Session]:
    """The request's one transaction: committed once, after the route returns and before the
    response is sent; rolled back if anything raised. Routes never commit. On SQLite the
    write lock is taken at the first statement, so routes do slow work (storing a file) first."""
    with Session(writer(context.database_url), expire_on_commit=False) as session:
        yield session
        session.commit()


def reading(context: AppContext) -> Session:
    """A session for read-only work: never waits for a worker's writing transaction. Routes
    take it as ``ReadDB``; the SDMX data routes open it themselves (``with reading(...)``),
    because on their cached answers the dependency's two thread hops cost more than the work."""
    return Session(get_engine(context.database_url), expire_on_commit=False)


def read_session(context: Context) -> Iterator[Session]:
    with reading(context) as session:
        yield session


DB = Annotated[Session, Depends(unit_of_work, scope="function")]
ReadDB = Annotated[Session, Depends(read_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/v1/auth/token.")


async def optional_principal(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal | None:
    """The caller a valid token stands for, None without a token. A token of a client that was
    disabled stops working at once: the client is looked up on every request. Each client's
    requests count against ``MMX_REQUESTS_PER_MINUTE``. Async so that an anonymous request
    (most public reads) costs no thread hop; the lookups run in a worker thread."""
    if credentials is None:
        return None
    return await run_in_threadpool(_principal, context, credentials.credentials)


def _principal(context: AppContext, token: str) -> Principal:
    try:
        principal = context.keyring.verify(token)
    except InvalidToken as exc:
        raise unauthorized("The access token is invalid or expired.") from exc
    with Session(get_engine(context.database_url)) as session:
        if not context.client_active(session, principal.client_id):
            raise unauthorized("The client of this token is disabled.")
    context.limiter.hit(f"{context.settings.requests_per_minute}/minute", "client",
                        principal.client_id)
    return principal


MaybeCaller = Annotated[Principal | None, Depends(optional_principal)]


def allowed(permission: policy.Permission) -> Callable[[Principal | None], Principal]:
    """A dependency returning the caller if its role holds ``permission`` (401/403 otherwise);
    state-level checks follow in the service, through the same policy."""

    async def check(principal: MaybeCaller) -> Principal:
        return policy.require(principal, permission)

    return check


ERROR_DESCRIPTIONS = {
    400: "Malformed request", 401: "Missing, invalid or expired token",
    403: "The caller's role or state may not do this", 404: "Not found (or not yours)",
    406: "Not acceptable: a format we do not produce", 409: "Conflict",
    413: "Request too large", 415: "Unsupported file type",
    422: "The request or file was refused", 429: "Too many requests; see Retry-After",
    501: "Not implemented"}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses particular to a route (those every route can
    give are added by ``exchange.api.openapi``)."""
    return {s: {"model": ProblemDetail, "description": ERROR_DESCRIPTIONS.get(s, "Error")}
            for s in statuses}
