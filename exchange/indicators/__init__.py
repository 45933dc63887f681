"""Indicators of every published release: computed by the ``indicators`` stage from the
release's protected cells (``standards.indicators``), stored per release, served with their
definitions."""
