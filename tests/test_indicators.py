"""Indicators from protected cells (standards.indicators): each kind of formula with
hand-chosen numbers, suppression propagating to the indicator with the keys of the inputs it
needed, missing inputs giving no value, and the definitions checked against the standard."""

from __future__ import annotations

import pytest
import yaml

from standards import load_standard
from standards.indicators import Cell, CoverageCount, IndicatorValue, evaluate, load_indicators
from standards.indicators.definitions import IndicatorError, indicators_from
from standards.indicators.periods import earlier, frequency
from standards.loader import DATA_DIR

AREA = "CENTRAL_ASIA"
PERIOD = "2026-Q3"
BASE = {"FREQ": "Q", "COUNTERPART_AREA": "_Z", "POP_GROUP": "_T", "SPEC_NEED": "_T",
        "MEASURE": "STOCK", "CITIZENSHIP": "AFG", "SEX": "_T", "AGE": "_T"}


def cell(value: int | None, conf: str = "F", area: str = AREA, **dims: str) -> Cell:
    return Cell(area=area, dims={**BASE, **dims}, value=value,
                conf_status=conf if value is not None or conf != "F" else "A")


def values(result: list[IndicatorValue], indicator: str) -> list[IndicatorValue]:
    return [v for v in result if v.indicator == indicator]


def one(result: list[IndicatorValue], indicator: str, **breakdown: str) -> IndicatorValue:
    found = [v for v in values(result, indicator)
             if all(v.breakdown[k] == c for k, c in breakdown.items())]
    assert len(found) == 1, (indicator, breakdown, found)
    return found[0]


def test_refugees_and_asylum_seekers_by_citizenship_are_the_released_stock_cells() -> None:
    result = evaluate(PERIOD, [
        cell(120, POP_GROUP="REF"), cell(35, POP_GROUP="ASY"),
        cell(40, POP_GROUP="REF", CITIZENSHIP="SYR"),
        cell(7, POP_GROUP="MIG_LAB"),  # not a refugee or asylum-seeker
        cell(60, POP_GROUP="REF", SEX="F"),  # a breakdown, not the total
    ])
    got = {(v.breakdown["POP_GROUP"], v.breakdown["CITIZENSHIP"]): v.value
           for v in values(result, "REF_ASY")}
    assert got == {("REF", "AFG"): 120, ("ASY", "AFG"): 35, ("REF", "SYR"): 40}
    ref = one(result, "REF_ASY", POP_GROUP="REF", CITIZENSHIP="AFG")
    assert (ref.unit, ref.conf_status, ref.freq, ref.period) == ("PER", "F", "Q", PERIOD)
    assert (ref.breakdown["MEASURE"], ref.breakdown["SPEC_NEED"]) == ("_Z", "_Z")


def test_a_suppressed_input_suppresses_the_indicator_and_names_the_cell() -> None:
    result = evaluate(PERIOD, [cell(None, "A", POP_GROUP="ASY")])
    asy = one(result, "REF_ASY", POP_GROUP="ASY")
    assert (asy.value, asy.conf_status) == (None, "S")
    assert asy.suppressed_inputs == ("Q.CENTRAL_ASIA._Z.ASY._T.STOCK.AFG._T._T@2026-Q3",)


def test_share_of_women_and_of_children_per_population_group() -> None:
    result = evaluate(PERIOD, [
        cell(120, POP_GROUP="REF"), cell(30, POP_GROUP="REF", SEX="F"),
        cell(45, POP_GROUP="REF", AGE="Y_LT18"),
        cell(0, POP_GROUP="STA"), cell(0, POP_GROUP="STA", SEX="F"),
    ])
    assert one(result, "SHARE_WOMEN", POP_GROUP="REF").value == 25.0
    assert one(result, "SHARE_CHILDREN", POP_GROUP="REF").value == 37.5
    assert one(result, "SHARE_WOMEN", POP_GROUP="REF").unit == "PC"
    nobody = one(result, "SHARE_WOMEN", POP_GROUP="STA")  # a share of nobody cannot exist
    assert (nobody.value, nobody.obs_status, nobody.conf_status) == (None, "M", "F")
    # No children's band of stateless persons was released: no value, not a zero.
    assert [v.breakdown["POP_GROUP"] for v in values(result, "SHARE_CHILDREN")] == ["REF"]


def test_a_ratio_with_a_suppressed_numerator_is_withheld_not_computed() -> None:
    """Publishing 25 % of a published 120 would give the hidden numerator back (30)."""
    result = evaluate(PERIOD, [cell(120, POP_GROUP="REF"),
                               cell(None, "S", POP_GROUP="REF", SEX="F")])
    share = one(result, "SHARE_WOMEN", POP_GROUP="REF")
    assert (share.value, share.conf_status) == (None, "S")
    assert share.suppressed_inputs == ("Q.CENTRAL_ASIA._Z.REF._T.STOCK.AFG.F._T@2026-Q3",)


def test_asylum_recognition_rate_is_positive_over_all_first_instance_decisions() -> None:
    result = evaluate(PERIOD, [
        cell(48, POP_GROUP="ASY", MEASURE="DEC_FI"),
        cell(12, POP_GROUP="ASY", MEASURE="DEC_FI_POS"),
        cell(9, POP_GROUP="ASY", MEASURE="DEC_FI", CITIZENSHIP="SYR"),
        cell(None, "A", POP_GROUP="ASY", MEASURE="DEC_FI_POS", CITIZENSHIP="SYR"),
    ])
    assert one(result, "ASY_RECOGNITION", CITIZENSHIP="AFG").value == 25.0
    syr = one(result, "ASY_RECOGNITION", CITIZENSHIP="SYR")
    assert syr.value is None and syr.suppressed_inputs == (
        "Q.CENTRAL_ASIA._Z.ASY._T.DEC_FI_POS.SYR._T._T@2026-Q3",)
    assert one(result, "ASY_RECOGNITION", CITIZENSHIP="AFG").breakdown["POP_GROUP"] == "_Z"


def test_quarter_on_quarter_and_year_on_year_changes_from_earlier_releases() -> None:
    result = evaluate(
        PERIOD, [cell(120, POP_GROUP="REF"), cell(30, POP_GROUP="ASY"),
                 cell(50, POP_GROUP="REF", CITIZENSHIP="SYR")],
        previous={"2026-Q2": [cell(100, POP_GROUP="REF"), cell(0, POP_GROUP="ASY"),
                              cell(None, "A", POP_GROUP="REF", CITIZENSHIP="SYR")],
                  "2025-Q3": [cell(150, POP_GROUP="REF")]})
    assert one(result, "REF_ASY_CHANGE_Q", POP_GROUP="REF", CITIZENSHIP="AFG").value == 20.0
    assert one(result, "REF_ASY_CHANGE_Y", POP_GROUP="REF", CITIZENSHIP="AFG").value == -20.0
    from_zero = one(result, "REF_ASY_CHANGE_Q", POP_GROUP="ASY")
    assert (from_zero.value, from_zero.obs_status) == (None, "M")
    hidden = one(result, "REF_ASY_CHANGE_Q", POP_GROUP="REF", CITIZENSHIP="SYR")
    assert (hidden.value, hidden.conf_status) == (None, "S")
    assert hidden.suppressed_inputs == ("Q.CENTRAL_ASIA._Z.REF._T.STOCK.SYR._T._T@2026-Q2",)
    # No release of 2025-Q3 for asylum-seekers or Syrians: no year-on-year value for them.
    assert {(v.breakdown["POP_GROUP"], v.breakdown["CITIZENSHIP"])
            for v in values(result, "REF_ASY_CHANGE_Y")} == {("REF", "AFG")}


def test_without_an_earlier_release_there_is_no_change_at_all() -> None:
    result = evaluate(PERIOD, [cell(120, POP_GROUP="REF")])
    assert not values(result, "REF_ASY_CHANGE_Q") and not values(result, "REF_ASY_CHANGE_Y")


def test_returns_by_type() -> None:
    returns = dict(COUNTERPART_AREA="_T", POP_GROUP="ASY_REJ")
    result = evaluate(PERIOD, [
        cell(14, MEASURE="RET_VOL_ASST", **returns), cell(6, MEASURE="RET_VOL_UNASST", **returns),
        cell(20, MEASURE="RET_VOL", **returns), cell(None, "A", MEASURE="RET_ENF", **returns),
        cell(9, MEASURE="RET_VOL", COUNTERPART_AREA="AFG", POP_GROUP="ASY_REJ"),  # one place
    ])
    got = {v.breakdown["MEASURE"]: v.value for v in values(result, "RETURNS")}
    assert got == {"RET_VOL_ASST": 14, "RET_VOL_UNASST": 6, "RET_VOL": 20, "RET_ENF": None}
    assert one(result, "RETURNS", MEASURE="RET_VOL").breakdown["POP_GROUP"] == "ASY_REJ"


def test_victims_of_trafficking_and_unaccompanied_children_identified_and_referred() -> None:
    result = evaluate(PERIOD, [
        cell(11, MEASURE="IDENTIFIED", SPEC_NEED="VOT"),
        cell(5, MEASURE="REFERRED_ASY", SPEC_NEED="VOT"),
        cell(8, MEASURE="IDENTIFIED", SPEC_NEED="UASC"),
        cell(30, MEASURE="IDENTIFIED", SPEC_NEED="SMUG"),  # not one of them
    ])
    got = {(v.breakdown["MEASURE"], v.breakdown["SPEC_NEED"]): v.value
           for v in values(result, "VOT_UASC")}
    assert got == {("IDENTIFIED", "VOT"): 11, ("REFERRED_ASY", "VOT"): 5,
                   ("IDENTIFIED", "UASC"): 8}


def test_coverage_is_participants_included_over_participants() -> None:
    result = evaluate(PERIOD, [], coverage={"CENTRAL_ASIA": CoverageCount(3, 5),
                                            "ALMATY_PROCESS": CoverageCount(3, 4)})
    got = {v.area: v.value for v in values(result, "COVERAGE")}
    assert got == {"CENTRAL_ASIA": 60.0, "ALMATY_PROCESS": 75.0}
    assert all(set(v.breakdown.values()) == {"_Z"} for v in values(result, "COVERAGE"))


def test_areas_are_evaluated_apart_and_states_beside_regions() -> None:
    result = evaluate(PERIOD, [cell(120, POP_GROUP="REF"),
                               cell(80, POP_GROUP="REF", area="KAZ")])
    assert {v.area: v.value for v in values(result, "REF_ASY")} == {AREA: 120, "KAZ": 80}


def test_no_published_indicator_has_a_suppressed_input() -> None:
    """Over a table where every other cell is suppressed: whatever is published came from
    published cells only, and whatever is withheld names only suppressed cells."""
    cells = []
    for n, (group, sex, age) in enumerate(
            (g, s, a) for g in ("REF", "ASY") for s in ("F", "_T") for a in ("Y_LT18", "_T")):
        cells.append(cell(None if n % 2 else 10 + n, "A", POP_GROUP=group, SEX=sex, AGE=age))
    hidden = {c.key(PERIOD) for c in cells if c.value is None}
    for v in evaluate(PERIOD, cells):
        if v.value is not None:
            assert not v.suppressed_inputs and v.conf_status == "F"
        else:
            assert set(v.suppressed_inputs) <= hidden


def test_weekly_series_change_on_the_previous_week() -> None:
    week = dict(FREQ="W", POP_GROUP="REF")
    result = evaluate("2026-W01", [Cell(AREA, {**BASE, **week}, 110)],
                      previous={"2025-W52": [Cell(AREA, {**BASE, **week}, 100)]})
    change = one(result, "REF_ASY_CHANGE_Q", POP_GROUP="REF")
    assert (change.value, change.freq) == (10.0, "W")


@pytest.mark.parametrize(("period", "lag", "before"), [
    ("2026-Q3", 1, "2026-Q2"), ("2026-Q1", 1, "2025-Q4"), ("2026-Q3", 4, "2025-Q3"),
    ("2026-W01", 1, "2025-W52"), ("2026-W30", 52, "2025-W30"), ("2021-W01", 1, "2020-W53"),
])
def test_earlier_periods(period: str, lag: int, before: str) -> None:
    assert earlier(period, lag) == before
    assert frequency(before) == period[5]


# --- the definitions -------------------------------------------------------------------------

def _raw() -> dict:
    return yaml.safe_load((DATA_DIR / "indicators.yaml").read_text(encoding="utf-8"))


def test_the_issue_asks_for_these_indicators_at_least() -> None:
    ids = {i.id for i in load_indicators().indicators}
    assert {"REF_ASY", "SHARE_WOMEN", "SHARE_CHILDREN", "ASY_RECOGNITION", "REF_ASY_CHANGE_Q",
            "REF_ASY_CHANGE_Y", "RETURNS", "VOT_UASC", "COVERAGE"} <= ids


@pytest.mark.parametrize(("path", "wrong", "message"), [
    (("indicators", 0, "formula", "sum", "select", "MEASURE"), "STOKC", "has no codes"),
    (("indicators", 0, "formula", "sum", "by"), ["SEX"], "not breakdowns"),
    (("indicators", 0, "part"), "V", "no Regional Action Plan part"),
    (("indicators", 4, "formula", "change", "of"), "COVERAGE", "not a sum or ratio"),
    (("indicators", 0, "formula"), {"eval": "1+1"}, "unknown formula"),
])
def test_a_definition_the_standard_cannot_mean_fails_at_load(path: tuple, wrong: object,
                                                             message: str) -> None:
    raw = _raw()
    target = raw
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = wrong
    with pytest.raises(IndicatorError, match=message):
        indicators_from(raw, load_standard())
