"""Indicator values, one row per indicator, area and breakdown of a release."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class IndicatorValue(SQLModel, table=True):
    """An indicator value of a release (its vintage): computed once from the release's
    published cells, never changed. Withheld values (an input suppressed) are here with
    CONF_STATUS S, no value and the keys of the suppressed inputs."""

    __tablename__ = "indicator_value"
    __table_args__ = (sa.Index("ix_indicator_value_release_indicator", "release_id",
                               "indicator"),)

    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="release.id")
    indicator: str = Field(max_length=40)
    freq: str = Field(max_length=1)
    period: str = Field(max_length=8)
    area: str = Field(max_length=40)
    # The breakdown dimensions of the indicator DSD (_Z where not broken down).
    pop_group: str = Field(max_length=10)
    spec_need: str = Field(max_length=10)
    measure: str = Field(max_length=20)
    citizenship: str = Field(max_length=4)
    value: float | None = None
    unit_measure: str = Field(max_length=10)
    obs_status: str | None = Field(default=None, max_length=1)
    conf_status: str = Field(max_length=1)
    suppressed_inputs: list[str] = Field(default_factory=list, sa_type=sa.JSON)
