"""One validation engine for the CLI and the server (README.md, "Validation rules").

Names are resolved on first use so that importing the package (for ``FileFormat``, say) loads
only what that name needs. The engine never imports pandera or pandas; only ``schema.py`` (the
published pandera schema) does.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "validate_file": "engine", "identifier_columns": "privacy",
    "FileFormat": "formats", "UnusableInput": "reading", "csv_header": "reading",
    "read_header": "reading", "read_table": "reading", "ReadLimits": "limits",
    "Issue": "report", "Report": "report", "Rule": "report", "spreadsheet_safe": "report",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"standards.validation.{_EXPORTS[name]}"), name)
