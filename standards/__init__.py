"""The shared data standard of the exchange: the DSD, code lists, regions and validation rules.

Pure: no web, database or queue code lives here, so the offline CLI and the server run the same
rules. ``exchange`` and ``workers`` import from here, never the other way round.
"""

from standards.loader import load_standard
from standards.model import Code, Codelist, Dimension, Region, Standard

__all__ = ["Code", "Codelist", "Dimension", "Region", "Standard", "load_standard"]
