"""Shared fixtures: the standard, example submissions and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from standards import Standard, load_standard
from standards.example import example_frame

COUNTRY, PERIOD = "KAZ", "2026-Q3"


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
