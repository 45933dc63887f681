"""Indicators of a release, pure: the definitions (``standards/data/indicators.yaml``, one
loader) and the one evaluator that computes them from protected cells only."""

from standards.indicators.definitions import (
    NOT_APPLICABLE,
    Change,
    Coverage,
    Indicator,
    Indicators,
    Ratio,
    Sum,
    load_indicators,
)
from standards.indicators.evaluate import Cell, CoverageCount, IndicatorValue, evaluate

__all__ = ["NOT_APPLICABLE", "Cell", "Change", "Coverage", "CoverageCount", "Indicator",
           "IndicatorValue", "Indicators", "Ratio", "Sum", "evaluate", "load_indicators"]
