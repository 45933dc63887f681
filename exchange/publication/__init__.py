"""Releases: immutable, numbered vintages of a period's protected tables (disclosure control
from ``standards.disclosure``), built by the ``release`` stage of the pipeline."""
