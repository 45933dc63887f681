"""Hostile input must not stall or exhaust the engine (issue 9 #2 and #5).

Every limit of ``ReadLimits`` ends in one clear "unusable input" that names the row and column
where it has one, never quotes the offending value, and comes in seconds and in bounded memory:
a 10 MB "code", a zip bomb, a sheet spanning billions of cells, a header of a million columns.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import FrozenInstanceError
from pathlib import Path

import polars as pl
import pytest

from standards.validation import ReadLimits, Rule, UnusableInput, read_table, validate_file
from standards.validation.xlsx import scan_extent
from tests.conftest import file_row

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["REF_AREA", "TIME_PERIOD", "POP_GROUP", "MEASURE", "CITIZENSHIP", "SEX", "AGE",
          "OBS_VALUE", "OBS_STATUS"]
ROW = ["KAZ", "2026-Q3", "REF", "STOCK", "AFG", "F", "Y18T59", "3", "A"]


# --- helpers (also used by test_read_header.py and test_fuzz_engine.py) --------------------------

@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: SIGALRM interrupts the Python code running too long."""
    def expire(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


PEAK = """
def peak_mib():
    # VmHWM: this process's own peak, not the forking parent's (ru_maxrss carries that over)
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
"""


def isolated(code: str, *args: str, timeout: int = 120) -> tuple[int, str]:
    """Run ``code`` in a fresh interpreter: its exit status and stdout. A crash of the reader
    (an abort, an out-of-memory kill) must not take the test run with it. ``code`` may call
    ``peak_mib()``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", PEAK + textwrap.dedent(code), *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout,
                          check=False)
    return proc.returncode, proc.stdout


VALIDATE = """
import json, sys
from standards.validation import ReadLimits, validate_file
limits = ReadLimits(**json.loads(sys.argv[2]))
report = validate_file(sys.argv[1], limits=limits)
print(json.dumps({"report": report.as_dict(), "peak": peak_mib()}))
"""
BASELINE = """
import polars, numpy
from standards.validation import validate_file
print(peak_mib())
"""


def baseline_mib() -> float:
    """Peak memory of an interpreter that only imported the engine."""
    return float(isolated(BASELINE)[1])


def validate_isolated(path: Path, **limits: int) -> tuple[dict, float]:
    """The report of ``path`` validated in a fresh interpreter, and that process's peak MiB."""
    status, out = isolated(VALIDATE, str(path), json.dumps(limits))
    assert status == 0, f"the validating process died (status {status})"
    data = json.loads(out)
    return data["report"], data["peak"]


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>{extra}</Relationships>')
SHARED_STRINGS_REL = (
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/>')
SHEET_START = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
               '"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_END = "</sheetData></worksheet>"


def inline_row(values: Iterable[str], row: int | None = None) -> str:
    """A sheet row of inline strings, with cell references when ``row`` is given."""
    cells = []
    for k, value in enumerate(values):
        ref = f' r="{chr(65 + k)}{row}"' if row is not None else ""
        cells.append(f'<c{ref} t="inlineStr"><is><t>{value}</t></is></c>')
    return (f'<row r="{row}">' if row is not None else "<row>") + "".join(cells) + "</row>"


def write_workbook(path: Path, sheet: Iterable[bytes | str],
                   shared_strings: list[str] | None = None) -> Path:
    """A minimal XLSX whose first sheet's XML is ``sheet`` (streamed, compressed hard)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(
            extra=SHARED_STRINGS_REL if shared_strings is not None else ""))
        with archive.open("xl/worksheets/sheet1.xml", "w") as out:
            for piece in sheet:
                out.write(piece.encode() if isinstance(piece, str) else piece)
        if shared_strings is not None:
            items = "".join(f"<si><t>{s}</t></si>" for s in shared_strings)
            n = len(shared_strings)
            archive.writestr("xl/sharedStrings.xml", (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://'
                'schemas.openxmlformats.org/spreadsheetml/2006/main" '
                f'count="{n}" uniqueCount="{n}">{items}</sst>'))
    return path


def bomb_sheet(megabytes: int) -> Iterator[str]:
    """A sheet of ``megabytes`` MiB of identical rows: it compresses about a thousandfold."""
    yield SHEET_START + inline_row(HEADER)
    block = inline_row(ROW) * 1000
    for _ in range(megabytes * 2**20 // len(block)):
        yield block
    yield SHEET_END


def declare_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size a zip declares for ``member`` (local and central headers),
    as a hostile file lies about it."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46: at + 46 + name_len] == name:
            struct.pack_into("<I", data, at + 24, size)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def csv_text(rows: list[list[str]], header: list[str] = HEADER) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


def assert_unusable_at(report, row: int | None, column: str | None, secret: str = "") -> None:
    assert report.counts == {Rule.UNUSABLE: 1}, report.as_dict()
    (issue,) = report.issues
    assert (issue.row, issue.column) == (row, column), issue
    assert issue.value is None
    assert len(issue.message) < 300
    if secret:
        assert secret not in json.dumps(report.as_dict()) + report.to_csv()


# --- the limits themselves -----------------------------------------------------------------------

def test_read_limits_are_one_frozen_set_of_defaults() -> None:
    limits = ReadLimits()
    assert limits.max_cell_chars == 256
    assert limits.max_header_bytes > 64 * 1024
    assert limits.max_columns >= 10 and limits.max_rows >= 1_048_576
    with pytest.raises(FrozenInstanceError):
        limits.max_rows = 1  # type: ignore[misc]
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            ReadLimits(max_rows=bad)  # type: ignore[arg-type]


def test_limits_are_honoured_by_validate_file_and_read_table(example, write_csv) -> None:
    path = write_csv(example)
    small = ReadLimits(max_rows=100)
    assert validate_file(path).valid
    report = validate_file(path, limits=small)
    assert_unusable_at(report, None, None)
    assert "more than 100 data rows" in report.issues[0].message
    with pytest.raises(UnusableInput):
        read_table(path, limits=small)
    assert read_table(path, limits=ReadLimits(max_rows=example.height)).frame.height == \
        example.height


# --- CSV: values, lines, rows, columns, header ---------------------------------------------------

def test_ten_megabyte_code_is_refused_by_row_and_column_in_seconds(write_csv) -> None:
    """Issue 9 #2: the hint compared the whole value against every code, for minutes."""
    huge = "A" * (10 * 2**20)
    rows = [ROW] * 5 + [[*ROW[:4], huge, *ROW[5:]]] + [ROW] * 5
    with deadline(10):
        report = validate_file(write_csv(csv_text(rows)))
    assert_unusable_at(report, file_row(5), "CITIZENSHIP", secret="A" * 100)
    assert "10,485,760" in report.issues[0].message


@pytest.mark.parametrize("column", ["REF_AREA", "TIME_PERIOD", "AGE", "OBS_VALUE", "OBS_STATUS"])
def test_cell_longer_than_the_limit_is_refused_in_any_column(write_csv, column) -> None:
    value = "Q" * 300
    position = HEADER.index(column)
    rows = [ROW] * 3 + [[*ROW[:position], value, *ROW[position + 1:]]]
    with deadline(10):
        report = validate_file(write_csv(csv_text(rows)))
    assert_unusable_at(report, file_row(3), column, secret=value)
    assert "300 characters" in report.issues[0].message


def test_long_quoted_cell_spanning_lines_is_refused_after_reading(write_csv) -> None:
    """A quoted value with line breaks is one cell of the CSV, however many lines it spans."""
    value = "\n".join(["line"] * 100)
    rows = [ROW] * 2 + [[*ROW[:8], f'"{value}"']]
    report = validate_file(write_csv(csv_text(rows)))
    assert_unusable_at(report, file_row(2), "OBS_STATUS", secret="line\nline")


def test_cell_limit_is_configurable(write_csv) -> None:
    rows = [ROW] * 3 + [[*ROW[:4], "AFGHANISTANI-XYZ", *ROW[5:]]]
    path = write_csv(csv_text(rows))
    assert validate_file(path).counts[Rule.CODE_LIST] == 1
    report = validate_file(path, limits=ReadLimits(max_cell_chars=12))
    assert_unusable_at(report, file_row(3), "CITIZENSHIP", secret="AFGHANISTANI")


def test_line_of_many_short_fields_is_refused_by_row(write_csv) -> None:
    rows = [ROW] * 3 + [ROW + ["1"] * 5000]
    with deadline(10):
        report = validate_file(write_csv(csv_text(rows)),
                               limits=ReadLimits(max_columns=20, max_cell_chars=64))
    assert_unusable_at(report, file_row(3), None)


def test_header_with_too_many_columns_is_refused(write_csv) -> None:
    header = HEADER + [f"extra_{k}" for k in range(300)]
    report = validate_file(write_csv(csv_text([ROW + [""] * 300], header=header)))
    assert_unusable_at(report, 1, None)
    assert "309 columns" in report.issues[0].message


def test_header_longer_than_the_limit_is_refused(write_csv) -> None:
    header = HEADER + [f"c{k:04d}" for k in range(200)]
    path = write_csv(csv_text([ROW + ["1"] * 200], header=header))
    report = validate_file(path, limits=ReadLimits(max_header_bytes=1000))
    assert_unusable_at(report, 1, None)
    assert "header line is longer than" in report.issues[0].message


def test_column_name_longer_than_a_cell_is_refused(write_csv) -> None:
    name = "N" * 1000
    report = validate_file(write_csv(csv_text([[*ROW, "x"]], header=[*HEADER, name])))
    assert_unusable_at(report, 1, "column 10", secret=name)


def test_rows_beyond_the_limit_are_not_read(write_csv) -> None:
    path = write_csv(csv_text([ROW] * 1000))
    report = validate_file(path, limits=ReadLimits(max_rows=999))
    assert "more than 999 data rows" in report.issues[0].message
    assert validate_file(path, limits=ReadLimits(max_rows=1000)).counts.get(Rule.UNUSABLE) is None


@pytest.mark.slow
def test_hostile_csv_is_refused_in_little_memory(tmp_path) -> None:
    """A 50 MB cell is refused before the CSV reader holds it: memory stays near start-up."""
    path = tmp_path / "huge_cell.csv"
    with path.open("w") as fh:
        fh.write(csv_text([ROW] * 3))
        fh.write(",".join([*ROW[:4], "B" * (50 * 2**20), *ROW[5:]]) + "\n")
    report, peak = validate_isolated(path)
    assert report["errors"][0]["row"] == file_row(3)
    assert report["errors"][0]["column"] == "CITIZENSHIP"
    baseline = baseline_mib()
    assert peak - baseline < 40, (peak, baseline)


@pytest.mark.slow
def test_csv_memory_stays_proportional_to_the_file(tmp_path, standard) -> None:
    from standards.example import example_frame

    path = tmp_path / "large.csv"
    example_frame(standard, "KAZ", "2026-Q3", citizenships=60, all_measures=True).write_csv(path)
    size_mib = path.stat().st_size / 2**20
    assert size_mib > 15
    report, peak = validate_isolated(path)
    assert report["valid"], report["errors"][:3]
    baseline = baseline_mib()
    assert (peak - baseline) < 8 * size_mib, (peak, baseline, size_mib)


# --- XLSX: zip bombs and sheets spanning more than they hold -------------------------------------

def test_zip_bomb_declaring_its_size_is_refused_before_inflating(tmp_path) -> None:
    path = write_workbook(tmp_path / "bomb.xlsx", bomb_sheet(64))
    assert path.stat().st_size < 400_000
    with deadline(10):
        report = validate_file(path, limits=ReadLimits(max_xlsx_bytes=16 * 2**20))
    assert_unusable_at(report, None, None)
    assert "unpacks to 64 MiB" in report.issues[0].message


def test_zip_bomb_hiding_its_size_is_refused_while_inflating(tmp_path) -> None:
    """The zip may declare a small size: what counts is what the deflate stream produces."""
    path = write_workbook(tmp_path / "liar.xlsx", bomb_sheet(64))
    declare_size(path, "xl/worksheets/sheet1.xml", 10_000)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 10_000
    report, peak = validate_isolated(path, max_xlsx_bytes=16 * 2**20)
    assert report["summary"][0]["rule"] == "unusable_input"
    assert "more than 16 MiB" in report["errors"][0]["message"]
    assert peak - baseline_mib() < 100, peak


@pytest.mark.slow
def test_real_size_zip_bomb_stays_within_memory(tmp_path) -> None:
    """Issue 9 #5: a 5 MB workbook unpacking to 1.2 GB took the worker to 3.15 GB."""
    path = write_workbook(tmp_path / "bomb.xlsx", bomb_sheet(1200))
    declare_size(path, "xl/worksheets/sheet1.xml", 10_000)
    report, peak = validate_isolated(path)
    assert report["summary"][0]["rule"] == "unusable_input"
    assert peak - baseline_mib() < 100, peak


def test_sheet_spanning_a_billion_cells_is_refused_instead_of_crashing(tmp_path) -> None:
    """One cell in A1 and one in XFD1048576: the reader allocated 512 GiB and aborted."""
    sheet = [SHEET_START, inline_row(HEADER, row=1), inline_row(ROW, row=2),
             '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
             SHEET_END]
    path = write_workbook(tmp_path / "sparse.xlsx", sheet)
    report, peak = validate_isolated(path)
    assert report["summary"][0]["rule"] == "unusable_input"
    assert "16,384 columns" in report["errors"][0]["message"]
    assert peak - baseline_mib() < 100, peak


def test_sheet_extent_limits_are_configurable(tmp_path) -> None:
    sheet = [SHEET_START, inline_row(HEADER, row=1), inline_row(ROW, row=2),
             '<row r="5000"><c r="A5000"><v>1</v></c></row>', SHEET_END]
    path = write_workbook(tmp_path / "tall.xlsx", sheet)
    assert Rule.UNUSABLE not in validate_file(path).counts
    report = validate_file(path, limits=ReadLimits(max_xlsx_cells=10_000))
    assert_unusable_at(report, None, None)
    assert "5,000 rows x 9 columns" in report.issues[0].message
    report = validate_file(path, limits=ReadLimits(max_rows=1000))
    assert "5,000 rows" in report.issues[0].message


def test_long_cell_in_a_workbook_is_refused_by_row_and_column(tmp_path) -> None:
    value = "Z" * 400
    sheet = [SHEET_START, inline_row(HEADER), inline_row(ROW),
             inline_row([*ROW[:5], value, *ROW[6:]]), SHEET_END]
    report = validate_file(write_workbook(tmp_path / "long.xlsx", sheet))
    assert_unusable_at(report, file_row(1), "SEX", secret=value)


@pytest.mark.parametrize(("xml", "rows", "columns"), [
    ('<row r="3"><c r="B3"><v>1</v></c><c><v>2</v></c></row>', 3, 3),
    ('<x:row r="7"><x:c r = "AB7"/></x:row></x:sheetData>', 7, 28),
    ("<row><c><v>1</v></c><c/><c></c></row><row></row>", 2, 3),
    ('<row><c x=">" r="XFD1048576"></c></row>', 1_048_577, 16_384),
    ("<c r='a9'/><c r='Z10'/>", 10, 26),
    ('<row r="2"/></row><c r="A1x"/>', 1 << 40, 1),
])
def test_sheet_extent_is_bounded_from_the_references(xml, rows, columns) -> None:
    extent = scan_extent(iter([xml.encode()]))
    assert extent.rows >= rows and extent.columns >= columns
    assert extent.rows <= max(rows, 2) + 1 or rows == 1 << 40


def test_extent_scan_does_not_depend_on_where_the_stream_is_cut() -> None:
    xml = (SHEET_START + inline_row(HEADER, row=1) + "".join(
        inline_row(ROW, row=r) for r in range(2, 100)) + SHEET_END).encode()
    whole = scan_extent(iter([xml]))
    for size in (3, 64, 1000):
        pieces = [xml[k:k + size] for k in range(0, len(xml), size)]
        assert scan_extent(iter(pieces)) == whole
    assert (whole.rows, whole.columns) == (99, 9)


def test_workbook_written_by_openpyxl_passes_the_guard(example, tmp_path) -> None:
    from tests.test_reading import write_xlsx

    report = validate_file(write_xlsx(example, tmp_path / "ok.xlsx"))
    assert report.valid, report.as_dict()


def test_frame_of_a_guarded_workbook_matches_its_csv(example, tmp_path, write_csv) -> None:
    sheet = [SHEET_START, inline_row(example.columns), *(
        inline_row(["" if v is None else v for v in row]) for row in example.head(50).iter_rows()),
        SHEET_END]
    from_xlsx = read_table(write_workbook(tmp_path / "t.xlsx", sheet)).frame
    from_csv = pl.read_csv(write_csv(example.head(50)), infer_schema=False)
    assert from_xlsx.equals(from_csv.with_columns(pl.all().fill_null("")))


# --- the byte scans, whatever the size of their pieces -------------------------------------------

def reference_scan(data: bytes, separator: str, allowed: int) -> tuple[bool, int, object]:
    lines = data.split(b"\n")
    worst = max(range(len(lines)), key=lambda k: (len(lines[k]), -k))
    overlong = (worst + 1, len(lines[worst])) if len(lines[worst]) > allowed else None
    quoted = b'"' in data
    return quoted, 0 if quoted else data.count(separator.encode()), overlong


@pytest.mark.parametrize("piece", [5, 64, 4096])
@pytest.mark.parametrize("lines", [
    [b"a,b,c", b"1,2,3", b"4,5,6"],
    [b"a,b,c", b"1," + b"x" * 300 + b",3", b"4,5,6", b"7" * 50],
    [b"a,b,c", b"", b"1,2,3", b"z" * 120],
    [b"a;b", b"q" * 999],
])
def test_byte_scan_finds_the_longest_line_across_pieces(tmp_path, piece, lines) -> None:
    from unittest import mock

    from standards.validation import reading

    data = b"\n".join(lines)
    path = tmp_path / "scan.csv"
    for ending in (b"", b"\n"):
        path.write_bytes(data + ending)
        separator = ";" if b";" in data else ","
        with mock.patch.object(reading, "RAGGED_CHUNK", piece):
            scan = reading.scan_bytes(path, separator, 100)
        assert (scan.quoted, scan.separators, scan.overlong) == \
            reference_scan(data + ending, separator, 100)


@pytest.mark.parametrize("piece", [3, 17, 4096])
def test_ragged_rows_are_counted_across_pieces(example, write_csv, piece) -> None:
    from unittest import mock

    from standards.validation import reading

    lines = example.head(40).write_csv().splitlines()
    lines[5] += ",extra"
    lines[9] = lines[9].rsplit(",", 1)[0]
    lines[17] = ""
    path = write_csv("\n".join(lines))  # and no line break after the last row
    with mock.patch.object(reading, "RAGGED_CHUNK", piece):
        report = validate_file(path)
    assert [i.row for i in report.issues if i.rule == Rule.RAGGED_ROW] == [6, 10]
