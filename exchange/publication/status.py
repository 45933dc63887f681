"""The life of a release."""

from __future__ import annotations

from enum import StrEnum


class ReleaseStatus(StrEnum):
    """queued -> building -> published | refused (the audit found a cell under-protected:
    nothing is published); ``failed`` when building itself broke. Which stage enters which
    status is declared once, in ``exchange.pipeline.stages``."""

    QUEUED = "queued"
    BUILDING = "building"
    PUBLISHED = "published"
    REFUSED = "refused"
    FAILED = "failed"


class Trigger(StrEnum):
    """What asked for a release."""

    ADMIN = "admin"
    CALENDAR = "calendar"
    COVERAGE = "coverage"
