"""The one evaluator of the indicators: a release's protected cells in, indicator values out.

Its inputs are published values only: the cells of the release as released (a suppressed cell
has no value, only its CONF_STATUS), the released cells of earlier periods (for changes) and the
release's coverage (which participating states its regional tables include, itself published
with the release). So publishing every indicator is safe: each is a function of values
anyone can already read, and a function of public numbers reveals nothing they do not. What
would not be safe is an indicator over a suppressed cell's true value: a ratio with a
published denominator, or a sum with its other terms published, gives the hidden cell back
(numerator = ratio x denominator). The evaluator never sees true values, and an indicator
with a suppressed input is itself suppressed: no value, CONF_STATUS ``S`` (withheld so that
a suppressed cell cannot be derived), and the keys of the suppressed inputs it needed.

Missing is not suppressed: a group whose inputs are absent from the release (not reported,
or not part of the tables) has no value at all; a share of nothing or a change from zero has
no value and OBS_STATUS ``M`` (cannot exist).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from standards.indicators.definitions import (
    NOT_APPLICABLE,
    Change,
    Coverage,
    Indicator,
    Indicators,
    Ratio,
    Selection,
    Sum,
    load_indicators,
)
from standards.indicators.periods import earlier, frequency
from standards.loader import load_standard

FREE = "F"
# CONF_STATUS of an indicator withheld because an input is suppressed.
WITHHELD = "S"
# OBS_STATUS of a value that cannot exist (a share of zero persons, a change from zero).
CANNOT_EXIST = "M"


@dataclass(frozen=True)
class Cell:
    """A released cell: its area (a state or a region), the other dimensions of the release
    (FREQ, COUNTERPART_AREA, POP_GROUP, SPEC_NEED, MEASURE, CITIZENSHIP, SEX, AGE), its value
    (None when suppressed) and CONF_STATUS."""

    area: str
    dims: Mapping[str, str]
    value: int | None
    conf_status: str = FREE

    def key(self, period: str) -> str:
        """The cell's SDMX series key in the release DSD's order, with its period:
        ``Q.CENTRAL_ASIA._Z.ASY._T.DEC_FI.AFG._T._T@2026-Q3``."""
        codes = [self.area if d == "REF_AREA" else self.dims.get(d, "")
                 for d in _key_order()]
        return ".".join(codes) + f"@{period}"


@dataclass(frozen=True)
class CoverageCount:
    """Participating states of a region whose tables a release includes, and all of them."""

    reporting: int
    participants: int


@dataclass(frozen=True)
class IndicatorValue:
    indicator: str
    area: str
    freq: str
    period: str
    # Every breakdown dimension of the indicator DSD: a code, or _Z where not broken down.
    breakdown: Mapping[str, str]
    value: float | None
    unit: str
    conf_status: str = FREE
    obs_status: str | None = None
    # Keys (``Cell.key``) of the suppressed inputs that withheld it; empty when published.
    suppressed_inputs: tuple[str, ...] = ()


@dataclass
class _Raw:
    """A value before rounding (changes are computed from unrounded values)."""

    value: float | None
    obs_status: str | None = None
    suppressed: list[str] = field(default_factory=list)


@cache
def _key_order() -> tuple[str, ...]:
    """The release DSD's dimensions but TIME_PERIOD (REF_AREA is the cell's area)."""
    return tuple(d for d in load_standard().dimension_ids if d != "TIME_PERIOD")


def _matches(cell: Cell, select: Selection) -> bool:
    return all(cell.dims.get(dim) in codes for dim, codes in select.items())


def _groups(cells: Iterable[Cell], select: Selection, by: tuple[str, ...]
            ) -> dict[tuple[str, tuple[str, ...]], list[Cell]]:
    out: dict[tuple[str, tuple[str, ...]], list[Cell]] = defaultdict(list)
    for cell in cells:
        if _matches(cell, select):
            out[(cell.area, tuple(cell.dims[d] for d in by))].append(cell)
    return out


def _total(cells: list[Cell], period: str) -> tuple[int | None, list[str]]:
    suppressed = [c.key(period) for c in cells if c.value is None]
    return (None if suppressed else sum(int(c.value or 0) for c in cells)), suppressed


def _base(indicator: Indicator, period: str, cells: list[Cell]
          ) -> dict[tuple[str, tuple[str, ...]], _Raw]:
    """Values of a sum or ratio indicator, by (area, codes of its ``by`` dimensions)."""
    formula = indicator.formula
    out: dict[tuple[str, tuple[str, ...]], _Raw] = {}
    if isinstance(formula, Sum):
        for group, members in _groups(cells, formula.select, formula.by).items():
            total, suppressed = _total(members, period)
            out[group] = _Raw(None if total is None else float(total), suppressed=suppressed)
    elif isinstance(formula, Ratio):
        numerators = _groups(cells, formula.numerator, formula.by)
        denominators = _groups(cells, formula.denominator, formula.by)
        for group in numerators.keys() & denominators.keys():
            top, hidden_top = _total(numerators[group], period)
            bottom, hidden_bottom = _total(denominators[group], period)
            suppressed = hidden_top + hidden_bottom
            if suppressed or top is None or bottom is None:
                out[group] = _Raw(None, suppressed=suppressed)
            elif bottom == 0:
                out[group] = _Raw(None, obs_status=CANNOT_EXIST)
            else:
                out[group] = _Raw(formula.scale * top / bottom)
    return out


def _change(formula: Change, current: dict[tuple[str, tuple[str, ...]], _Raw],
            before: dict[tuple[str, tuple[str, ...]], _Raw]
            ) -> dict[tuple[str, tuple[str, ...]], _Raw]:
    out = {}
    for group in current.keys() & before.keys():
        now, then = current[group], before[group]
        suppressed = now.suppressed + then.suppressed
        if suppressed:
            out[group] = _Raw(None, suppressed=suppressed)
        elif now.value is None or then.value is None or then.value == 0:
            out[group] = _Raw(None, obs_status=CANNOT_EXIST)
        else:
            out[group] = _Raw(100 * (now.value - then.value) / then.value)
    return out


def evaluate(period: str, cells: Iterable[Cell], *,
             previous: Mapping[str, Iterable[Cell]] | None = None,
             coverage: Mapping[str, CoverageCount] | None = None,
             definitions: Indicators | None = None) -> list[IndicatorValue]:
    """Every indicator of ``period`` from its released ``cells``; ``previous`` holds the
    released cells of earlier periods by period (the latest published release of each; a
    change whose earlier period is absent has no values), ``coverage`` the release's
    coverage by region."""
    definitions = definitions or load_indicators()
    freq = frequency(period)
    current = list(cells)
    earlier_cells = {p: list(c) for p, c in (previous or {}).items()}
    bases: dict[tuple[str, str], dict[tuple[str, tuple[str, ...]], _Raw]] = {}

    def base(indicator: Indicator, at: str) -> dict[tuple[str, tuple[str, ...]], _Raw]:
        if (indicator.id, at) not in bases:
            bases[(indicator.id, at)] = _base(
                indicator, at, current if at == period else earlier_cells.get(at, []))
        return bases[(indicator.id, at)]

    out: list[IndicatorValue] = []
    for indicator in definitions.indicators:
        formula = indicator.formula
        by = definitions.breakdowns_of(indicator)
        if isinstance(formula, Change):
            of = definitions.by_id[formula.of]
            lag = formula.lag.get(freq)
            raw = {} if lag is None else _change(formula, base(of, period),
                                                 base(of, earlier(period, lag)))
        elif isinstance(formula, Coverage):
            raw = {(region, ()): _Raw(100 * c.reporting / c.participants) if c.participants
                   else _Raw(None, obs_status=CANNOT_EXIST)
                   for region, c in (coverage or {}).items()}
        else:
            raw = base(indicator, period)
        for (area, codes), r in sorted(raw.items()):
            given = dict(zip(by, codes, strict=True))
            out.append(IndicatorValue(
                indicator=indicator.id, area=area, freq=freq, period=period,
                breakdown={b: given.get(b, NOT_APPLICABLE) for b in definitions.breakdown_ids},
                value=None if r.value is None else round(r.value, indicator.decimals),
                unit=indicator.unit,
                conf_status=WITHHELD if r.suppressed else FREE, obs_status=r.obs_status,
                suppressed_inputs=tuple(sorted(set(r.suppressed)))))
    return out
