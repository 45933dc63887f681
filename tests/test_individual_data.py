"""Individual-level data is refused, and the report never repeats it.

The rule (README.md, "Validation rules"): refuse columns that look like personal identifiers and
tables that look like microdata (no count column, one row per person); seed 003 ~2099 "use
aggregate and trend data wherever possible so as to avoid exposing individual identities".
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from standards.validation import Rule
from tests.conftest import COUNTRY, PERIOD, corrupt, file_row, issues_of

IDENTIFIER_HEADERS = [
    "Name", "full_name", "Date of birth", "DOB", "passport_no", "Numéro de passeport", "ФИО",
    "Фамилия", "дата рождения", "phone", "Téléphone", "address", "Адрес", "case_number",
    "registration_no", "email",
    # More usual spellings from the standard's own list of identifier columns.
    "First Name", "Surname", "Имя", "Паспорт", "Номер паспорта", "Мобильный", "Телефон",
    "Место жительства", "Номер дела", "Date de naissance", "Adresse", "National ID", "Mobile No.",
]
SECRET = "Aigerim Nurlanovna Seitkali"


def report_text(report) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False) + report.to_csv()


def persons_table(rows: int, count: str = "1") -> pl.DataFrame:
    """One row per person: distinct keys, each counting exactly one person."""
    citizenships = ["AFG", "UZB", "TJK", "KGZ", "RUS", "CHN", "SYR", "IRN", "PAK", "IRQ", "TUR",
                    "IND", "BGD", "NPL", "LKA", "SOM", "ETH", "ERI", "SDN", "YEM", "MMR", "UNK",
                    "STLS", "AZE", "ARM", "GEO", "MNG", "UKR", "BLR", "MDA"]
    assert rows <= len(citizenships) * 2
    keys = [(c, s) for s in ("F", "M") for c in citizenships][:rows]
    return pl.DataFrame({
        "REF_AREA": [COUNTRY] * rows, "TIME_PERIOD": [PERIOD] * rows,
        "POP_GROUP": ["ASY"] * rows, "MEASURE": ["ASY_APP"] * rows,
        "CITIZENSHIP": [c for c, _ in keys], "SEX": [s for _, s in keys],
        "AGE": ["Y18T59"] * rows, "OBS_VALUE": [count] * rows, "OBS_STATUS": ["A"] * rows,
    })


# --- identifier columns --------------------------------------------------------------------------

@pytest.mark.parametrize("header", IDENTIFIER_HEADERS)
def test_identifier_like_column_is_refused(example, validate_frame, header) -> None:
    frame = example.with_columns(pl.lit(SECRET).alias(header))
    report = validate_frame(frame)
    issues = issues_of(report, Rule.INDIVIDUAL_DATA)
    assert len(issues) == 1, report.as_dict()
    issue = issues[0]
    assert issue.row == 1
    assert issue.column.casefold() == header.casefold()  # headers are matched case-insensitively
    assert issue.value is None
    assert not report.valid and report.exit_code == 1
    assert Rule.STRUCTURE not in report.counts  # not also reported as a mere unknown column


@pytest.mark.parametrize("header", ["Name", "passport_no", "ФИО"])
def test_identifier_column_contents_never_appear_in_the_report(example, validate_frame,
                                                               header) -> None:
    report = validate_frame(example.with_columns(pl.lit(SECRET).alias(header)))
    assert SECRET not in report_text(report)


@pytest.mark.parametrize("header", ["NOTE", "Comment", "source_system", "Region name"])
def test_harmless_unknown_column_is_a_structure_error_not_individual_data(
        example, validate_frame, header) -> None:
    report = validate_frame(example.with_columns(pl.lit("x").alias(header)))
    assert Rule.INDIVIDUAL_DATA not in report.counts
    assert report.counts == {Rule.STRUCTURE: 1}


# --- microdata shapes ----------------------------------------------------------------------------

def test_table_without_a_count_column_is_refused_as_microdata(example, validate_frame) -> None:
    report = validate_frame(example.drop("OBS_VALUE"))
    (issue,) = issues_of(report, Rule.INDIVIDUAL_DATA)
    assert (issue.row, issue.column, issue.value) == (1, "OBS_VALUE", None)
    assert "one row per person" in issue.message


def test_list_of_persons_without_counts_is_refused(validate_frame) -> None:
    """A register export: dimension-like columns and nothing counted."""
    persons = persons_table(25).drop("OBS_VALUE", "OBS_STATUS")
    report = validate_frame(persons)
    assert Rule.INDIVIDUAL_DATA in report.counts
    assert report.exit_code == 1


def test_table_whose_counts_are_all_one_is_refused(validate_frame) -> None:
    report = validate_frame(persons_table(25))
    issue = only_individual(report)
    assert issue.column == "OBS_VALUE"
    assert issue.value is None
    assert "exactly 1" in issue.message


def test_few_rows_of_one_are_an_aggregate_not_microdata(validate_frame) -> None:
    """A small table of ones is ordinary small counts (below the standard's minimum of rows)."""
    report = validate_frame(persons_table(19))
    assert report.valid, report.as_dict()


def test_table_of_ordinary_counts_is_not_microdata(validate_frame) -> None:
    report = validate_frame(persons_table(40, count="7"))
    assert report.valid, report.as_dict()


def test_exact_ages_instead_of_bands_are_refused(example, validate_frame) -> None:
    frame = example
    for index, age in ((10, "34"), (11, "35"), (12, "7")):
        frame = corrupt(frame, index, "AGE", age)
    report = validate_frame(frame)
    (issue,) = issues_of(report, Rule.INDIVIDUAL_DATA)
    assert (issue.row, issue.column, issue.value) == (file_row(10), "AGE", None)
    assert report.counts[Rule.INDIVIDUAL_DATA] == 3


@pytest.mark.parametrize("date", ["1990-05-12", "12.05.1990", "3/7/85"])
def test_dates_in_a_column_are_refused(example, validate_frame, date) -> None:
    report = validate_frame(corrupt(example, 20, "AGE", date))
    (issue,) = issues_of(report, Rule.INDIVIDUAL_DATA)
    assert (issue.row, issue.column, issue.value) == (file_row(20), "AGE", None)
    assert "date" in issue.message


def test_dates_in_the_count_column_are_refused(example, validate_frame) -> None:
    report = validate_frame(corrupt(example, 30, "OBS_VALUE", "14.02.2001"))
    (issue,) = issues_of(report, Rule.INDIVIDUAL_DATA)
    assert (issue.row, issue.column, issue.value) == (file_row(30), "OBS_VALUE", None)


def test_valid_codes_never_look_like_individual_data(example, validate_frame) -> None:
    """Quarters such as 2026-Q3 and bands such as Y18T59 are not dates or ages."""
    assert Rule.INDIVIDUAL_DATA not in validate_frame(example).counts


# --- the report does not repeat personal data -----------------------------------------------------

def test_individual_data_issues_never_carry_the_offending_value(example, validate_frame) -> None:
    frame = corrupt(corrupt(example, 5, "AGE", "41"), 6, "CITIZENSHIP", "1985-11-30")
    frame = frame.with_columns(pl.lit(SECRET).alias("full_name"))
    report = validate_frame(frame)
    issues = issues_of(report, Rule.INDIVIDUAL_DATA)
    assert {i.column for i in issues} == {"FULL_NAME", "AGE", "CITIZENSHIP"}
    assert all(i.value is None for i in issues)
    assert all("1985-11-30" not in (i.message + (i.hint or "")) for i in issues)


def test_a_date_of_birth_is_not_echoed_by_any_rule(example, validate_frame) -> None:
    """The report is stored by the exchange: a cell refused as personal data must not reach it
    through another rule (here the AGE code list) either."""
    report = validate_frame(corrupt(example, 5, "AGE", "1985-11-30"))
    assert Rule.INDIVIDUAL_DATA in report.counts
    assert "1985-11-30" not in report_text(report)


def only_individual(report):
    issues = issues_of(report, Rule.INDIVIDUAL_DATA)
    assert report.counts.get(Rule.INDIVIDUAL_DATA) == 1, report.as_dict()
    return issues[0]
