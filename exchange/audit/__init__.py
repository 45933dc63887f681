"""The append-only, hash-chained log of who did what."""
