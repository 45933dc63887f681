"""The life of a submission, kept apart from the models so light clients can use it."""

from __future__ import annotations

from enum import StrEnum


class SubmissionStatus(StrEnum):
    """received -> validating -> rejected | validated -> harmonizing -> harmonized -> published;
    ``failed`` when processing itself broke (the reason is recorded)."""

    RECEIVED = "received"
    VALIDATING = "validating"
    REJECTED = "rejected"
    VALIDATED = "validated"
    HARMONIZING = "harmonizing"
    HARMONIZED = "harmonized"
    PUBLISHED = "published"
    FAILED = "failed"


FINAL_STATUSES = frozenset({SubmissionStatus.REJECTED, SubmissionStatus.HARMONIZED,
                            SubmissionStatus.PUBLISHED, SubmissionStatus.FAILED})
