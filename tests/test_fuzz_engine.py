"""Fuzzing the reader and the engine (issue 9, "Keep it true").

Arbitrary bytes, and valid CSV, SDMX-CSV and XLSX files mutated at random, must always end in a
report (a clean "unusable input" being one), never in another exception, and within a deadline:
hypothesis' own per-example deadline, plus an alarm that turns a hang into a failure.

Sized for two shared cores: the default run of this file takes well under a minute. For a longer
campaign, select the slow tests: ``pytest -m slow tests/test_fuzz_engine.py``.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from functools import cache

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from standards import load_standard
from standards.example import example_frame, with_dataflow
from standards.validation import (
    FileFormat,
    ReadLimits,
    Report,
    Rule,
    UnusableInput,
    read_header,
    validate_file,
)
from tests.test_read_limits import deadline

ALARM_SECONDS = 30  # a hang, not a slow example: hypothesis' deadline catches those
FAST = settings(max_examples=100, deadline=timedelta(seconds=5),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CAMPAIGN = settings(max_examples=2000, deadline=timedelta(seconds=10),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
# Small limits, so that mutations reach them too.
LIMITS = ReadLimits(max_cell_chars=64, max_header_bytes=4096, max_columns=32, max_rows=5000,
                    max_xlsx_bytes=4 * 2**20, max_xlsx_cells=100_000)


@cache
def base_frame() -> pl.DataFrame:
    frame = example_frame(load_standard(), "KAZ", "2026-Q3", citizenships=2)
    return frame.head(60).with_columns(pl.all().cast(pl.Utf8))


@cache
def base_csv() -> bytes:
    return base_frame().write_csv().encode()


@cache
def base_sdmx_csv() -> bytes:
    return with_dataflow(base_frame(), load_standard()).write_csv(separator=";").encode()


@cache
def base_workbook() -> dict[str, bytes]:
    """The parts of a small workbook written by openpyxl, by name."""
    book = openpyxl.Workbook()
    sheet = book.active
    frame = base_frame()
    sheet.append(frame.columns)
    for row in frame.iter_rows():
        sheet.append([int(v) if c == "OBS_VALUE" and v else v
                      for c, v in zip(frame.columns, row, strict=True)])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zipped(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- what must always hold -----------------------------------------------------------------------

def check_report(report: Report) -> None:
    """A report, well formed: usable or one clear unusable-input issue, serialisable."""
    assert isinstance(report, Report)
    if not report.usable:
        assert report.counts == {Rule.UNUSABLE: 1}, report.as_dict()
        assert report.issues[0].message
    json.dumps(report.as_dict())
    report.to_csv()


def validate_and_read_header(data: bytes, file_format: FileFormat = FileFormat.AUTO) -> None:
    with deadline(ALARM_SECONDS):
        check_report(validate_file(data, file_format=file_format))
        check_report(validate_file(data, file_format=file_format, limits=LIMITS))
        for limits in (ReadLimits(), LIMITS):
            try:
                fmt, header = read_header(data, file_format, limits=limits)
            except UnusableInput as exc:
                assert exc.message
            else:
                assert isinstance(fmt, FileFormat) and all(isinstance(h, str) for h in header)


# --- mutations -----------------------------------------------------------------------------------

TOKENS = [b'"', b",", b";", b"\t", b"\n", b"\r\n", b"\r", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe",
          b"\xc3", b"=cmd|' /C calc'!A0", b"-", b"_T", b"KAZ", b"2026-Q3", b"M", b"1990-01-01",
          b"DATAFLOW", b"passport", b"A" * 300, b"9" * 40, b"," * 300, b'"' * 3, b"\n" * 50]
XML_TOKENS = [b'<c r="XFD1048576"><v>1</v></c>', b'<row r="1048576">', b"</row>", b"<row>",
              b"<c>", b'<c t="s"><v>99999</v></c>', b'<c t="inlineStr"><is><t>x</t></is></c>',
              b"<!DOCTYPE a>", b'<dimension ref="A1:XFD1048576"/>', b"&amp;", b"&bogus;",
              b'r="A0"', b'r="ZZZZ1"', b"<v>", b"</v>", b"<x:c>", b"\xff"]


@st.composite
def mutated(draw, base: bytes, tokens: list[bytes] = TOKENS) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "insert", "token", "delete", "repeat", "cut"]))
        if kind == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(max_size=16))
        elif kind == "token":
            data[at:at] = draw(st.sampled_from(tokens)) * draw(st.integers(1, 3))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 200))]
        elif kind == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 400))] * draw(st.integers(1, 4))
        elif kind == "cut":
            del data[at:]
    return bytes(data)


CELLS = st.one_of(st.none(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
                  st.sampled_from(["KAZ", "_T", "F", "Y0T4", "2026-Q3", "=1+1", "", " ", "M"]),
                  st.text(max_size=40).filter(lambda s: "\x00" not in s and not any(
                      0xD800 <= ord(c) <= 0xDFFF or ord(c) < 32 for c in s)))


@st.composite
def workbooks(draw) -> bytes:
    """A workbook of random cells under the standard's header (or a mutated one)."""
    frame = base_frame()
    header = list(frame.columns)
    if draw(st.booleans()):
        header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(
            ["Name", "passport_no", "", "OBS_VALUE", "x" * 100]))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    rows = draw(st.integers(0, 12))
    for k in range(rows):
        row = list(frame.row(k))
        for _ in range(draw(st.integers(0, 3))):
            row[draw(st.integers(0, len(row) - 1))] = draw(CELLS)
        sheet.append(row + [draw(CELLS)] * draw(st.integers(0, 2)))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@st.composite
def mutated_workbooks(draw) -> bytes:
    """The small workbook with its sheet's (or shared strings') XML mutated, then zipped again;
    sometimes the zip's bytes themselves are mutated."""
    parts = dict(base_workbook())
    name = draw(st.sampled_from(["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
                                 "xl/workbook.xml", "xl/_rels/workbook.xml.rels"]))
    if name in parts:
        parts[name] = draw(mutated(parts[name], XML_TOKENS + TOKENS))
    data = zipped(parts)
    if draw(st.integers(0, 9)) == 0:
        data = draw(mutated(data))
    return data


# --- the fuzz tests ------------------------------------------------------------------------------

@FAST
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_end_in_a_report(data) -> None:
    validate_and_read_header(data)


@FAST
@given(data=st.binary(max_size=512).map(lambda b: b"PK\x03\x04" + b))
def test_arbitrary_zip_like_bytes_end_in_a_report(data) -> None:
    validate_and_read_header(data)


@FAST
@given(data=st.data())
def test_mutated_csv_ends_in_a_report(data) -> None:
    validate_and_read_header(data.draw(mutated(base_csv())))


@FAST
@given(data=st.data())
def test_mutated_sdmx_csv_ends_in_a_report(data) -> None:
    sample = data.draw(mutated(base_sdmx_csv()))
    validate_and_read_header(sample)
    validate_and_read_header(sample, FileFormat.SDMX_CSV)


@settings(FAST, max_examples=40)
@given(data=workbooks())
def test_random_workbook_ends_in_a_report(data) -> None:
    validate_and_read_header(data)


@settings(FAST, max_examples=60)
@given(data=mutated_workbooks())
def test_mutated_workbook_ends_in_a_report(data) -> None:
    validate_and_read_header(data)


def test_unmutated_bases_are_valid() -> None:
    """The mutations start from valid files, so they test more than the first byte."""
    for data in (base_csv(), base_sdmx_csv(), zipped(base_workbook())):
        report = validate_file(data)
        assert Rule.UNUSABLE not in report.counts and report.rows == 60, report.as_dict()


# --- a longer campaign, on demand ----------------------------------------------------------------

@pytest.fixture
def campaign(request: pytest.FixtureRequest) -> None:
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("a long campaign: run with -m slow")


@pytest.mark.slow
@settings(CAMPAIGN)
@given(data=st.data())
def test_campaign_on_every_format(campaign, data) -> None:
    kind = data.draw(st.sampled_from(["bytes", "csv", "sdmx", "workbook", "mutated workbook"]))
    sample = {
        "bytes": lambda: data.draw(st.binary(max_size=65536)),
        "csv": lambda: data.draw(mutated(base_csv())),
        "sdmx": lambda: data.draw(mutated(base_sdmx_csv())),
        "workbook": lambda: data.draw(workbooks()),
        "mutated workbook": lambda: data.draw(mutated_workbooks()),
    }[kind]()
    validate_and_read_header(sample)
