"""Releases, their protected cells and the audit that proves each suppression."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from exchange.core.columns import UTCDateTime, timestamp
from exchange.harmonization.models import ObservationKey
from exchange.publication.status import ReleaseStatus


class Release(SQLModel, table=True):
    """One numbered vintage of a period. Immutable once published: a revision is a new
    release with the next number; earlier ones stay public."""

    __table_args__ = (sa.UniqueConstraint("period", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=8, index=True)
    number: int
    status: str = Field(default=ReleaseStatus.QUEUED, max_length=20, index=True)
    # The pipeline stage due next (``exchange.pipeline.stages``); None when nothing is left.
    next_stage: str | None = Field(default=None, max_length=20, index=True)
    attempts: int = 0
    progress: int = 0
    failure_reason: str | None = Field(default=None, max_length=1000)
    trigger: str = Field(max_length=20)
    requested_by: str = Field(max_length=64)
    notes: str | None = Field(default=None, sa_type=sa.Text)
    # Before this time only admins and analysts see the release.
    embargo_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    standard_version: str = Field(max_length=20)
    solver: str | None = Field(default=None, max_length=20)
    audit_ok: bool | None = None
    cells_published: int | None = None
    cells_suppressed: int | None = None
    # region -> {"states": [...], "signed_off": {state: ISO time}}: who the release covers.
    coverage: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReleaseCell(ObservationKey, table=True):
    """A published cell: national (``area`` a state that consented) or regional (``area`` a
    region). Suppressed cells are here with their CONF_STATUS and no value."""

    __tablename__ = "release_cell"
    # The SDMX data API reads a release's cells of an area in series order: the index gives
    # them sorted (and serves every read by release and area).
    __table_args__ = (sa.Index("ix_release_cell_series", "release_id", "area", "freq",
                               "counterpart_area", "pop_group", "spec_need", "measure",
                               "citizenship", "sex", "age", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="release.id")
    area: str = Field(max_length=40)
    value: int | None = Field(default=None, sa_type=sa.BigInteger)
    conf_status: str = Field(max_length=1)


class ReleaseAudit(ObservationKey, table=True):
    """For every suppressed cell: the interval of its true value that everything published
    (this release and the earlier ones of the period) allows, and the protection it needed."""

    __tablename__ = "release_audit"
    __table_args__ = (sa.Index("ix_release_audit_release", "release_id"),)

    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="release.id")
    area: str = Field(max_length=40)
    conf_status: str = Field(max_length=1)
    # False for a national figure of a state without consent: never published itself, but
    # audited, since regional totals with and without it must not reveal it.
    published: bool
    value: int = Field(sa_type=sa.BigInteger)
    lower: float | None  # None: unbounded (the LP found no finite bound)
    upper: float | None
    required_lower: float
    required_upper: float
    exact: bool  # decided by the LP (not by the cheaper bound used for very large tables)
    ok: bool


class ReleaseCalendar(SQLModel, table=True):
    """A release the admin scheduled: the workers' sweeper queues it once ``due_at`` passes."""

    __tablename__ = "release_calendar"

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=8)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    notes: str | None = Field(default=None, sa_type=sa.Text)
    embargo_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    # The release it queued; None while it is not due yet.
    release_id: int | None = Field(default=None, foreign_key="release.id")
    created_at: datetime = timestamp()
