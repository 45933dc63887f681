"""OpenAPI enums generated from the standard, never typed by hand."""

from __future__ import annotations

from enum import StrEnum

from standards import load_standard
from standards.mappings import known_versions

_standard = load_standard()

RefArea = StrEnum("RefArea", {c: c for c in _standard.codelists["CL_AREA"].ids})  # type: ignore[misc]
StandardVersion = StrEnum("StandardVersion", {v: v for v in known_versions()})  # type: ignore[misc]
PERIOD_PATTERN = _standard.dimension["TIME_PERIOD"].pattern or ""
RegionId = StrEnum("RegionId", {r: r for r in _standard.regions})  # type: ignore[misc]
