"""What the release endpoints take and return (Create/Public split)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from exchange.publication.models import Release, ReleaseCalendar
from exchange.publication.status import ReleaseStatus
from exchange.web.enums import PERIOD_PATTERN


class ReleaseIn(BaseModel):
    period: str = Field(pattern=PERIOD_PATTERN, examples=["2026-Q3"],
                        description="The quarter (or emergency week) to release.")
    notes: str | None = Field(default=None, max_length=10_000,
                              description="Release notes shown with the release.")
    embargo_until: datetime | None = Field(
        default=None, description="Before this time only admins and analysts see it.")


class ReleaseOut(BaseModel):
    id: int
    period: str
    number: int = Field(description="The vintage of the period: 1, 2, ... (a revision is a "
                        "new release; earlier ones stay public).")
    status: ReleaseStatus
    trigger: str
    notes: str | None
    embargo_until: datetime | None
    standard_version: str
    solver: str | None = Field(description="How secondary suppression was solved: `milp` "
                               "(exact), `cubes` (protecting directions) and/or `greedy` "
                               "(the fallback), joined by `+`.")
    audit_ok: bool | None
    cells_published: int | None
    cells_suppressed: int | None
    coverage: dict[str, Any] = Field(description="Per region: the states included (signed "
                                     "off by their National Coordinators), awaiting sign-off "
                                     "and missing, and the age bands of its tables.")
    failure_reason: str | None
    created_at: datetime
    published_at: datetime | None
    links: dict[str, str]

    @classmethod
    def of(cls, r: Release) -> ReleaseOut:
        base = f"/api/v1/releases/{r.id}"
        return cls(id=r.id or 0, period=r.period, number=r.number,
                   status=ReleaseStatus(r.status), trigger=r.trigger, notes=r.notes,
                   embargo_until=r.embargo_until, standard_version=r.standard_version,
                   solver=r.solver, audit_ok=r.audit_ok, cells_published=r.cells_published,
                   cells_suppressed=r.cells_suppressed, coverage=r.coverage,
                   failure_reason=r.failure_reason, created_at=r.created_at,
                   published_at=r.published_at,
                   links={"self": base, "cells": f"{base}/cells", "audit": f"{base}/audit"})


class ScheduleIn(ReleaseIn):
    due_at: datetime = Field(description="When the workers queue the release.")


class ScheduleOut(BaseModel):
    id: int
    period: str
    due_at: datetime
    notes: str | None
    embargo_until: datetime | None
    release_id: int | None = Field(description="The release it queued, once due.")

    @classmethod
    def of(cls, e: ReleaseCalendar) -> ScheduleOut:
        return cls(id=e.id or 0, period=e.period, due_at=e.due_at, notes=e.notes,
                   embargo_until=e.embargo_until, release_id=e.release_id)
