"""Regional observations, the coverage of each regional table, and which member states take
part in each region (participation is voluntary: 001 lines ~212-214)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# The tables our foreign keys name must be registered wherever these models are used.
import exchange.accounts.models  # noqa: F401
from exchange.core.columns import timestamp
from exchange.harmonization.models import ObservationKey


class RegionalObservation(ObservationKey, table=True):
    """Sum over a region's participating states whose current revision is signed off, per
    quarter and dimension combination."""

    __tablename__ = "regional_observation"
    __table_args__ = (sa.Index("ix_regional_region_period", "region", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    region: str = Field(max_length=40)
    value: int = Field(sa_type=sa.BigInteger)
    states: int


class RegisteredRegion(SQLModel, table=True):
    """A region of the standard whose participants the exchange has registered. A region is
    seeded with default participants once, when first registered; afterwards only an admin
    changes them, so a later ``mmx db upgrade`` never undoes an admin's decision."""

    __tablename__ = "region"

    id: str = Field(primary_key=True, max_length=40)
    created_at: datetime = timestamp()


class Participant(SQLModel, table=True):
    """A member state that takes part in a region's exchange, from its first quarter on.
    Regional coverage expects only participants, and only from ``first_period``; a member
    that does not take part is neither counted nor reported missing."""

    region: str = Field(primary_key=True, foreign_key="region.id", max_length=40)
    ref_area: str = Field(primary_key=True, foreign_key="state.ref_area", max_length=3)
    first_period: str = Field(max_length=7)
    updated_at: datetime = timestamp()


class RegionalCoverage(SQLModel, table=True):
    """Which participating states a regional table includes for a quarter, which have data
    awaiting their National Coordinator's sign-off, and which sent nothing."""

    __tablename__ = "regional_coverage"

    region: str = Field(primary_key=True, max_length=40)
    period: str = Field(primary_key=True, max_length=8)
    included: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    provisional: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Harmonized, but the current revision is not signed off: not in the sums.
    awaiting_signoff: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    missing: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # The age bands the table is built on: the finest every included state reports (always
    # at least Y_LT18, Y_GE18 and _T).
    age_bands: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Set when a member's observations change; a rebuild clears it. Rebuild tasks that find the
    # table fresh skip, so twenty states arriving at once do not cost twenty full rebuilds.
    stale: bool = True
    updated_at: datetime = timestamp()
