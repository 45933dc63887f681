"""``POST /api/v1/auth/token``: OAuth2 client credentials in, a short-lived JWT out."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Form, Header

from exchange.accounts import authenticate
from exchange.api.deps import DB, Context, problem_responses
from exchange.api.schemas import TokenResponse
from exchange.problems import Problem

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


@router.post("/token", response_model=TokenResponse, responses=problem_responses(400, 401))
def issue_token(
    context: Context,
    session: DB,
    grant_type: Annotated[str, Form(pattern="^client_credentials$")] = "client_credentials",
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> TokenResponse:
    """Exchange client credentials (form fields or HTTP Basic) for an access token.

    **Who may call:** anyone; only valid, active client credentials get a token.
    """
    credentials = _basic(authorization) or (client_id, client_secret)
    if not credentials[0] or not credentials[1]:
        raise Problem(400, "missing-credentials", "Missing client credentials",
                      "Send client_id and client_secret (form fields or HTTP Basic).")
    principal = authenticate(session, credentials[0], credentials[1])
    session.commit()  # the login (or failed login) is audited either way
    if principal is None:
        raise Problem(401, "invalid-client", "Invalid client credentials")
    return TokenResponse(access_token=context.keyring.issue(principal),
                         expires_in=context.keyring.ttl_seconds)
