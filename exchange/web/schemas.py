"""Bodies every part of the API shares: problem details and health."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ProblemDetail(BaseModel):
    """RFC 9457 problem details; extra members (e.g. ``errors``) may follow."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"example": {
        "type": "https://mmx.example.org/problems/forbidden", "title": "Forbidden",
        "status": 403, "detail": "This client may submit data for KAZ only, not KGZ."}})

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class Health(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)
