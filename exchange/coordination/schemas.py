"""Bodies of the National Coordinator's endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from exchange.accounts.models import PublicationConsent, State
from exchange.submissions.models import Submission
from exchange.submissions.status import ReviewDecision

Revision = Field(default=None, ge=1, le=2**31,
                 description="The revision the coordinator reviewed; refused with 409 unless it "
                 "is the current harmonized one. Omit to act on the current harmonized one.")


class SignOffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int | None = Revision


class SendBackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "reason": "Arrivals of Q3 lack the September figures of two border posts.",
        "revision": 2}})

    reason: str = Field(min_length=1, max_length=1000,
                        description="Shown to the state's agency on the submission. Not "
                        "published; do not name persons.")
    revision: int | None = Revision


class ReviewOut(BaseModel):
    """The coordinator's decision on a state-quarter's current harmonized revision."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "ref_area": "KAZ", "period": "2026-Q3", "submission_id": 42, "revision": 2,
        "decision": "signed_off", "reason": None, "decided_at": "2026-11-24T09:00:00Z",
        "regions_rebuilt": ["CENTRAL_ASIA", "ALMATY_PROCESS", "WIDER_CENTRAL_ASIA"],
        "links": {"submission": "/api/v1/submissions/42"}}})

    ref_area: str
    period: str
    submission_id: int
    revision: int
    decision: ReviewDecision
    reason: str | None = None
    decided_at: datetime | None
    regions_rebuilt: list[str] = Field(
        description="Regional tables rebuilt because what they sum changed.")
    links: dict[str, str]

    @classmethod
    def of(cls, s: Submission, regions: list[str]) -> ReviewOut:
        return cls(ref_area=s.ref_area, period=s.period, submission_id=s.id or 0,
                   revision=s.revision, decision=ReviewDecision(s.review),
                   reason=s.review_reason, decided_at=s.reviewed_at, regions_rebuilt=regions,
                   links={"submission": f"/api/v1/submissions/{s.id}"})


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publication_consent: PublicationConsent


class ConsentOut(BaseModel):
    """What may be published of a state's figures: ``regional_only`` (only inside regional
    aggregates, the default) or ``national`` (national tables too)."""

    ref_area: str
    publication_consent: PublicationConsent

    @classmethod
    def of(cls, state: State) -> ConsentOut:
        return cls(ref_area=state.ref_area,
                   publication_consent=PublicationConsent(state.publication_consent))
