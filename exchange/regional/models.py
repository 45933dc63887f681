"""Regional observations and the coverage of each regional table."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from exchange.core.columns import timestamp
from exchange.harmonization.models import ObservationKey


class RegionalObservation(ObservationKey, table=True):
    """Sum over a region's member states, per quarter and dimension combination."""

    __tablename__ = "regional_observation"
    __table_args__ = (sa.Index("ix_regional_region_period", "region", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    region: str = Field(max_length=40)
    value: int = Field(sa_type=sa.BigInteger)
    states: int


class RegionalCoverage(SQLModel, table=True):
    """Which member states a regional table includes for a quarter, and which it lacks."""

    __tablename__ = "regional_coverage"

    region: str = Field(primary_key=True, max_length=40)
    period: str = Field(primary_key=True, max_length=8)
    included: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    provisional: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    missing: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # The age bands the table is built on: the finest every included state reports (always
    # at least Y_LT18, Y_GE18 and _T).
    age_bands: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Set when a member's observations change; a rebuild clears it. Rebuild tasks that find the
    # table fresh skip, so twenty states arriving at once do not cost twenty full rebuilds.
    stale: bool = True
    updated_at: datetime = timestamp()
