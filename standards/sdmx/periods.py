"""SDMX reporting periods as intervals of days, so query bounds compare as periods.

``startPeriod=2020`` must select ``2020-Q1`` .. ``2020-Q4`` and the weeks of 2020, and a quarter
bound must select the weeks inside it: comparing strings cannot do that across forms. A period
is selected when its middle day lies inside the asked range. For quarters and months that is
"the period lies inside the range" whenever the range is made of whole months; for ISO weeks it
is "the week belongs to the year of its Thursday", ISO 8601's own rule (2020-W01 starts on
2019-12-30 and belongs to 2020).

Forms read: ``YYYY`` (A), ``YYYY-Sn`` (S), ``YYYY-Qn`` (Q), ``YYYY-MM`` and ``YYYY-Mmm`` (M),
``YYYY-Www`` (W), ``YYYY-MM-DD`` (D). Every form of one frequency sorts as text in time
order, so a range becomes ``lo <= period <= hi`` per frequency (``bounds``), which a database
evaluates on a plain string column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("A", re.compile(r"^(\d{4})(?:-A1)?$")),
    ("S", re.compile(r"^(\d{4})-S([12])$")),
    ("Q", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("M", re.compile(r"^(\d{4})-M?(0[1-9]|1[0-2])$")),
    ("W", re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")),
    ("D", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
)
FREQUENCIES = tuple(f for f, _ in _FORMS)


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: its frequency, first and last day."""

    first: date
    last: date
    freq: str

    @property
    def middle(self) -> date:
        return self.first + (self.last - self.first) // 2


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1))


def parse(text: str) -> Period | None:
    """The period a text names, or None when it is not one of the forms above."""
    for freq, pattern in _FORMS:
        m = pattern.match(text)
        if not m:
            continue
        year = int(m.group(1))
        if year < 1:
            return None
        try:
            if freq == "A":
                return Period(date(year, 1, 1), date(year, 12, 31), freq)
            if freq in ("S", "Q", "M"):
                months = {"S": 6, "Q": 3, "M": 1}[freq]
                start = (int(m.group(2)) - 1) * months + 1
                return Period(date(year, start, 1), _month_end(year, start + months - 1), freq)
            if freq == "W":
                first = date.fromisocalendar(year, int(m.group(2)), 1)
                return Period(first, first + timedelta(days=6), freq)
            day = date(year, int(m.group(2)), int(m.group(3)))
            return Period(day, day, freq)
        except (ValueError, OverflowError):  # week 53 of a 52-week year, 2021-02-30,
            # the days after 9999-12-31
            return None
    return None


def label(freq: str, day: date) -> str:
    """The period of ``freq`` that contains ``day``, in its SDMX form."""
    if freq == "A":
        return f"{day.year:04d}"
    if freq == "S":
        return f"{day.year:04d}-S{(day.month - 1) // 6 + 1}"
    if freq == "Q":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if freq == "M":
        return f"{day.year:04d}-{day.month:02d}"
    if freq == "W":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return day.isoformat()


@dataclass(frozen=True)
class PeriodRange:
    """``startPeriod`` .. ``endPeriod``; either end may be open."""

    start: Period | None = None
    end: Period | None = None

    @property
    def open(self) -> bool:
        return self.start is None and self.end is None

    def contains(self, period: str) -> bool:
        p = parse(period)
        if p is None:
            return False
        middle = p.middle
        return (self.start is None or middle >= self.start.first) and \
            (self.end is None or middle <= self.end.last)

    def bounds(self, freq: str) -> tuple[str | None, str | None]:
        """The first and last period of ``freq`` the range selects (None: open), as text that
        compares in time order with the periods of that frequency."""
        lo = hi = None
        if self.start is not None:
            lo = label(freq, self.start.first)
            if not self.contains(lo):
                after = parse(lo)
                lo = _label_moved(freq, after.last, +1) if after else lo
        if self.end is not None:
            hi = label(freq, self.end.last)
            if not self.contains(hi):
                before = parse(hi)
                hi = _label_moved(freq, before.first, -1) if before else hi
        return lo, hi


def _label_moved(freq: str, day: date, days: int) -> str:
    """The period of the day ``days`` from ``day``; at the ends of the calendar (year 1,
    year 9999) the period of ``day`` itself."""
    try:
        return label(freq, day + timedelta(days=days))
    except OverflowError:
        return label(freq, day)
