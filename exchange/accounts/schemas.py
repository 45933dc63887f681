"""Bodies of the accounts endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from exchange.accounts.models import ApiClient


class TokenResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {
        "access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0...", "token_type": "bearer",
        "expires_in": 900}})

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class ClientPublic(BaseModel):
    """An API client as the admin sees it: never its secret or the secret's hash."""

    id: str
    name: str
    role: str
    ref_area: str | None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, client: ApiClient) -> ClientPublic:
        return cls(id=client.id, name=client.name, role=client.role, ref_area=client.ref_area,
                   active=client.active, created_at=client.created_at)
