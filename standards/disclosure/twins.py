"""Regions that are the same numbers: protected once.

Two regions whose members that take part in the release are the same states (CENTRAL_ASIA,
ALMATY_PROCESS and WIDER_CENTRAL_ASIA when only KAZ, KGZ and TJK report) have the same
regional cells: each is the same sum of the same national figures. Publishing a cell of one
publishes it for the others, and a reader learns nothing from one that the other does not
say. So ``protect`` keeps one of them (the representative), protects the table without the
others (a third fewer cells for three twins, and no direction through the area dimension
that must move all three regions at once), and gives every twin the representative's
statuses and audit rows.

Why the audit covers the twins: a twin's cell and its representative's are one quantity (the
same linear function of the national figures, and equal values), so the feasible interval an
intruder can compute for one is the interval of the other; the representative's LP (or
certificate) is the twin's. Regions are twins only when their cells are identical (same keys,
values and flags), not merely their membership, so a regional table summed differently (other
age bands, a revision) is never merged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from standards.disclosure.release import AREA, Release
from standards.disclosure.table import states_of


@dataclass(frozen=True)
class Twins:
    """``cells`` without the twins' rows, ``regions`` without the twins (members that were
    twins now name their representative), and twin -> representative."""

    cells: pl.DataFrame
    regions: dict[str, tuple[str, ...]]
    of: dict[str, str]

    def earlier(self, release: Release) -> Release:
        """``release`` (an earlier one of the period) with the twins' cells left out where
        they are the representative's, cell for cell (same coverage, values and statuses):
        then they are one quantity, linked to the representative's cell of this release
        (``history``). Where they differ (another coverage then, or a release protected
        without merging that hid a cell in one region only) they stay apart: separate
        earlier quantities, audited as they are."""
        drop: list[str] = []
        cells = release.cells
        others = [c for c in cells.columns if c != AREA]
        for twin, rep in sorted(self.of.items()):
            if twin not in release.coverage or rep not in release.coverage:
                continue
            if set(release.coverage[twin]) != set(release.coverage[rep]):
                continue
            mine = cells.filter(pl.col(AREA) == twin).drop(AREA).sort(others, nulls_last=True)
            theirs = cells.filter(pl.col(AREA) == rep).drop(AREA).sort(others, nulls_last=True)
            if mine.equals(theirs):
                drop.append(twin)
        if not drop:
            return release
        return Release(cells=cells.filter(~pl.col(AREA).is_in(drop)),
                       coverage={r: s for r, s in release.coverage.items() if r not in drop})

    def copies(self) -> dict[str, int]:
        """Representative -> how many regions it stands for (itself and its twins)."""
        out: dict[str, int] = {}
        for rep in self.of.values():
            out[rep] = out.get(rep, 1) + 1
        return out

    def spread(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (rows keyed by AREA) with each representative's rows repeated for its
        twins, in the order of ``frame``'s key when sorted again by the caller."""
        if not self.of:
            return frame
        copies = [frame.filter(pl.col(AREA) == rep).with_columns(pl.lit(twin).alias(AREA))
                  for twin, rep in sorted(self.of.items())]
        return pl.concat([frame, *copies], how="vertical_relaxed")


def find(cells: pl.DataFrame, regions: Mapping[str, Sequence[str]]) -> Twins:
    """The twins of ``cells``'s regions (see the module docstring); none when no two regions
    with cells have the same participating members and identical cells."""
    members = states_of(regions)
    reporting = set(cells[AREA].unique().to_list()) - set(regions)
    with_cells = sorted(r for r in regions if r in set(cells[AREA].unique().to_list()))
    by_members: dict[frozenset[str], list[str]] = {}
    for region in with_cells:
        by_members.setdefault(members[region] & reporting, []).append(region)
    others = [c for c in cells.columns if c != AREA]
    of: dict[str, str] = {}
    for candidates in by_members.values():
        if len(candidates) < 2:
            continue
        frames = {r: cells.filter(pl.col(AREA) == r).drop(AREA).sort(others)
                  for r in candidates}
        # Same cells, not just the same members; the representative contains no other twin
        # (the innermost), so its own member list needs no rewriting.
        while candidates:
            first = candidates[0]
            same = [r for r in candidates if frames[r].equals(frames[first])]
            candidates = [r for r in candidates if r not in same]
            if len(same) < 2:
                continue
            inner = [r for r in same if not set(regions[r]) & set(same)]
            rep = min(inner or same)
            of.update({r: rep for r in same if r != rep})
    if not of:
        return Twins(cells, {r: tuple(m) for r, m in regions.items()}, {})
    kept: dict[str, tuple[str, ...]] = {}
    for region, parts in regions.items():
        if region in of:
            continue
        renamed = [of.get(p, p) for p in parts]
        kept[region] = tuple(dict.fromkeys(p for p in renamed if p != region))
    return Twins(cells.filter(~pl.col(AREA).is_in(sorted(of))), kept, of)
