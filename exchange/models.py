"""Persistence (SQLModel): states, API clients, submissions and their revisions, reports, audit.

One schema for SQLite (the embedded default) and PostgreSQL; Alembic migrations in
``exchange/migrations`` create it. The database row is the source of truth for every upload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from exchange.status import FINAL_STATUSES, SubmissionStatus

__all__ = ["FINAL_STATUSES", "SubmissionStatus"]  # re-exported: the models' vocabulary


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use timezone-aware UTC")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect
                             ) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kwargs)


class State(SQLModel, table=True):
    """A member state that may report (REF_AREA); seeded from the standard's regions."""

    ref_area: str = Field(primary_key=True, max_length=3)
    name: str = Field(max_length=200)
    # "national": national figures may be published; "regional_only": only inside regional totals.
    publication_consent: str = Field(default="regional_only", max_length=20)
    created_at: datetime = _ts()


class ApiClient(SQLModel, table=True):
    __tablename__ = "api_client"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    ref_area: str | None = Field(default=None, foreign_key="state.ref_area", max_length=3)
    secret_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = _ts()


class Dataset(SQLModel, table=True):
    """One state's data for one quarter: every upload for it is a new revision."""

    __table_args__ = (sa.UniqueConstraint("ref_area", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    ref_area: str = Field(foreign_key="state.ref_area", max_length=3, index=True)
    period: str = Field(max_length=7, index=True)
    latest_revision: int = 0
    # The revision whose observations are in ``observation`` (0: none yet).
    harmonized_revision: int = 0
    created_at: datetime = _ts()


class Submission(SQLModel, table=True):
    """One upload: the raw file's identity, where it is kept and where it is in its life."""

    __table_args__ = (
        sa.UniqueConstraint("dataset_id", "revision"),
        sa.UniqueConstraint("client_id", "idempotency_key"),
        sa.Index("ix_submission_state_period", "ref_area", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id")
    revision: int
    ref_area: str = Field(max_length=3)
    period: str = Field(max_length=7)
    standard_version: str = Field(max_length=20)
    emergency: bool = False
    sha256: str = Field(max_length=64, index=True)
    size_bytes: int = Field(sa_type=sa.BigInteger)
    file_format: str = Field(max_length=10)
    filename: str = Field(max_length=255)
    storage_key: str = Field(max_length=255)
    status: str = Field(default=SubmissionStatus.RECEIVED, max_length=20, index=True)
    client_id: str = Field(foreign_key="api_client.id", max_length=64)
    idempotency_key: str | None = Field(default=None, max_length=255)
    rows: int | None = None
    error_count: int | None = None
    # 0-100 while a worker processes it, for clients that show a progress bar.
    progress: int = 0
    attempts: int = 0
    failure_reason: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class StatusChange(SQLModel, table=True):
    """Every transition of a submission, with its time: the history behind ``status``."""

    __tablename__ = "status_change"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    status: str = Field(max_length=20)
    at: datetime = _ts()


class ValidationReport(SQLModel, table=True):
    __tablename__ = "validation_report"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", unique=True)
    valid: bool
    usable: bool
    error_count: int
    report: dict[str, Any] = Field(sa_type=sa.JSON)
    created_at: datetime = _ts()


class AuditEntry(SQLModel, table=True):
    """Append-only log; each entry's hash covers the previous hash, so edits break the chain."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=40, index=True)
    target: str = Field(default="", max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """The chain's tip, one row. Appenders update it first: that write lock serialises them on
    SQLite and PostgreSQL alike, so two concurrent entries can never claim the same parent."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)


class Outbox(SQLModel, table=True):
    """Work to hand to the queue, written in the upload's transaction: a broker that is down
    when a file arrives only delays processing, it never loses the submission."""

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    created_at: datetime = _ts()
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    attempts: int = 0


class ObservationKey(SQLModel):
    """The dimensions shared by national and regional observations (REF_AREA aside)."""

    period: str = Field(max_length=7)
    pop_group: str = Field(max_length=10)
    measure: str = Field(max_length=12)
    citizenship: str = Field(max_length=4)
    sex: str = Field(max_length=2)
    age: str = Field(max_length=8)


class Observation(ObservationKey, table=True):
    """Harmonized observations of the current revision of each state-quarter.

    Derived data, rebuilt from the stored submission whenever needed: it carries its
    provenance (dataset, submission, revision) without foreign keys, because per-row foreign-key
    checks made bulk loading an order of magnitude slower.
    """

    # One index: the state-quarter, by which rows are replaced and regions are summed. More
    # indexes would each slow every bulk load.
    __table_args__ = (sa.Index("ix_observation_area_period", "ref_area", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int
    submission_id: int
    revision: int
    ref_area: str = Field(max_length=3)
    value: int | None = Field(default=None, sa_type=sa.BigInteger)
    obs_status: str | None = Field(default=None, max_length=1)
    derived: bool = False


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
    period: str = Field(primary_key=True, max_length=7)
    included: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    provisional: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    missing: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Set when a member's observations change; a rebuild clears it. Rebuild tasks that find the
    # table fresh skip, so twenty states arriving at once do not cost twenty full rebuilds.
    stale: bool = True
    updated_at: datetime = _ts()
