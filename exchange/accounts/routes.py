"""``/api/v1/auth/token`` (client credentials in, a short-lived JWT out) and
``/api/v1/clients`` (the admin manages API clients)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Header, Path, Request
from fastapi.responses import JSONResponse

from exchange.accounts import service
from exchange.accounts.schemas import ClientPublic, TokenResponse
from exchange.auth.policy import Permission, who_may
from exchange.auth.principal import Principal, Role
from exchange.core.problems import Problem
from exchange.web.deps import DB, Context, ReadDB, allowed, problem_responses
from exchange.web.errors import problem_response

router = APIRouter(tags=["accounts"])
ClientId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Admin = Annotated[Principal, Depends(allowed(Permission.MANAGE_CLIENTS))]


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


@router.post("/api/v1/auth/token", response_model=TokenResponse,
             responses=problem_responses(400, 401, 429),
             description="Exchange client credentials (form fields or HTTP Basic) for an access "
             "token. Only valid credentials of an active client get one; repeated failures "
             "from one address are slowed down with 429.\n\n" + who_may(None))
def issue_token(
    request: Request,
    context: Context,
    session: DB,
    grant_type: Annotated[str, Form(pattern="^client_credentials$")] = "client_credentials",
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> TokenResponse | JSONResponse:
    failures = (f"{context.settings.token_failures_per_minute}/minute", "token-failures",
                request.client.host if request.client else "unknown")
    context.limiter.check(*failures)
    credentials = _basic(authorization) or (client_id, client_secret)
    if not credentials[0] or not credentials[1]:
        raise Problem(400, "missing-credentials", "Missing client credentials",
                      "Send client_id and client_secret (form fields or HTTP Basic).")
    login = service.authenticate(session, client_id=credentials[0], secret=credentials[1])
    if login.principal is None:
        context.limiter.count(*failures)
        # Answered, not raised: the failed attempt's audit entry commits with the request.
        return problem_response(Problem(401, "invalid-client", "Invalid client credentials"),
                                request)
    return TokenResponse(access_token=context.keyring.issue(login.principal),
                         expires_in=context.keyring.ttl_seconds)


@router.get("/api/v1/clients", response_model=list[ClientPublic],
            responses=problem_responses(401, 403),
            description="Every API client (never a secret).\n\n"
            + who_may(Permission.MANAGE_CLIENTS))
def list_clients(session: ReadDB, _admin: Admin) -> list[ClientPublic]:
    return [ClientPublic.of(c) for c in service.list_clients(session)]


@router.post("/api/v1/clients", response_model=ClientPublic, status_code=201,
             responses={201: {"description": "Created; the secret is in the "
                              "`X-Client-Secret` header, shown this once."},
                        **problem_responses(401, 403, 422)},
             description="Create a client for a role (and state, for submitters and "
             "coordinators).\n\n" + who_may(Permission.MANAGE_CLIENTS))
def create_client(
    session: DB, admin: Admin,
    role: Annotated[Role, Form()],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    ref_area: Annotated[str | None, Form(min_length=3, max_length=3)] = None,
) -> JSONResponse:
    client, secret = service.create_client(session, role=role, ref_area=ref_area, name=name,
                                           actor=admin.client_id)
    body = ClientPublic.of(client)
    return JSONResponse(body.model_dump(mode="json"), status_code=201,
                        headers={"X-Client-Secret": secret, "Cache-Control": "no-store"})


@router.post("/api/v1/clients/{client_id}/disable", response_model=ClientPublic,
             responses=problem_responses(401, 403, 404),
             description="Disable a client: it gets no new tokens and the tokens it holds stop "
             "working at their next request.\n\n" + who_may(Permission.MANAGE_CLIENTS))
def disable_client(session: DB, admin: Admin, client_id: ClientId) -> ClientPublic:
    return ClientPublic.of(service.disable_client(session, client_id=client_id,
                                                  actor=admin.client_id))
