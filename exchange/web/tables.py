"""Answers that are a table: JSON by default, CSV for ``?format=csv`` or ``Accept: text/csv``.
Every route that serves a table reads the caller's choice and writes the CSV the same way."""

from __future__ import annotations

import io

import polars as pl
from fastapi.responses import PlainTextResponse


def wants_csv(format: str | None, accept: str | None) -> bool:
    """``format=csv``, or no ``format`` and an Accept header naming text/csv."""
    return format == "csv" or (format is None and bool(accept) and "text/csv" in str(accept))


def csv_response(frame: pl.DataFrame, name: str | None = None) -> PlainTextResponse:
    """``frame`` as CSV; with ``name``, offered as the download ``{name}.csv``."""
    buffer = io.StringIO()
    frame.write_csv(buffer)
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'} if name else None
    return PlainTextResponse(buffer.getvalue(), media_type="text/csv", headers=headers)
