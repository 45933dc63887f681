"""Harmonized observations: the current revision of each state-quarter in standard codes."""
