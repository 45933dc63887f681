"""The shapes that cross the package's boundary: an earlier published release (input) and a
protected release (output). Plain data, so the exchange can store and reload them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from standards.model import Standard

AREA = "AREA"
VALUE = "VALUE"
SENDER_FLAG = "SENDER_FLAG"
CONF_STATUS = "CONF_STATUS"
PUBLISHED = "PUBLISHED"
PUBLISHED_VALUE = "PUBLISHED_VALUE"
TRUE_VALUE = "TRUE_VALUE"
REQUIRED_LOWER = "REQUIRED_LOWER"
REQUIRED_UPPER = "REQUIRED_UPPER"


def key_columns(standard: Standard) -> tuple[str, ...]:
    """AREA (a state or a region) and every dimension of the standard except REF_AREA."""
    return (AREA, *(d for d in standard.dimension_ids if d != "REF_AREA"))


@dataclass(frozen=True)
class Release:
    """An earlier published release of the same period, whose published cells are constants
    for the audit of a new release.

    ``cells``: one row per cell of that release: the key columns (``key_columns``), ``VALUE``
    as published (null when suppressed) and ``CONF_STATUS``. Optional: ``TRUE_VALUE``, the
    value the cell had then (known inside the exchange, never published: it tells whether a
    suppressed cell's value has changed since), and ``PUBLISHED`` (false for national cells
    that were inputs only), ``REQUIRED_LOWER``/``REQUIRED_UPPER`` (the protection level it had:
    kept for a cell whose value has changed since, which must stay protected as it was).
    Without ``TRUE_VALUE`` a suppressed cell is assumed unchanged; without the levels they are
    taken from ``CONF_STATUS``.
    ``coverage``: region -> the states its regional cells summed in that release.
    """

    cells: pl.DataFrame
    coverage: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_protected(cls, protected: Protected,
                       coverage: Mapping[str, Sequence[str]]) -> Release:
        """The release ``protect`` returned, as an earlier release of a later one (true values
        kept, so revisions are told from unchanged cells exactly)."""
        key = [c for c in protected.cells.columns
               if c not in (VALUE, PUBLISHED_VALUE, CONF_STATUS, PUBLISHED, SENDER_FLAG)
               and not c.startswith("_")]
        cells = protected.cells.select(
            *key, pl.col(PUBLISHED_VALUE).alias(VALUE), CONF_STATUS,
            pl.col(VALUE).alias(TRUE_VALUE), PUBLISHED)
        levels = protected.audit.filter(pl.col("RELEASE") == 0).select(
            *key, REQUIRED_LOWER, REQUIRED_UPPER)
        cells = cells.join(levels, on=key, how="left", nulls_equal=True)
        return cls(cells=cells, coverage={r: tuple(s) for r, s in coverage.items()})


@dataclass(frozen=True)
class Protected:
    """A release after disclosure control.

    ``cells``: the input columns plus ``CONF_STATUS`` (F free; A small count; O dominance; G too
    few contributors; S secondary; C/N the sender's flag, and N for national cells of states
    without consent to national publication), ``PUBLISHED_VALUE`` (the value where F, else
    null) and ``PUBLISHED`` (the row appears in the release: false for national cells of states
    without consent). ``audit``: one row per suppressed or unpublished cell the audit looked at
    (see ``standards.disclosure.audit``). ``ok``: every audited cell met its protection level;
    a release that is not ok must not be published. ``solver``: the methods that chose
    suppressions, joined by ``+`` in this order: ``milp`` (the exact model, from scratch or
    growing the pattern to meet the audit's cuts), ``cubes`` (protecting directions, for blocks
    too big for it or late audit failures), ``greedy`` (the fallback past the time limit).
    ``timings``: seconds spent in ``primary``, ``secondary``, ``audit`` (and ``total``).
    ``timed_out``: the audit had not proven every cell when ``release_seconds`` ran out (then
    ``ok`` is false: the release must not be published). ``persons_bound``: when asked for
    (``protect``'s ``bound_seconds``), no safe pattern of this release hides fewer persons by
    secondary suppression (``standards.disclosure.bound``).
    """

    cells: pl.DataFrame
    audit: pl.DataFrame
    ok: bool
    solver: str
    timings: dict[str, float] = field(default_factory=dict)
    rounds: int = 0
    timed_out: bool = False
    persons_bound: float | None = None
