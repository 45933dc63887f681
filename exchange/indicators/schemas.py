"""What the indicator endpoints return (read-only: indicators are computed, never posted)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SourceOut(BaseModel):
    file: str
    line: int
    quote: str


class IndicatorOut(BaseModel):
    id: str
    name: dict[str, str] = Field(description="Labels in en, ru and fr.")
    description: dict[str, str]
    formula: dict[str, Any] = Field(description="The formula as indicators.yaml declares it "
                                    "(sum, ratio, change or coverage, over the codes of the "
                                    "standard).")
    unit: str = Field(description="CL_IND_UNIT: PER persons, PC percent.")
    decimals: int
    breakdowns: list[str] = Field(description="The dimensions its values are broken down by; "
                                  "the other breakdown dimensions are _Z.")
    action_plan_part: str = Field(description="The part of the Regional Action Plan it "
                                  "serves: I to IV.")
    action_plan_part_name: dict[str, str]
    source: list[SourceOut] = Field(description="The seed lines that motivate it.")


class IndicatorValueOut(BaseModel):
    FREQ: str
    REF_AREA: str
    INDICATOR: str
    POP_GROUP: str
    SPEC_NEED: str
    MEASURE: str
    CITIZENSHIP: str
    TIME_PERIOD: str
    OBS_VALUE: float | None = Field(description="None when withheld (CONF_STATUS S) or when "
                                    "it cannot exist (OBS_STATUS M).")
    UNIT_MEASURE: str
    OBS_STATUS: str | None
    CONF_STATUS: str
    SUPPRESSED_INPUTS: list[str] = Field(description="Keys of the suppressed cells that "
                                         "withheld the value (FREQ.REF_AREA.….AGE@PERIOD).")
    RELEASE_ID: int
    RELEASE_NUMBER: int
