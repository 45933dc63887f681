"""Quarters -> year, and the year in UNHCR's Refugee Data Finder shape (pure; hand-chosen
numbers). The exchange's export over real releases is tested in tests/api/test_views.py."""

from __future__ import annotations

import polars as pl
import pytest

from standards import load_standard
from standards.annual import derive_annual, measure_kinds, quarters_of
from standards.unhcr import load_unhcr, to_unhcr

KINDS = {"STOCK": "stock", "NATZ": "flow"}


def quarters(rows: list[tuple]) -> pl.DataFrame:
    """(AREA, MEASURE, TIME_PERIOD, OBS_VALUE, CONF_STATUS) rows."""
    return pl.DataFrame(rows, schema={"AREA": pl.String, "MEASURE": pl.String,
                                      "TIME_PERIOD": pl.String, "OBS_VALUE": pl.Int64,
                                      "CONF_STATUS": pl.String}, orient="row")


def by_key(frame: pl.DataFrame) -> dict[tuple[str, str], tuple[int | None, str | None]]:
    return {(r["AREA"], r["MEASURE"]): (r["OBS_VALUE"], r["FLAG"])
            for r in frame.iter_rows(named=True)}


def test_a_stock_is_its_fourth_quarter_and_a_flow_the_sum_of_four() -> None:
    year = derive_annual(quarters([
        ("KAZ", "STOCK", "2026-Q1", 700, "F"), ("KAZ", "STOCK", "2026-Q2", 710, "F"),
        ("KAZ", "STOCK", "2026-Q3", 705, "F"), ("KAZ", "STOCK", "2026-Q4", 731, "F"),
        ("KAZ", "NATZ", "2026-Q1", 12, "F"), ("KAZ", "NATZ", "2026-Q2", 0, "F"),
        ("KAZ", "NATZ", "2026-Q3", 30, "F"), ("KAZ", "NATZ", "2026-Q4", 8, "F"),
        ("KAZ", "NATZ", "2025-Q4", 99, "F"),  # another year: ignored
    ]), year=2026, kinds=KINDS)
    assert by_key(year) == {("KAZ", "STOCK"): (731, None), ("KAZ", "NATZ"): (50, None)}
    assert year["YEAR"].to_list() == [2026, 2026]


def test_a_stock_needs_only_its_fourth_quarter() -> None:
    year = derive_annual(quarters([("KGZ", "STOCK", "2026-Q4", 40, None),
                                   ("KGZ", "STOCK", "2026-Q2", None, "A")]),
                         year=2026, kinds=KINDS)
    assert by_key(year) == {("KGZ", "STOCK"): (40, None)}


def test_a_suppressed_or_missing_input_empties_the_year_and_says_which() -> None:
    year = derive_annual(quarters([
        ("KAZ", "NATZ", "2026-Q1", 12, "F"), ("KAZ", "NATZ", "2026-Q2", None, "A"),
        ("KAZ", "NATZ", "2026-Q3", 30, "F"),  # no 2026-Q4 at all
        ("KGZ", "NATZ", "2026-Q1", 5, "F"), ("KGZ", "NATZ", "2026-Q2", 6, "F"),
        ("KGZ", "NATZ", "2026-Q3", None, "S"), ("KGZ", "NATZ", "2026-Q4", 7, "F"),
        ("TJK", "STOCK", "2026-Q3", 10, "F"),  # a stock without its fourth quarter
        ("UZB", "STOCK", "2026-Q4", None, None),  # no value (e.g. not collected)
    ]), year=2026, kinds=KINDS)
    assert by_key(year) == {
        ("KAZ", "NATZ"): (None, "2026-Q2 suppressed (A); 2026-Q4 missing"),
        ("KGZ", "NATZ"): (None, "2026-Q3 suppressed (S)"),
        ("TJK", "STOCK"): (None, "2026-Q4 missing"),
        ("UZB", "STOCK"): (None, "2026-Q4 missing"),
    }


def test_harmonized_quarters_need_no_conf_status_column() -> None:
    frame = quarters([("KAZ", "NATZ", q, 3, None) for q in quarters_of(2026)]).drop(
        "CONF_STATUS")
    assert by_key(derive_annual(frame, year=2026, kinds=KINDS)) == {("KAZ", "NATZ"): (12, None)}


def test_a_measure_of_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="DEATHS"):
        derive_annual(quarters([("KAZ", "DEATHS", "2026-Q1", 1, None)]), year=2026,
                      kinds=KINDS)


def test_the_standards_measures_all_have_a_kind() -> None:
    codes = load_standard().codelists["CL_MEASURE"].codes
    kinds = measure_kinds({c.id: c.properties for c in codes})
    assert set(kinds) == {c.id for c in codes}
    assert kinds["STOCK"] == kinds["DETAINED"] == "stock" and kinds["NATZ"] == "flow"


def test_the_unhcr_mapping_names_only_codes_of_the_standard() -> None:
    shape, standard = load_unhcr(), load_standard()
    assert set(shape.population_types) <= set(standard.codelists["CL_POP_GROUP"].ids)
    assert set(shape.sex) <= set(standard.codelists["CL_SEX"].ids)
    assert set(shape.age) <= set(standard.codelists["CL_AGE"].ids)
    assert set(shape.measures) <= set(standard.codelists["CL_MEASURE"].ids)
    assert shape.value_columns[:7] == ["f_0_4", "f_5_11", "f_12_17", "f_18_59", "f_60",
                                       "f_other", "f_total"]
    assert shape.value_columns[-1] == "total" and len(shape.value_columns) == 15


def annual(rows: list[tuple]) -> pl.DataFrame:
    """(AREA, CITIZENSHIP, POP_GROUP, MEASURE, SEX, AGE, OBS_VALUE, FLAG) rows of 2026."""
    frame = pl.DataFrame(rows, schema={
        "AREA": pl.String, "CITIZENSHIP": pl.String, "POP_GROUP": pl.String,
        "MEASURE": pl.String, "SEX": pl.String, "AGE": pl.String, "OBS_VALUE": pl.Int64,
        "FLAG": pl.String}, orient="row")
    return frame.with_columns(pl.lit(2026, dtype=pl.Int32).alias("YEAR"))


def test_annual_figures_in_unhcr_shape() -> None:
    wide = to_unhcr(annual([
        ("KAZ", "AFG", "REF", "STOCK", "F", "Y0T4", 11, None),
        ("KAZ", "AFG", "REF", "STOCK", "F", "_T", 60, None),
        ("KAZ", "AFG", "REF", "STOCK", "M", "Y_GE60", None, "2026-Q4 suppressed (A)"),
        ("KAZ", "AFG", "REF", "STOCK", "_U", "_T", 3, None),  # unknown sex: in total only
        ("KAZ", "AFG", "REF", "STOCK", "_T", "Y0T4", 20, None),  # no UNHCR column
        ("KAZ", "AFG", "REF", "STOCK", "_T", "_T", 130, None),
        ("KAZ", "AFG", "MIG_LAB", "STOCK", "_T", "_T", 900, None),  # not a UNHCR population
        ("KAZ", "AFG", "RET_REF", "NATZ", "_T", "_T", 4, None),
    ]), load_unhcr())
    assert wide.columns[:6] == ["year", "coo_iso", "coa_iso", "pop_type", "measure",
                                "unhcr_table"]
    rows = {(r["pop_type"], r["measure"]): r for r in wide.iter_rows(named=True)}
    assert set(rows) == {("REF", "STOCK"), ("RET", "NATZ")}
    ref = rows["REF", "STOCK"]
    assert (ref["year"], ref["coo_iso"], ref["coa_iso"], ref["unhcr_table"]) == (
        2026, "AFG", "KAZ", "demographics")
    assert (ref["f_0_4"], ref["f_total"], ref["m_60"], ref["total"]) == (11, 60, None, 130)
    flags = dict(entry.split(": ", 1) for entry in ref["flags"].split("; "))
    assert flags["m_60"] == "2026-Q4 suppressed (A)" and flags["f_5_11"] == "not reported"
    assert not {"f_0_4", "f_total", "total"} & set(flags)
    assert rows["RET", "NATZ"]["total"] == 4
    assert rows["RET", "NATZ"]["unhcr_table"] == "solutions"
