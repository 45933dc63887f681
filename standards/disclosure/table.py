"""The table as the optimiser and the audit see it: one variable per quantity an intruder may
reason about, their true values, what is known of each, and the relations among them.

Quantities (``kind``):

* CANDIDATE: a cell of this release (a regional cell, or a national cell of a state that
  consented): published, unless suppression chooses otherwise (``fixed``: 1 primary or kept
  suppressed, 0 known whatever we do, -1 free).
* HIDDEN: national figures of states without consent: never published. States that no reader
  can tell apart (the same regions, the same coverage in every earlier release, never published
  nationally) are merged into one group quantity per key: a reader who knows their sum can put
  all of it on any one of them, so the group's feasible interval is exactly each member's
  upper bound (and its lower bound is 0). This keeps a region of twenty states small.
* EARLIER_KNOWN / EARLIER_UNKNOWN: cells of an earlier release of the period that are not the
  same quantity as a cell of this release (a revised value, another coverage): published
  constants, or unknowns (``history``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from standards.disclosure import relations as rel
from standards.disclosure.primary import PRIMARY, PUBLISHED, REGIONAL, REQ_HI, REQ_LO
from standards.disclosure.release import AREA, VALUE
from standards.model import Standard

CANDIDATE, HIDDEN, EARLIER_KNOWN, EARLIER_UNKNOWN = 0, 1, 2, 3
FREE, KNOWN, SUPPRESSED = -1, 0, 1
VAR = "_VAR"
COPIES = "COPIES"
GROUP_PREFIX = "~"


@dataclass
class Table:
    """Variables (columns of the relation matrices) and their relations.

    ``vars``: one row per variable, in id order: RELEASE (0 this one, i the i-th earlier one),
    AREA (a state, region or group of states), the dimensions, VALUE (true value), KIND,
    FIXED, PRIMARY, REQ_LO/REQ_HI (protection level). ``cells``: the input cells with the id
    of the variable that holds them (``_VAR``: their own, or their group's).
    """

    key: tuple[str, ...]
    vars: pl.DataFrame
    cells: pl.DataFrame
    relations: rel.Relations
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.vars.height

    def array(self, column: str) -> np.ndarray:
        return self.vars[column].to_numpy()

    @property
    def values(self) -> np.ndarray:
        return self.vars[VALUE].to_numpy().astype(float)

    @property
    def costs(self) -> np.ndarray:
        """What hiding each variable costs: its persons times the copies of it that are
        published (``COPIES``: a region with twins is one variable for all of them, and its
        hidden cell is hidden in each; 1 where the column is absent)."""
        if COPIES not in self.vars.columns:
            return self.values
        return self.values * self.vars[COPIES].fill_null(1).to_numpy()

    def needs(self) -> np.ndarray:
        """Variables with a protection level beyond their own value."""
        value = self.values
        return (self.array(REQ_LO) < value - 1e-9) | (self.array(REQ_HI) > value + 1e-9)


def states_of(regions: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    """Region -> its member states, through sub-regions (members that are region ids)."""
    out: dict[str, frozenset[str]] = {}

    def expand(region: str, seen: frozenset[str]) -> frozenset[str]:
        if region in out:
            return out[region]
        if region in seen:
            raise ValueError(f"regions: {region} contains itself")
        members: set[str] = set()
        for m in regions[region]:
            members |= expand(m, seen | {region}) if m in regions else {m}
        out[region] = frozenset(members)
        return out[region]

    for region in regions:
        expand(region, frozenset())
    return out


def group_states(hidden: Sequence[str], signature: Mapping[str, object]) -> dict[str, str]:
    """State -> the area of its group (itself when alone): states without consent whose
    signatures are equal merge, the others stay apart (signature None: never merged)."""
    by_signature: dict[object, list[str]] = {}
    for state in sorted(hidden):
        sig = signature.get(state)
        by_signature.setdefault(("alone", state) if sig is None else sig, []).append(state)
    area: dict[str, str] = {}
    for members in by_signature.values():
        name = members[0] if len(members) == 1 else GROUP_PREFIX + "+".join(members)
        for m in members:
            area[m] = name
    return area


def build(cells: pl.DataFrame, *, standard: Standard, key: tuple[str, ...],
          regions: Mapping[str, Sequence[str]], signature: Mapping[str, object]) -> Table:
    """The current release's table: ``cells`` classified by ``primary.classify``, sorted by key."""
    dims = [c for c in key if c != AREA]
    members = states_of(regions)
    hidden_states = cells.filter(~pl.col(PUBLISHED))[AREA].unique().sort().to_list()
    group_of = group_states(hidden_states, signature)
    cells = cells.with_columns(
        pl.when(pl.col(PUBLISHED)).then(pl.col(AREA))
        .otherwise(pl.col(AREA).replace_strict(group_of, default=None)).alias("_MODEL_AREA"))
    shown = cells.filter(pl.col(PUBLISHED)).select(
        pl.col("_MODEL_AREA").alias(AREA), *dims, pl.col(VALUE).cast(pl.Float64),
        pl.lit(CANDIDATE, dtype=pl.Int8).alias("KIND"),
        pl.when(pl.col(PRIMARY).is_not_null()).then(SUPPRESSED).otherwise(FREE)
        .cast(pl.Int8).alias("FIXED"), PRIMARY, REQ_LO, REQ_HI)
    hidden = (cells.filter(~pl.col(PUBLISHED))
              .group_by("_MODEL_AREA", *dims)
              .agg(pl.col(VALUE).sum().cast(pl.Float64), pl.len().alias("_MEMBERS"),
                   pl.col(REQ_LO).min(), pl.col(REQ_HI).max(),
                   pl.col(PRIMARY).drop_nulls().sort().first()))
    # A group's members can each be 0 (another takes it all): no lower level for a group.
    hidden = hidden.with_columns(
        pl.when(pl.col("_MODEL_AREA").str.starts_with(GROUP_PREFIX))
        .then(pl.col(VALUE)).otherwise(pl.col(REQ_LO)).alias(REQ_LO),
        pl.max_horizontal(REQ_HI, VALUE).alias(REQ_HI),
    ).select(pl.col("_MODEL_AREA").alias(AREA), *dims, VALUE,
             pl.lit(HIDDEN, dtype=pl.Int8).alias("KIND"),
             pl.lit(SUPPRESSED, dtype=pl.Int8).alias("FIXED"), PRIMARY, REQ_LO, REQ_HI)
    variables = (pl.concat([shown, hidden]).sort(AREA, *dims)
                 .with_row_index(rel.ID).with_columns(pl.col(rel.ID).cast(pl.Int64),
                                                       pl.lit(0, dtype=pl.Int32).alias("RELEASE")))
    cells = cells.join(variables.select(pl.col(AREA).alias("_MODEL_AREA"), *dims,
                                        pl.col(rel.ID).alias(VAR)),
                       on=["_MODEL_AREA", *dims], how="left", maintain_order="left"
                       ).drop("_MODEL_AREA")
    model_areas = set(variables[AREA].unique().to_list())
    groups = {name: tuple(sorted(s for s, g in group_of.items() if g == name))
              for name in sorted(set(group_of.values()))}
    region_areas, subregion_areas = model_regions(regions, members, groups, model_areas,
                                                  set(cells.filter(pl.col(REGIONAL))[AREA]))
    relations = rel.build(variables, standard, key, region_areas, subregion_areas,
                          size=variables.height)
    return Table(key=key, vars=variables, cells=cells, relations=relations, groups=groups)


def model_regions(regions: Mapping[str, Sequence[str]], members: Mapping[str, frozenset[str]],
                  groups: Mapping[str, tuple[str, ...]], model_areas: set[str],
                  regional: set[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Region -> the areas of the table whose sum it is (states, groups), and, for regions
    whose sub-regions are disjoint, region -> its sub-regions plus the areas outside them."""
    area_states = {a: frozenset(groups.get(a, (a,))) for a in model_areas if a not in regional}
    sums: dict[str, list[str]] = {}
    subs: dict[str, list[str]] = {}
    for region in sorted(regions):
        inside = members[region]
        sums[region] = sorted(a for a, s in area_states.items() if s <= inside)
        sub = [m for m in regions[region] if m in regions]
        if not sub:
            continue
        covered: set[str] = set()
        disjoint = True
        for s in sub:
            disjoint &= not (covered & members[s])
            covered |= members[s]
        if disjoint:
            subs[region] = sorted(sub) + sorted(
                a for a, s in area_states.items() if s <= inside - covered)
    return sums, subs


def relations_id() -> str:
    """The id column of ``Table.vars`` (the column of the relation matrices)."""
    return rel.ID
