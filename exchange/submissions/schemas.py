"""Bodies of the submissions endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from exchange.submissions.models import StatusChange, Submission
from exchange.submissions.status import ReviewDecision, SubmissionStatus


class StatusEntry(BaseModel):
    status: SubmissionStatus
    at: datetime

    @classmethod
    def of(cls, change: StatusChange) -> StatusEntry:
        return cls(status=SubmissionStatus(change.status), at=change.at)


class ReviewState(BaseModel):
    """The state's National Coordinator's decision on this revision. ``reason`` (of a
    send-back) is shown to those who read the state's raw data (its agency, its coordinator,
    the admin): it may quote unprotected figures."""

    decision: ReviewDecision
    reason: str | None = None
    at: datetime | None

    @classmethod
    def of(cls, s: Submission, reason_visible: bool) -> ReviewState | None:
        if s.review is None:
            return None
        return cls(decision=ReviewDecision(s.review),
                   reason=s.review_reason if reason_visible else None, at=s.reviewed_at)


class SubmissionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {
        "id": 42, "ref_area": "KAZ", "period": "2026-Q3", "revision": 2,
        "standard_version": "2.0.0", "emergency": False, "rounding_base": None,
        "status": "validated",
        "sha256": "9f2c...", "size_bytes": 812345, "file_format": "csv",
        "filename": "KAZ_2026-Q3.csv", "rows": 16324, "error_count": 0, "progress": 100,
        "created_at": "2026-11-23T12:00:00Z", "updated_at": "2026-11-23T12:00:02Z",
        "history": [{"status": "received", "at": "2026-11-23T12:00:00Z"}],
        "review": {"decision": "sent_back", "at": "2026-11-24T09:00:00Z",
                   "reason": "Arrivals of Q3 lack the September figures of two border posts."},
        "links": {"self": "/api/v1/submissions/42", "report": "/api/v1/submissions/42/report",
                  "file": "/api/v1/submissions/42/file",
                  "revisions": "/api/v1/submissions/42/revisions"}}})

    id: int
    ref_area: str
    period: str
    revision: int
    standard_version: str
    emergency: bool = Field(description="A weekly table of the emergency series (beside the "
                            "quarters, never instead of them).")
    rounding_base: int | None = Field(default=None, description="The base the submitter "
                                      "declared its figures rounded to; null: not rounded.")
    status: SubmissionStatus
    sha256: str
    size_bytes: int
    file_format: str
    filename: str
    rows: int | None
    error_count: int | None
    progress: int = Field(description="0-100 while the workers process the submission.")
    failure_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    history: list[StatusEntry] = Field(default_factory=list)
    review: ReviewState | None = Field(
        default=None, description="The National Coordinator's sign-off or send-back of this "
        "revision; null until it decides.")
    links: dict[str, str]

    @classmethod
    def of(cls, s: Submission, history: list[StatusChange] | None = None, *,
           reason_visible: bool = False) -> SubmissionOut:
        base = f"/api/v1/submissions/{s.id}"
        return cls(
            id=s.id or 0, ref_area=s.ref_area, period=s.period, revision=s.revision,
            standard_version=s.standard_version, emergency=s.emergency,
            rounding_base=s.rounding_base,
            status=SubmissionStatus(s.status), sha256=s.sha256, size_bytes=s.size_bytes,
            file_format=s.file_format, filename=s.filename, rows=s.rows,
            error_count=s.error_count, progress=s.progress, failure_reason=s.failure_reason,
            created_at=s.created_at, updated_at=s.updated_at,
            history=[StatusEntry.of(h) for h in history or []],
            review=ReviewState.of(s, reason_visible),
            links={"self": base, "report": f"{base}/report", "file": f"{base}/file",
                   "revisions": f"{base}/revisions"},
        )


class SubmissionPage(BaseModel):
    items: list[SubmissionOut]
    total: int
    limit: int
    offset: int


class ReportOut(BaseModel):
    """The validation report: verdict, exact counts per rule, capped examples with rows."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"example": {
        "submission_id": 42, "valid": False, "usable": True, "standard": "MIXED_MOVEMENTS 1.0.0",
        "format": "csv", "rows": 16324, "error_count": 1, "truncated": False,
        "summary": [{"rule": "code_list", "count": 1,
                     "description": "Coded values must come from the standard's code lists."}],
        "notes": [],
        "errors": [{"rule": "code_list", "row": 5546, "column": "REF_AREA", "value": "KAS",
                    "message": "'KAS' is not a code of CL_AREA.", "hint": "Did you mean KAZ?"}]}})

    submission_id: int
    valid: bool
    usable: bool
    standard: str
    format: str | None
    rows: int
    error_count: int
    truncated: bool
    summary: list[dict[str, Any]]
    notes: list[str]
    errors: list[dict[str, Any]]
