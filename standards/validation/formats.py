"""The file formats the engine reads. A module of its own, with no imports, so the command
line can offer the choices without loading polars."""

from __future__ import annotations

from enum import StrEnum


class FileFormat(StrEnum):
    AUTO = "auto"
    CSV = "csv"
    SDMX_CSV = "sdmx-csv"
    XLSX = "xlsx"
