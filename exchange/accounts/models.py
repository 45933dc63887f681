"""Member states and API clients."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from exchange.core.columns import timestamp


class State(SQLModel, table=True):
    """A member state that may report (REF_AREA); seeded from the standard's regions."""

    ref_area: str = Field(primary_key=True, max_length=3)
    name: str = Field(max_length=200)
    created_at: datetime = timestamp()


class ApiClient(SQLModel, table=True):
    __tablename__ = "api_client"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    ref_area: str | None = Field(default=None, foreign_key="state.ref_area", max_length=3)
    secret_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = timestamp()
