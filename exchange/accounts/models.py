"""Member states and API clients."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from exchange.core.columns import timestamp


class PublicationConsent(StrEnum):
    """What a state's National Coordinator lets the exchange publish of its figures."""

    REGIONAL_ONLY = "regional_only"  # only inside regional aggregates
    NATIONAL = "national"  # national tables too


class State(SQLModel, table=True):
    """A member state that may report (REF_AREA); seeded from the standard's regions."""

    __table_args__ = (sa.CheckConstraint(
        "publication_consent IN ('regional_only', 'national')",
        name="ck_state_publication_consent"),)

    ref_area: str = Field(primary_key=True, max_length=3)
    name: str = Field(max_length=200)
    # The narrower choice until the coordinator decides: nothing national is published
    # without the state's say (001 lines ~625-638: the National Coordinator speaks for it).
    publication_consent: str = Field(
        default=PublicationConsent.REGIONAL_ONLY, max_length=20,
        sa_column_kwargs={"server_default": PublicationConsent.REGIONAL_ONLY.value})
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
