"""Shared fixtures: the standard, example submissions and a CLI runner."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from standards import Standard, load_standard
from standards.example import example_frame
from tests.servers import PostgresServer, ServerUnavailable, require

COUNTRY, PERIOD = "KAZ", "2026-Q3"
SECRET = "test-secret-" + "x" * 40


# --- real servers -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer().start()
    except ServerUnavailable as exc:
        require(exc)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every API test runs once on SQLite and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mmx.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"t_{secrets.token_hex(6)}")




@pytest.fixture(scope="session")
def standard() -> Standard:
    return load_standard()


@pytest.fixture(scope="session")
def example(standard: Standard) -> pl.DataFrame:
    """A small valid submission (KAZ, 2026-Q3) as a frame of strings, ready to corrupt."""
    frame = example_frame(standard, COUNTRY, PERIOD, citizenships=3)
    return frame.with_columns(pl.all().cast(pl.Utf8))


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write a frame (or raw text/bytes) to a CSV file and return its path."""

    def write(data: pl.DataFrame | str | bytes, name: str = "upload.csv", **kwargs) -> Path:
        path = tmp_path / name
        if isinstance(data, pl.DataFrame):
            data.write_csv(path, **kwargs)
        elif isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        return path

    return write


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


# --- factories ----------------------------------------------------------------------------------

def file_row(index: int) -> int:
    """Row number in the file of frame row ``index``: the header is row 1."""
    return index + 2


def corrupt(frame: pl.DataFrame, row_index: int, column: str, value: str | None) -> pl.DataFrame:
    """A copy of ``frame`` with one cell replaced (``None`` writes an empty field)."""
    if column not in frame.columns:
        raise KeyError(column)
    mask = pl.int_range(pl.len()) == row_index
    return frame.with_columns(
        pl.when(mask).then(pl.lit(value, dtype=pl.Utf8)).otherwise(pl.col(column)).alias(column)
    )


def row_index(frame: pl.DataFrame, **dims: str) -> int:
    """Index of the one row whose columns hold the given values."""
    found = frame.with_row_index("__i").filter(
        pl.all_horizontal([pl.col(c) == v for c, v in dims.items()])
    )["__i"].to_list()
    if len(found) != 1:
        raise LookupError(f"{len(found)} rows match {dims}")
    return int(found[0])


def issues_of(report, rule) -> list:
    """The kept issues of one rule, in file order."""
    return sorted((i for i in report.issues if i.rule == rule), key=lambda i: (i.row or 0))


@pytest.fixture(scope="session")
def validate_frame():
    """Validate a frame of strings as a CSV upload (bytes, so it works inside hypothesis)."""
    from standards.validation import validate_file

    def run(frame: pl.DataFrame, **kwargs):
        return validate_file(frame.write_csv().encode("utf-8"), **kwargs)

    return run
