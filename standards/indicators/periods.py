"""Periods earlier than a period, for changes: quarters count back in quarters, emergency
weeks in ISO 8601 weeks (so 52 weeks back is the same week of the year before, or its
neighbour in a year of 53 weeks)."""

from __future__ import annotations

import re
from datetime import date, timedelta

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def frequency(period: str) -> str:
    """CL_FREQ of a TIME_PERIOD: Q for YYYY-Qn, W for YYYY-Www."""
    if _QUARTER.match(period):
        return "Q"
    if _WEEK.match(period):
        return "W"
    raise ValueError(f"not a quarter or an ISO week: {period!r}")


def earlier(period: str, lag: int) -> str:
    """The period ``lag`` periods before ``period`` (of the same frequency)."""
    if m := _QUARTER.match(period):
        index = int(m[1]) * 4 + int(m[2]) - 1 - lag
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    if m := _WEEK.match(period):
        year, week, _ = (date.fromisocalendar(int(m[1]), int(m[2]), 1)
                         - timedelta(weeks=lag)).isocalendar()
        return f"{year:04d}-W{week:02d}"
    raise ValueError(f"not a quarter or an ISO week: {period!r}")
