"""The life of a submission as users see it, kept apart from the models so light clients (the
``mmx submit`` HTTP client) can use it without importing the database layer."""

from __future__ import annotations

from enum import StrEnum


class SubmissionStatus(StrEnum):
    """received -> validating -> rejected | validated -> harmonizing -> harmonized;
    ``failed`` when processing itself broke (the reason is recorded). Which stage enters and
    leaves which status is declared once, in ``exchange.pipeline.stages``."""

    RECEIVED = "received"
    VALIDATING = "validating"
    REJECTED = "rejected"
    VALIDATED = "validated"
    HARMONIZING = "harmonizing"
    HARMONIZED = "harmonized"
    FAILED = "failed"


class ReviewDecision(StrEnum):
    """The National Coordinator's decision on a harmonized revision (001 lines ~625-666).
    Regional aggregates count a state-quarter only while its harmonized revision is
    ``signed_off``; a new revision starts undecided and needs its own sign-off."""

    SIGNED_OFF = "signed_off"
    SENT_BACK = "sent_back"  # returned to the agency with a reason
    WITHDRAWN = "withdrawn"  # a sign-off taken back
