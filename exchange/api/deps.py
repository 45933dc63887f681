"""Request-scoped dependencies: the application context, a database session, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from exchange.auth import Principal
from exchange.auth.tokens import InvalidToken, KeyRing
from exchange.config import Settings
from exchange.db import get_engine, writer
from exchange.problems import unauthorized
from exchange.storage import FileStore


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    keyring: KeyRing
    store: FileStore
    database_url: str


def get_context(request: Request) -> AppContext:
    return request.app.state.context  # type: ignore[no-any-return]


def get_session(context: Annotated[AppContext, Depends(get_context)]) -> Iterator[Session]:
    """A session per request for routes that write (uploads, audited reads, logins); routes
    commit explicitly before they answer."""
    with Session(writer(context.database_url), expire_on_commit=False) as session:
        yield session


def get_read_session(context: Annotated[AppContext, Depends(get_context)]
                     ) -> Iterator[Session]:
    """A session for read-only routes: never waits for a worker's long transaction."""
    with Session(get_engine(context.database_url), expire_on_commit=False) as session:
        yield session


_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/v1/auth/token.")


def current_principal(
    context: Annotated[AppContext, Depends(get_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    if credentials is None:
        raise unauthorized()
    try:
        return context.keyring.verify(credentials.credentials)
    except InvalidToken as exc:
        raise unauthorized("The access token is invalid or expired.") from exc


Context = Annotated[AppContext, Depends(get_context)]
DB = Annotated[Session, Depends(get_session)]
ReadDB = Annotated[Session, Depends(get_read_session)]
Caller = Annotated[Principal, Depends(current_principal)]


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses a route can give."""
    from exchange.api.schemas import ProblemDetail

    text = {400: "Malformed request", 401: "Missing, invalid or expired token",
            403: "The caller's role or state may not do this", 404: "Not found (or not yours)",
            409: "Conflict", 413: "Upload too large", 415: "Unsupported file type",
            422: "The request or file was refused"}
    return {s: {"model": ProblemDetail, "description": text.get(s, "Error"),
                "content": {"application/problem+json": {}}} for s in statuses}
