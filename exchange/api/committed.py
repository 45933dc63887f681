"""The OpenAPI document as committed in ``openapi/openapi.json``: drift is a test failure
(regenerate with ``mmx openapi -o openapi/openapi.json``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from exchange.api.app import create_app, inline_queue
from exchange.core.config import Settings

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def openapi_document() -> dict[str, Any]:
    """The schema of an app built with default settings (no database is touched)."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), jwt_secret="x" * 32)
        return create_app(settings, queue=inline_queue(settings)).openapi()
