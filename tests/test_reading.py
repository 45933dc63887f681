"""Input formats, and the bad inputs that must each get one clear error instead of a traceback."""

from __future__ import annotations

import random
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from standards.example import with_dataflow
from standards.validation import FileFormat, Rule, validate_file
from tests.conftest import COUNTRY, PERIOD, corrupt, file_row, issues_of


def issue_keys(report) -> list[tuple]:
    return sorted((i.rule.value, i.row or 0, i.column or "", i.value or "") for i in report.issues)


def write_xlsx(frame: pl.DataFrame, path: Path) -> Path:
    """A workbook as a spreadsheet program writes it: counts are numeric cells, not text."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(frame.columns)
    for row in frame.iter_rows():
        sheet.append([int(v) if c == "OBS_VALUE" and v not in (None, "") else v
                      for c, v in zip(frame.columns, row, strict=True)])
    book.save(path)
    return path


def assert_one_unusable(report) -> None:
    assert report.counts == {Rule.UNUSABLE: 1}, report.as_dict()
    assert len(report.issues) == 1
    assert report.issues[0].rule == Rule.UNUSABLE
    assert report.issues[0].message
    assert not report.usable and not report.valid
    assert report.exit_code == 2


# --- CSV dialects --------------------------------------------------------------------------------

def test_comma_separated_csv_is_read(example, write_csv) -> None:
    report = validate_file(write_csv(example), country=COUNTRY, period=PERIOD)
    assert report.valid, report.as_dict()
    assert (report.file_format, report.rows) == ("csv", example.height)


def test_semicolon_separated_csv_is_read(example, write_csv) -> None:
    report = validate_file(write_csv(example, separator=";"), country=COUNTRY, period=PERIOD)
    assert report.valid, report.as_dict()
    assert report.rows == example.height


def test_semicolon_csv_errors_are_located_like_comma_csv(example, write_csv) -> None:
    bad = corrupt(example, 7, "SEX", "X")
    comma = validate_file(write_csv(bad, "comma.csv"))
    semicolon = validate_file(write_csv(bad, "semicolon.csv", separator=";"))
    assert issue_keys(semicolon) == issue_keys(comma) == [("code_list", file_row(7), "SEX", "X")]


def test_utf8_with_bom_is_read(example, write_csv) -> None:
    """Excel's "CSV UTF-8" starts with a byte-order mark; the first column must still match."""
    report = validate_file(write_csv(b"\xef\xbb\xbf" + example.write_csv().encode()))
    assert report.valid, report.as_dict()


def test_crlf_line_endings_are_read(example, write_csv) -> None:
    report = validate_file(write_csv(example.write_csv().replace("\n", "\r\n").encode()))
    assert report.valid, report.as_dict()
    assert report.rows == example.height


def test_crlf_does_not_leak_into_the_last_column(example, write_csv) -> None:
    bad = corrupt(example, 3, "OBS_STATUS", "Z")
    report = validate_file(write_csv(bad.write_csv().replace("\n", "\r\n").encode()))
    assert issue_keys(report) == [("code_list", file_row(3), "OBS_STATUS", "Z")]


def test_uploaded_bytes_validate_like_the_file(example, write_csv) -> None:
    bad = corrupt(example, 9, "OBS_VALUE", "-2")
    assert issue_keys(validate_file(bad.write_csv().encode())) == issue_keys(
        validate_file(write_csv(bad)))


# --- SDMX-CSV 1.0 --------------------------------------------------------------------------------

def test_sdmx_csv_with_dataflow_column_is_read(example, standard, write_csv) -> None:
    frame = with_dataflow(example, standard)
    assert frame["DATAFLOW"][0] == "MMX:MIXED_MOVEMENTS(2.0.0)"
    report = validate_file(write_csv(frame), country=COUNTRY, period=PERIOD)
    assert report.valid, report.as_dict()
    assert report.file_format == "sdmx-csv"


def test_sdmx_csv_rows_are_numbered_like_csv(example, standard, write_csv) -> None:
    frame = with_dataflow(corrupt(example, 12, "AGE", "Y99"), standard)
    report = validate_file(write_csv(frame))
    assert issue_keys(report) == [("code_list", file_row(12), "AGE", "Y99")]


def test_sdmx_csv_naming_another_dataflow_is_reported(example, standard, write_csv) -> None:
    frame = corrupt(with_dataflow(example, standard), 4, "DATAFLOW", "ESTAT:MIGR_ASYAPPCTZM(1.0)")
    report = validate_file(write_csv(frame))
    (issue,) = issues_of(report, Rule.DATAFLOW)
    assert (issue.row, issue.column, issue.value) == (file_row(4), "DATAFLOW",
                                                      "ESTAT:MIGR_ASYAPPCTZM(1.0)")
    assert issue.hint == "MMX:MIXED_MOVEMENTS(2.0.0)"
    assert report.counts == {Rule.DATAFLOW: 1}


def test_sdmx_csv_naming_an_unknown_version_is_reported(example, standard, write_csv) -> None:
    """An upload names the version of the standard it follows; 9.9.9 does not exist."""
    frame = corrupt(with_dataflow(example, standard), 4, "DATAFLOW", "MMX:MIXED_MOVEMENTS(9.9.9)")
    report = validate_file(write_csv(frame))
    (issue,) = issues_of(report, Rule.DATAFLOW)
    assert (issue.row, issue.column, issue.value) == (file_row(4), "DATAFLOW",
                                                      "MMX:MIXED_MOVEMENTS(9.9.9)")


def test_format_sdmx_csv_on_a_plain_csv_is_unusable(example, write_csv) -> None:
    assert_one_unusable(validate_file(write_csv(example), file_format="sdmx-csv"))


# --- XLSX ----------------------------------------------------------------------------------------

def test_xlsx_with_numeric_cells_is_valid(example, tmp_path) -> None:
    report = validate_file(write_xlsx(example, tmp_path / "upload.xlsx"), country=COUNTRY,
                           period=PERIOD)
    assert report.valid, report.as_dict()
    assert (report.file_format, report.rows) == ("xlsx", example.height)


def test_xlsx_errors_match_the_csv_errors(example, tmp_path, write_csv) -> None:
    bad = corrupt(corrupt(corrupt(example, 2, "CITIZENSHIP", "AFX"), 40, "OBS_VALUE", "-5"),
                  41, "OBS_VALUE", None)
    from_xlsx = validate_file(write_xlsx(bad, tmp_path / "bad.xlsx"))
    from_csv = validate_file(write_csv(bad))
    assert issue_keys(from_xlsx) == issue_keys(from_csv)
    assert from_xlsx.counts == from_csv.counts


def test_xlsx_is_recognised_by_content_not_name(example, tmp_path) -> None:
    path = write_xlsx(example, tmp_path / "upload.dat")
    report = validate_file(path)
    assert report.valid, report.as_dict()
    assert report.file_format == "xlsx"


def test_format_xlsx_on_a_csv_is_unusable(example, write_csv) -> None:
    assert_one_unusable(validate_file(write_csv(example), file_format=FileFormat.XLSX))


def test_format_csv_on_an_xlsx_is_unusable(example, tmp_path) -> None:
    path = write_xlsx(example, tmp_path / "upload.xlsx")
    assert_one_unusable(validate_file(path, file_format=FileFormat.CSV))


# --- bad inputs: one clear error each ------------------------------------------------------------

HEADER = "REF_AREA,TIME_PERIOD,POP_GROUP,MEASURE,CITIZENSHIP,SEX,AGE,OBS_VALUE,OBS_STATUS"
BAD_INPUTS = {
    "empty file": b"",
    "whitespace only": b"  \n\t \r\n   \n",
    "header only": (HEADER + "\n").encode(),
    "header only, no newline": HEADER.encode(),
    "cp1251 cyrillic": "Страна;Пол;Число\nКазахстан;Женский;12\n".encode("cp1251"),
    "utf-16": (HEADER + "\nKAZ,2026-Q3,REF,STOCK,AFG,F,Y18T59,3,A\n").encode("utf-16"),
    "random binary": random.Random(2026).randbytes(20_000),
    "100 KB without newline": b"abc," * 25_000,
    "legacy xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096),
    "corrupt xlsx": b"PK\x03\x04" + random.Random(7).randbytes(5_000),
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_file_gets_one_unusable_input_error(kind, write_csv) -> None:
    assert_one_unusable(validate_file(write_csv(BAD_INPUTS[kind])))


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_upload_bytes_get_one_unusable_input_error(kind) -> None:
    assert_one_unusable(validate_file(BAD_INPUTS[kind]))


def test_corrupt_workbook_named_xlsx_is_unusable(tmp_path) -> None:
    path = tmp_path / "upload.xlsx"
    path.write_bytes(BAD_INPUTS["corrupt xlsx"])
    assert_one_unusable(validate_file(path))


def test_cp1251_file_is_told_to_be_saved_as_utf8(write_csv) -> None:
    report = validate_file(write_csv(BAD_INPUTS["cp1251 cyrillic"]))
    assert_one_unusable(report)
    assert "Windows-1251" in report.issues[0].hint


def test_utf16_file_is_named_as_such(write_csv) -> None:
    report = validate_file(write_csv(BAD_INPUTS["utf-16"]))
    assert "UTF-16" in report.issues[0].message


def test_legacy_xls_is_told_to_be_saved_as_xlsx(write_csv) -> None:
    report = validate_file(write_csv(BAD_INPUTS["legacy xls"], "upload.xls"))
    assert_one_unusable(report)
    assert "xlsx" in report.issues[0].hint.lower()


def test_invalid_utf8_after_the_first_lines_is_unusable(example, write_csv) -> None:
    """The encoding is sniffed from the first 64 KiB; a bad byte further down is still caught."""
    text = example.write_csv().encode()
    assert len(text) > 128 * 1024
    bad = text + "KAZ,2026-Q3,REF,STOCK,AFG,Ж,Y18T59,3,A\n".encode("cp1251")
    assert_one_unusable(validate_file(write_csv(bad)))


def test_gigabyte_of_nul_bytes_is_unusable(tmp_path) -> None:
    """A sparse 1 GiB file: the reader must look at its first bytes, not read it all."""
    path = tmp_path / "garbage.csv"
    with path.open("wb") as fh:
        fh.truncate(2**30)
    report = validate_file(path)
    assert_one_unusable(report)
    assert "binary" in report.issues[0].message


def test_missing_file_is_unusable(tmp_path) -> None:
    report = validate_file(tmp_path / "no-such-file.csv")
    assert_one_unusable(report)
    assert "no-such-file.csv" in report.issues[0].message


def test_directory_is_unusable(tmp_path) -> None:
    assert_one_unusable(validate_file(tmp_path))


def test_unbalanced_quote_is_unusable_or_located(example, write_csv) -> None:
    """A stray quote either makes the file unreadable or is reported; it never raises."""
    lines = example.write_csv().splitlines()
    lines[5] = lines[5].replace("KAZ", '"KAZ', 1)
    report = validate_file(write_csv("\n".join(lines) + "\n"))
    assert not report.valid


# --- ragged rows ---------------------------------------------------------------------------------

def _ragged(example, edits: dict[int, str]) -> str:
    """The example as CSV text with some data lines (by frame index) replaced."""
    lines = example.write_csv().splitlines()
    for index, line in edits.items():
        lines[index + 1] = line
    return "\n".join(lines) + "\n"


def test_row_with_too_many_fields_is_a_ragged_row(example, write_csv) -> None:
    lines = example.write_csv().splitlines()
    report = validate_file(write_csv(_ragged(example, {6: lines[7] + ",extra"})))
    (issue,) = issues_of(report, Rule.RAGGED_ROW)
    assert issue.row == file_row(6)
    assert "15 fields, the header has 14" in issue.message
    assert report.counts == {Rule.RAGGED_ROW: 1}


def test_row_with_too_few_fields_is_a_ragged_row(example, write_csv) -> None:
    lines = example.write_csv().splitlines()
    short = lines[10].rsplit(",", 1)[0]  # OBS_STATUS left out, not left empty
    report = validate_file(write_csv(_ragged(example, {9: short})))
    (issue,) = issues_of(report, Rule.RAGGED_ROW)
    assert issue.row == file_row(9)
    assert report.counts == {Rule.RAGGED_ROW: 1}


def test_long_and_short_rows_are_all_reported(example, write_csv) -> None:
    lines = example.write_csv().splitlines()
    edits = {3: lines[4] + ",x,y", 50: lines[51].rsplit(",", 1)[0], 51: lines[52] + ",z"}
    report = validate_file(write_csv(_ragged(example, edits)))
    assert [i.row for i in issues_of(report, Rule.RAGGED_ROW)] == [file_row(3), file_row(50),
                                                                   file_row(51)]
    assert report.counts[Rule.RAGGED_ROW] == 3
