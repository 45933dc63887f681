"""The header reader behind the server's purpose-limitation check (issue 9 #1).

The check before storage read only the first 8 KB of a CSV and not XLSX at all, so a workbook
with a "passport number" column, or a CSV whose header is longer than 8 KB, was stored.
``read_header`` returns every column name of every format, or raises ``UnusableInput``.
"""

from __future__ import annotations

import random
import time

import openpyxl
import polars as pl
import pytest

from standards.example import with_dataflow
from standards.validation import (
    FileFormat,
    ReadLimits,
    UnusableInput,
    identifier_columns,
    read_header,
    read_table,
    validate_file,
)
from tests.test_read_limits import (
    HEADER,
    ROW,
    SHEET_END,
    SHEET_START,
    bomb_sheet,
    declare_size,
    inline_row,
    write_workbook,
)

PASSPORT = "passport number"


def wide_header(size: int) -> list[str]:
    """The standard's columns, harmless padding columns up to ``size`` bytes, then a passport."""
    names = list(HEADER)
    length = len(",".join(names))
    while length < size:
        names.append(f"note_{len(names):05d}")
        length += len(names[-1]) + 1
    return [*names, PASSPORT]


def csv_bytes(header: list[str], rows: int = 2, separator: str = ",") -> bytes:
    row = separator.join(ROW)  # short rows: only the header matters here
    return (separator.join(header) + "\n" + (row + "\n") * rows).encode()


# --- CSV and SDMX-CSV ----------------------------------------------------------------------------

def test_csv_header_is_read(example, write_csv) -> None:
    assert read_header(write_csv(example)) == (FileFormat.CSV, example.columns)


def test_semicolon_csv_with_bom_and_crlf(example, write_csv) -> None:
    data = b"\xef\xbb\xbf" + example.write_csv(separator=";").replace("\n", "\r\n").encode()
    assert read_header(write_csv(data)) == (FileFormat.CSV, example.columns)


def test_sdmx_csv_header_names_its_format(example, standard, write_csv) -> None:
    frame = with_dataflow(example, standard)
    assert read_header(write_csv(frame)) == (FileFormat.SDMX_CSV, frame.columns)


@pytest.mark.parametrize("size", [8 * 1024 + 100, 64 * 1024 + 100, 600 * 1024])
def test_header_longer_than_8_and_64_kb_is_read_whole(write_csv, standard, size) -> None:
    """The identifier at the end of a long header line is seen, and only the header is read."""
    header = wide_header(size)
    path = write_csv(csv_bytes(header, rows=20_000))
    fmt, names = read_header(path)
    assert (fmt, names) == (FileFormat.CSV, header)
    assert [c for c, _ in identifier_columns(names, standard)] == [PASSPORT]


def test_header_of_a_header_only_file_is_read(write_csv) -> None:
    """Nothing below the header is needed to refuse an identifier column."""
    assert read_header(write_csv(",".join([*HEADER, PASSPORT]).encode())) == \
        (FileFormat.CSV, [*HEADER, PASSPORT])


def test_quoted_header_field_may_hold_a_line_break(write_csv) -> None:
    path = write_csv(b'REF_AREA,"passport\nnumber",OBS_VALUE\nKAZ,x,1\n')
    assert read_header(path)[1] == ["REF_AREA", "passport\nnumber", "OBS_VALUE"]


def test_header_beyond_the_limit_is_unusable(write_csv) -> None:
    path = write_csv(csv_bytes(wide_header(4096)))
    with pytest.raises(UnusableInput, match="header line is longer"):
        read_header(path, limits=ReadLimits(max_header_bytes=2048))
    assert read_header(path, limits=ReadLimits(max_header_bytes=8192))[1][-1] == PASSPORT


def test_header_of_a_huge_file_without_line_break_is_unusable_quickly(tmp_path) -> None:
    path = tmp_path / "one_line.csv"
    with path.open("wb") as fh:
        for _ in range(64):
            fh.write(b"abc," * (2**20 // 4))
    start = time.perf_counter()
    with pytest.raises(UnusableInput, match="header line is longer"):
        read_header(path)
    assert time.perf_counter() - start < 2


def test_header_matches_what_the_table_reader_reads(example, write_csv, tmp_path) -> None:
    for path in (write_csv(example), write_csv(example, "semi.csv", separator=";")):
        assert read_header(path)[1] == read_table(path).header


def test_uploaded_bytes_are_read_like_a_file(example) -> None:
    assert read_header(example.write_csv().encode()) == (FileFormat.CSV, example.columns)


# --- XLSX ----------------------------------------------------------------------------------------

def test_xlsx_header_is_the_first_row_of_the_first_sheet(example, tmp_path) -> None:
    from tests.test_reading import write_xlsx

    path = write_xlsx(example, tmp_path / "upload.xlsx")
    assert read_header(path) == (FileFormat.XLSX, example.columns)
    assert read_header(path)[1] == read_table(path).header


def test_passport_column_in_a_workbook_is_found(tmp_path, standard) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([*HEADER, "Passport number"])
    sheet.append([*ROW, "N1234567"])
    book.save(tmp_path / "ids.xlsx")
    fmt, names = read_header(tmp_path / "ids.xlsx")
    assert fmt == FileFormat.XLSX
    assert [c for c, _ in identifier_columns(names, standard)] == ["Passport number"]


def test_a_workbook_with_more_than_one_sheet_is_unusable(tmp_path) -> None:
    """One sheet is read and checked for identifiers; a second one would be kept unread."""
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(ROW)
    book.create_sheet("names").append(["Name", "Date of birth"])
    book.save(tmp_path / "two.xlsx")
    with pytest.raises(UnusableInput, match="2 sheets"):
        read_header(tmp_path / "two.xlsx")
    report = validate_file(tmp_path / "two.xlsx")
    assert not report.usable and "2 sheets" in report.issues[0].message


def test_workbook_header_below_empty_rows_and_with_gaps(tmp_path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B3"] = "REF_AREA"
    sheet["D3"] = "ФИО"
    sheet["B4"] = "KAZ"
    book.save(tmp_path / "gaps.xlsx")
    assert read_header(tmp_path / "gaps.xlsx")[1] == ["", "REF_AREA", "", "ФИО"]


def test_workbook_with_shared_strings_and_inline_strings(tmp_path) -> None:
    sheet = [SHEET_START, '<row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1" t="inlineStr">'
             '<is><t>OBS_VALUE</t></is></c><c r="C1" t="s"><v>0</v></c></row>',
             inline_row(ROW[:3], row=2), SHEET_END]
    path = write_workbook(tmp_path / "mixed.xlsx", sheet, shared_strings=["Name", "REF_AREA"])
    assert read_header(path) == (FileFormat.XLSX, ["REF_AREA", "OBS_VALUE", "Name"])


def test_workbook_header_is_read_without_inflating_the_sheet(tmp_path) -> None:
    """A bomb hiding its size: only the first row is inflated, so the header still comes fast."""
    path = write_workbook(tmp_path / "bomb.xlsx", bomb_sheet(256))
    declare_size(path, "xl/worksheets/sheet1.xml", 10_000)
    start = time.perf_counter()
    assert read_header(path) == (FileFormat.XLSX, HEADER)
    assert time.perf_counter() - start < 2


def test_workbook_declaring_a_bomb_is_unusable(tmp_path) -> None:
    path = write_workbook(tmp_path / "bomb.xlsx", bomb_sheet(64))
    with pytest.raises(UnusableInput, match="unpacks to 64 MiB"):
        read_header(path, limits=ReadLimits(max_xlsx_bytes=16 * 2**20))


def test_first_row_too_long_for_the_header_limit_is_unusable(tmp_path) -> None:
    sheet = [SHEET_START, inline_row([f"c{k}" for k in range(2000)]), SHEET_END]
    path = write_workbook(tmp_path / "wide.xlsx", sheet)
    with pytest.raises(UnusableInput):
        read_header(path, limits=ReadLimits(max_header_bytes=8 * 1024))


def test_workbook_with_a_dtd_is_unusable(tmp_path) -> None:
    sheet = ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>',
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData><row><c t="inlineStr"><is><t>&a;</t></is></c></row>', SHEET_END]
    with pytest.raises(UnusableInput, match="DTD"):
        read_header(write_workbook(tmp_path / "dtd.xlsx", sheet))


# --- unreadable input ----------------------------------------------------------------------------

UNREADABLE = {
    "empty": b"",
    "blank lines": b"\n\r\n\n",
    "binary": random.Random(9).randbytes(5000).replace(b"PK", b"pk"),
    "utf-16": "REF_AREA,OBS_VALUE\nKAZ,1\n".encode("utf-16"),
    "legacy xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048),
    "corrupt zip": b"PK\x03\x04" + random.Random(3).randbytes(3000),
    "zip without a workbook": None,
}


@pytest.mark.parametrize("kind", list(UNREADABLE))
def test_unreadable_input_raises_unusable_input(kind, write_csv, tmp_path) -> None:
    data = UNREADABLE[kind]
    if data is None:
        import zipfile

        with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
            archive.writestr("readme.txt", "not a workbook")
        data = (tmp_path / "other.zip").read_bytes()
    with pytest.raises(UnusableInput):
        read_header(write_csv(data))
    with pytest.raises(UnusableInput):
        read_header(data)


def test_missing_file_is_unusable(tmp_path) -> None:
    with pytest.raises(UnusableInput, match="No such file"):
        read_header(tmp_path / "nowhere.csv")


def test_declared_format_must_match(example, write_csv, tmp_path) -> None:
    from tests.test_reading import write_xlsx

    with pytest.raises(UnusableInput):
        read_header(write_csv(example), FileFormat.XLSX)
    with pytest.raises(UnusableInput):
        read_header(write_csv(example), FileFormat.SDMX_CSV)
    with pytest.raises(UnusableInput):
        read_header(write_xlsx(example, tmp_path / "x.xlsx"), FileFormat.CSV)


def test_reading_the_header_leaves_the_frame_reader_alone(example, write_csv) -> None:
    """read_header is cheap: no table is built (a 1 MiB frame would show in polars' counters)."""
    path = write_csv(pl.concat([example] * 5))
    start = time.perf_counter()
    for _ in range(50):
        read_header(path)
    assert time.perf_counter() - start < 1


def test_identifier_check_of_a_megabyte_header_takes_a_moment(write_csv, standard) -> None:
    """The server checks every name of a header up to max_header_bytes (about 100,000 names)
    before it stores anything: that check must stay cheap."""
    from tests.test_read_limits import deadline

    header = wide_header(1000 * 1024)
    path = write_csv(csv_bytes(header))
    with deadline(3):
        start = time.perf_counter()
        names = read_header(path)[1]
        found = identifier_columns(names, standard)
        took = time.perf_counter() - start
    assert len(names) > 90_000 and [c for c, _ in found] == [PASSPORT]
    assert took < 1.0, took
