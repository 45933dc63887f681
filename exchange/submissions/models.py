"""State-quarter datasets, their submissions (one per upload), status history and reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# The tables our foreign keys name must be registered wherever these models are used.
import exchange.accounts.models  # noqa: F401
from exchange.core.columns import UTCDateTime, timestamp
from exchange.submissions.status import SubmissionStatus


class Dataset(SQLModel, table=True):
    """One state's data for one quarter: every upload for it is a new revision."""

    __table_args__ = (sa.UniqueConstraint("ref_area", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    ref_area: str = Field(foreign_key="state.ref_area", max_length=3, index=True)
    period: str = Field(max_length=8, index=True)
    latest_revision: int = 0
    # The revision whose observations are in ``observation`` (0: none yet).
    harmonized_revision: int = 0
    created_at: datetime = timestamp()


class Submission(SQLModel, table=True):
    """One upload: the raw file's identity, where it is kept and where it is in its life."""

    __table_args__ = (
        sa.UniqueConstraint("dataset_id", "revision"),
        sa.UniqueConstraint("client_id", "idempotency_key"),
        # The same bytes for the same state-quarter are one submission, even when twenty
        # identical uploads race: the database, not a read before the insert, guarantees it.
        sa.UniqueConstraint("ref_area", "period", "sha256", name="uq_submission_same_file"),
        sa.Index("ix_submission_state_period", "ref_area", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id")
    revision: int
    ref_area: str = Field(max_length=3)
    period: str = Field(max_length=8)
    standard_version: str = Field(max_length=20)
    emergency: bool = False
    # The base the submitter declared its figures rounded to (e.g. 5); None: not rounded.
    # Additivity is checked within the rounding tolerance and the declaration travels with the
    # data (API, harmonized observations' provenance).
    rounding_base: int | None = None
    sha256: str = Field(max_length=64, index=True)
    size_bytes: int = Field(sa_type=sa.BigInteger)
    file_format: str = Field(max_length=10)
    filename: str = Field(max_length=255)
    storage_key: str = Field(max_length=255)
    status: str = Field(default=SubmissionStatus.RECEIVED, max_length=20, index=True)
    # The pipeline stage due next (``exchange.pipeline.stages``); None when nothing is left.
    next_stage: str | None = Field(default=None, max_length=20, index=True)
    client_id: str = Field(foreign_key="api_client.id", max_length=64)
    idempotency_key: str | None = Field(default=None, max_length=255)
    rows: int | None = None
    error_count: int | None = None
    # 0-100 while a worker processes it, for clients that show a progress bar; never decreases.
    progress: int = 0
    # Attempts at the current stage; past the stage's limit the submission ends ``failed``.
    attempts: int = 0
    failure_reason: str | None = Field(default=None, max_length=1000)
    # The National Coordinator's decision on this revision (``ReviewDecision``; None: none
    # yet), kept on the revision it concerns so that a newer revision starts undecided.
    review: str | None = Field(default=None, max_length=20)
    review_reason: str | None = Field(default=None, max_length=1000)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class StatusChange(SQLModel, table=True):
    """Every transition of a submission, with its time: the history behind ``status``."""

    __tablename__ = "status_change"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    status: str = Field(max_length=20)
    at: datetime = timestamp()


class ValidationReport(SQLModel, table=True):
    __tablename__ = "validation_report"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", unique=True)
    valid: bool
    usable: bool
    error_count: int
    report: dict[str, Any] = Field(sa_type=sa.JSON)
    created_at: datetime = timestamp()
