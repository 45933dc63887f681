"""Bodies of the regions endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from exchange.regional.models import Participant
from exchange.regional.service import QUARTER_PATTERN, CoverageView


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_period: str = Field(pattern=QUARTER_PATTERN, examples=["2026-Q1"],
                              description="The first quarter the state reports for the region "
                              "(its emergency weeks count from that quarter on too).")


class ParticipantOut(BaseModel):
    region: str
    ref_area: str
    first_period: str
    updated_at: datetime

    @classmethod
    def of(cls, p: Participant) -> ParticipantOut:
        return cls(region=p.region, ref_area=p.ref_area, first_period=p.first_period,
                   updated_at=p.updated_at)


class CoverageOut(BaseModel):
    """Whom a regional table for a quarter expects (the participants from their first quarter
    on) and how each stands: included (signed off, summed), awaiting sign-off (harmonized, not
    summed), missing (nothing harmonized). ``provisional``: included states with provisional
    figures. ``stale``: a rebuild is due; ``updated_at`` null: nothing reported yet."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "region": "ALMATY_PROCESS", "period": "2026-Q3", "expected": ["KAZ", "KGZ", "TJK", "TKM"],
        "included": ["KAZ"], "provisional": [], "awaiting_signoff": ["KGZ"],
        "missing": ["TJK", "TKM"], "stale": False, "updated_at": "2026-11-24T09:00:00Z"}})

    region: str
    period: str
    expected: list[str]
    included: list[str]
    provisional: list[str]
    awaiting_signoff: list[str]
    missing: list[str]
    stale: bool
    updated_at: datetime | None

    @classmethod
    def of(cls, view: CoverageView) -> CoverageOut:
        return cls(region=view.region, period=view.period, expected=view.expected,
                   included=view.included, provisional=view.provisional,
                   awaiting_signoff=view.awaiting_signoff, missing=view.missing,
                   stale=view.stale, updated_at=view.updated_at)
