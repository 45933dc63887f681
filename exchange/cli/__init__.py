"""The ``mmx`` command line."""
