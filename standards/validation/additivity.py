"""Rule family "additivity": every breakdown (status groups, sex, age within the file's band
system, origin or destination, the measure and specific-needs hierarchies) adds up to its total,
within the DSD's tolerance, widened for files declared rounded: with parts and total each
rounded to a base b, the sum may differ by up to (parts + 1) x b / 2.

Two evaluations of the same rule. When the file's series keys fill a small range (a table is
mostly a full cross-product of its dimensions' values), the values are laid out as a dense
cube with one axis per dimension, and a breakdown is a sum along its axis. Otherwise rows are
grouped by the key with the dimension taken out (``bincount`` over group ids). A test keeps the
two in agreement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from standards.model import Additivity, Standard
from standards.validation.keys import DENSE_LIMIT, SeriesKeys
from standards.validation.report import Issue, Report, Rule

# Dimensions a submission declares (one state, one quarter): a row off them is misfiled, and the
# breakdowns it would belong to cannot be judged either.
DECLARED = ("REF_AREA", "TIME_PERIOD")
# A cube is used when it has at most this many cells per row (and fits DENSE_LIMIT).
CUBE_CELLS_PER_ROW = 4


@dataclass(frozen=True)
class Cells:
    """OBS_VALUE (nulls as 0), file row numbers and "cannot be checked" (an error of its own, or
    an empty value), one entry per row."""

    values: np.ndarray
    rows: np.ndarray
    unusable: np.ndarray


@dataclass(frozen=True)
class Failures:
    """Failing breakdowns in file order: the total's row, the parts' sum, the total; and, for
    the first ones only (the report's cap), the parts given as (dense code, value)."""

    total_row: np.ndarray
    got: np.ndarray
    expected: np.ndarray
    parts: list[list[tuple[int, int]]]


@dataclass(frozen=True)
class Tolerance:
    """How far a breakdown's sum may be from its total: ``fixed`` plus, for a file declared
    rounded to ``base``, (parts given + 1) x base / 2."""

    fixed: int = 0
    base: int = 0

    def of(self, n_parts: np.ndarray) -> np.ndarray:
        if not self.base:
            return np.full(n_parts.shape, self.fixed, dtype=np.float64)
        return self.fixed + np.ceil((n_parts + 1) * self.base / 2)


def check_breakdowns(keys: SeriesKeys, cells: Cells, report: Report, standard: Standard,
                     breakdowns: tuple[Additivity, ...] | None = None, *, rounding: int = 0,
                     cube: bool | None = None) -> None:
    """Every breakdown (the standard's, or ``breakdowns`` when the file's band system is
    known). ``cube`` forces one evaluation (tests)."""
    use_cube = cube if cube is not None else (
        keys.size <= DENSE_LIMIT and keys.size <= CUBE_CELLS_PER_ROW * max(cells.rows.size, 1))
    layout = _Cube(keys, cells) if use_cube else None
    matrices: dict[str, _Matrix | None] = {}
    tolerance = Tolerance(fixed=standard.additivity_tolerance, base=rounding)
    for breakdown in breakdowns if breakdowns is not None else standard.additive_breakdowns:
        dim, total = breakdown.dimension, breakdown.total
        positions = keys.positions[dim]
        part_ids = [positions[p] for p in breakdown.parts if p in positions]
        anchors = [positions[p] for p in breakdown.anchors if p in positions] \
            if breakdown.anchors else part_ids
        if total not in positions or not part_ids or not anchors:
            continue
        if layout is None and dim not in matrices:
            matrices[dim] = _Matrix.of(keys, cells, dim)
        matrix = matrices.get(dim)
        if layout is not None:
            found = layout.failures(dim, positions[total], part_ids, anchors, tolerance,
                                    report.max_per_rule)
        elif matrix is not None:
            found = matrix.failures(positions[total], part_ids, anchors, tolerance,
                                    report.max_per_rule)
        else:
            found = _grouped_failures(keys, cells, dim, positions[total], part_ids, anchors,
                                      tolerance, report.max_per_rule)
        if found is not None:
            _report(found, breakdown, positions, report, standard)


def _report(found: Failures, breakdown: Additivity, positions: dict[str, int], report: Report,
            standard: Standard) -> None:
    dim, total = breakdown.dimension, breakdown.total
    name_of = {dense: name for name, dense in positions.items()}
    rank = {name: i for i, name in enumerate(breakdown.parts)}
    examples = []
    for index, parts in enumerate(found.parts):
        got, expected = int(found.got[index]), int(found.expected[index])
        listed = " + ".join(
            f"{name} {value}" for name, value in
            sorted(((name_of[d], v) for d, v in parts), key=lambda p: rank[p[0]]))
        examples.append(Issue(
            Rule.ADDITIVITY,
            f"{dim} parts add up to {got} ({listed}) but {dim}={total} is {expected}.",
            row=int(found.total_row[index]), column=standard.measure, value=str(expected),
            hint=f"Difference {expected - got:+d}: put unknowns under _U, or correct the total.",
        ))
    report.add_counted(Rule.ADDITIVITY, examples, int(found.total_row.size))


def _grouped_failures(keys: SeriesKeys, cells: Cells, dim: str, total_id: int,
                      part_ids: list[int], anchor_ids: list[int], tolerance: Tolerance,
                      cap: int) -> Failures | None:
    """Parts of a breakdown must add up to its total wherever the total and any part are given.

    Rows of one breakdown share the series key with this dimension taken out. A group with a
    missing (status M) value, or with a row that has an error of its own, cannot be checked and
    is skipped: its error is already reported.
    """
    # Only the breakdown's own rows (its total and its parts) take part, so a breakdown of a
    # few measures among forty costs in proportion to its rows; the groups are the key with
    # this dimension taken out (shared by every breakdown of the dimension).
    role = np.zeros(keys.radix[dim], dtype=np.int8)
    role[part_ids] = 1
    role[total_id] = 2
    all_ids, n = keys.groups_without(dim)
    all_codes = keys.codes[dim]
    role_of_row = role[all_codes]
    member = np.flatnonzero(role_of_row > 0)
    if member.size == all_codes.size:  # every row takes part: no copies
        code, ids, role_of_member = all_codes, all_ids, role_of_row
        values, rows, errored = cells.values, cells.rows, cells.unusable
    else:
        code, ids, role_of_member = all_codes[member], all_ids[member], role_of_row[member]
        values, rows, errored = cells.values[member], cells.rows[member], \
            cells.unusable[member]
    if member.size * 4 < n:  # a breakdown of few rows: its own groups, numbered compactly
        present = np.zeros(n, dtype=bool)
        present[ids] = True
        ids = (np.cumsum(present, dtype=np.int64) - 1)[ids]
        n = int(ids.max()) + 1 if ids.size else 0
    is_total = role_of_member == 2
    part_mask = role_of_member == 1
    # A row with an error of its own spoils its breakdown; one filed under another state or
    # quarter spoils the breakdown it should have been in, so errors are spread over the
    # cell's breakdowns in every state and quarter of the file.
    unusable = errored
    if errored.any():
        wide_ids, wide_n = keys.groups_without(dim, *DECLARED)
        wide = wide_ids if member.size == all_codes.size else wide_ids[member]
        spoiled = np.bincount(wide, weights=errored, minlength=wide_n) > 0
        unusable = spoiled[wide]

    total_value = np.zeros(n, dtype=np.int64)
    total_row = np.full(n, -1, dtype=np.int64)
    total_value[ids[is_total]] = values[is_total]
    total_row[ids[is_total]] = rows[is_total]
    part_ids_of_rows = ids[part_mask]
    parts = np.bincount(part_ids_of_rows, weights=values[part_mask], minlength=n)
    n_parts = np.bincount(part_ids_of_rows, minlength=n)
    n_unusable = np.bincount(ids[unusable], minlength=n) if unusable.any() else \
        np.zeros(n, dtype=np.int64)
    is_part = part_mask
    if anchor_ids != part_ids:
        anchor_lookup = np.zeros(keys.radix[dim], dtype=np.int64)
        anchor_lookup[anchor_ids] = 1
        anchored_groups = np.bincount(ids, weights=anchor_lookup[code], minlength=n) > 0
    else:
        anchored_groups = n_parts > 0
    failing = np.flatnonzero(
        (total_row >= 0) & anchored_groups & (n_unusable == 0)
        & (np.abs(parts - total_value) > tolerance.of(n_parts))
    )
    if failing.size == 0:
        return None
    order = np.argsort(total_row[failing], kind="stable")
    failing = failing[order]
    shown_groups = failing[:cap]
    in_shown = np.flatnonzero(np.isin(ids, shown_groups) & (is_part == 1))
    listed: dict[int, list[tuple[int, int]]] = {}
    for group, dense, value in zip(ids[in_shown].tolist(), code[in_shown].tolist(),
                                   values[in_shown].tolist(), strict=True):
        listed.setdefault(group, []).append((dense, value))
    return Failures(total_row=total_row[failing], got=parts[failing].astype(np.int64),
                    expected=total_value[failing],
                    parts=[listed.get(int(g), []) for g in shown_groups])


class _Matrix:
    """One dimension's breakdowns on a grid of (group, code): the groups are the key with the
    dimension taken out, numbered compactly, so the grid is dense wherever most groups carry
    most of the dimension's codes (sex, age); a breakdown is then sums across columns. Used
    where the grid has at most ``MATRIX_CELLS_PER_ROW`` cells per row; sparser dimensions (a
    measure hierarchy among forty measures) go through ``_grouped_failures``."""

    def __init__(self, keys: SeriesKeys, cells: Cells, dim: str, ids: np.ndarray,
                 n: int) -> None:
        self.n, self.r = n, keys.radix[dim]
        self.flat = ids * self.r + keys.codes[dim]
        self.value = np.zeros(n * self.r, dtype=np.int64)
        self.value[self.flat] = cells.values
        self.present = np.zeros(n * self.r, dtype=bool)
        self.present[self.flat] = True
        self.rows = cells.rows
        self.bad: np.ndarray | None = None
        self.wide: tuple[np.ndarray, int] | None = None
        if cells.unusable.any():
            self.bad = np.zeros(n * self.r, dtype=bool)
            self.bad[self.flat[cells.unusable]] = True
            wide_ids, wide_n = keys.groups_without(dim, *DECLARED)
            wide_of_group = np.zeros(n, dtype=np.int64)
            wide_of_group[ids] = wide_ids
            self.wide = (wide_of_group, wide_n)

    @classmethod
    def of(cls, keys: SeriesKeys, cells: Cells, dim: str) -> _Matrix | None:
        ids, n = keys.groups_without(dim)
        if n * keys.radix[dim] > MATRIX_CELLS_PER_ROW * max(cells.rows.size, 1):
            return None
        return cls(keys, cells, dim, ids, n)

    def failures(self, total_id: int, part_ids: list[int], anchor_ids: list[int],
                 tolerance: Tolerance, cap: int) -> Failures | None:
        value = self.value.reshape(self.n, self.r)
        present = self.present.reshape(self.n, self.r)
        part_values = value[:, part_ids]
        part_present = present[:, part_ids]
        got = part_values.sum(axis=1)
        anchored = part_present.any(axis=1) if anchor_ids == part_ids else \
            present[:, anchor_ids].any(axis=1)
        total_value = value[:, total_id]
        failing = present[:, total_id] & anchored & \
            (np.abs(got - total_value) > tolerance.of(part_present.sum(axis=1)))
        if self.bad is not None and self.wide is not None:
            # A breakdown with a row that has an error of its own cannot be judged, in every
            # state and quarter of the file (as the grouped evaluation).
            members = self.bad.reshape(self.n, self.r)[:, [total_id, *part_ids]].any(axis=1)
            wide_of_group, wide_n = self.wide
            spoiled = np.bincount(wide_of_group, weights=members, minlength=wide_n) > 0
            failing &= ~spoiled[wide_of_group]
        groups = np.flatnonzero(failing)
        if groups.size == 0:
            return None
        row = np.full(self.n * self.r, -1, dtype=np.int64)
        row[self.flat] = self.rows
        rows = row.reshape(self.n, self.r)[groups, total_id]
        order = np.argsort(rows, kind="stable")
        groups, rows = groups[order], rows[order]
        shown = groups[:cap]
        parts = [[(part_ids[j], int(part_values[g, j])) for j in range(len(part_ids))
                  if part_present[g, j]] for g in shown.tolist()]
        return Failures(total_row=rows, got=got[groups].astype(np.int64),
                        expected=total_value[groups], parts=parts)


# A dimension's (group, code) grid is used up to this many cells per row of the file.
MATRIX_CELLS_PER_ROW = 2


class _Cube:
    """The file's values on a dense grid, one axis per dimension (the key is the flat index)."""

    def __init__(self, keys: SeriesKeys, cells: Cells) -> None:
        self.dims = list(keys.codes)
        self.shape = tuple(keys.radix[d] for d in reversed(self.dims))
        key = keys.key
        self.value = np.zeros(keys.size, dtype=np.int64)
        self.value[key] = cells.values
        self.present = np.zeros(keys.size, dtype=bool)
        self.present[key] = True
        self.bad = np.zeros(keys.size, dtype=bool)
        self.bad[key[cells.unusable]] = True
        self.key, self.rows = key, cells.rows
        self._row: np.ndarray | None = None

    @property
    def row(self) -> np.ndarray:
        """The file row of each cell (-1 where none); laid out only when a breakdown fails."""
        if self._row is None:
            self._row = np.full(self.value.size, -1, dtype=np.int64)
            self._row[self.key] = self.rows
        return self._row

    def axis(self, dim: str) -> int:
        return len(self.dims) - 1 - self.dims.index(dim)

    def failures(self, dim: str, total_id: int, part_ids: list[int], anchor_ids: list[int],
                 tolerance: Tolerance, cap: int) -> Failures | None:
        a = self.axis(dim)
        value = self.value.reshape(self.shape)
        present = self.present.reshape(self.shape)
        total_value = value.take(total_id, axis=a)
        has_total = present.take(total_id, axis=a)
        part_values = value.take(part_ids, axis=a)
        part_present = present.take(part_ids, axis=a)
        members = self.bad.reshape(self.shape).take([total_id, *part_ids], axis=a).any(axis=a)
        if members.any():  # spread over every state and quarter, as the grouped evaluation
            wide = [self.axis(d) - (self.axis(d) > a) for d in DECLARED if d in self.dims]
            members = np.broadcast_to(members.any(axis=tuple(wide), keepdims=True),
                                      members.shape)
        got = part_values.sum(axis=a)
        anchored = part_present.any(axis=a) if anchor_ids == part_ids else \
            present.take(anchor_ids, axis=a).any(axis=a)
        failing = has_total & anchored & ~members & \
            (np.abs(got - total_value) > tolerance.of(part_present.sum(axis=a)))
        flat = np.flatnonzero(failing)
        if flat.size == 0:
            return None
        rows = self.row.reshape(self.shape).take(total_id, axis=a).reshape(-1)[flat]
        order = np.argsort(rows, kind="stable")
        flat, rows = flat[order], rows[order]
        shown = flat[:cap]
        listed_values = np.moveaxis(part_values, a, -1).reshape(-1, len(part_ids))[shown]
        listed_present = np.moveaxis(part_present, a, -1).reshape(-1, len(part_ids))[shown]
        parts = [[(part_ids[j], int(listed_values[k, j])) for j in range(len(part_ids))
                  if listed_present[k, j]] for k in range(shown.size)]
        return Failures(total_row=rows, got=got.reshape(-1)[flat],
                        expected=total_value.reshape(-1)[flat], parts=parts)
