"""Series keys as integers: what makes key uniqueness and additivity cheap on a million rows.

Each dimension value becomes a dense integer (its rank among the values the file actually uses),
and the dense codes are packed into one ``int64`` per row in mixed radix. Both are decided on each
column's dictionary of distinct values; rows are touched once, by a lookup. Rows whose dimensions
are not all valid get a distinct negative key, so they never collide with anything. With keys
that small, grouping is ``numpy.bincount`` over a dense range instead of hashing seven strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

from standards.model import Standard
from standards.validation.columns import Upload, anchored

KEY = "__key"
# Largest key range grouped by direct indexing (an int64 array of this many entries is 128 MiB);
# sparser files are grouped through ``numpy.unique`` instead.
DENSE_LIMIT = 1 << 24


@dataclass(frozen=True)
class SeriesKeys:
    """Dense codes per dimension (-1 where invalid), their radices and the packed key.

    A dense code identifies a code among those the file uses; its order is not the code list's.
    """

    codes: dict[str, np.ndarray]
    radix: dict[str, int]
    stride: dict[str, int]
    positions: dict[str, dict[str, int]]  # code -> dense id, for the codes present
    key: np.ndarray
    valid: np.ndarray
    size: int  # keys of valid rows lie in range(size)

    def without(self, *dimensions: str) -> np.ndarray:
        """The key of every row with ``dimensions`` taken out: rows of one breakdown share it."""
        key = self.key
        for dim in dimensions:
            key = key - np.multiply(self.codes[dim], self.stride[dim], dtype=np.int64)
        return key

    def groups_without(self, *dimensions: str) -> tuple[np.ndarray, int]:
        """Group ids of the rows by their key with ``dimensions`` taken out (computed once per
        set of dimensions: every breakdown of a dimension shares them)."""
        found = self._groups.get(dimensions)
        if found is None:
            found = self._groups[dimensions] = self._groups_without(*dimensions)
        return found

    @cached_property
    def _groups(self) -> dict[tuple[str, ...], tuple[np.ndarray, int]]:
        return {}

    def _groups_without(self, *dimensions: str) -> tuple[np.ndarray, int]:
        """Group ids ``0..n-1`` of the rows by their key with ``dimensions`` taken out.

        With ten dimensions, most combinations of values never occur (needs only for some
        measures, origins only for flows), so the packed key's range is far larger than the
        file and grouping on it directly, or sorting it, costs more than every rule besides.
        The small dimensions are therefore packed apart (their range is bounded by
        ``JOINT_LIMIT``) and compacted by a lookup over that range, then combined with the
        large ones: the result spans about as many ids as the file has rows, in linear time.
        """
        block = self._block
        joint, outer = block.joint_key, block.outer_key
        taken = [d for d in dimensions if d in block.joint_stride]
        if taken:
            joint = joint - sum(self.codes[d] * block.joint_stride[d] for d in taken)
        taken = [d for d in dimensions if d in block.outer_stride]
        if taken:
            outer = outer - sum(self.codes[d] * block.outer_stride[d] for d in taken)
        all_valid = bool(self.valid.all())
        if not all_valid:  # rows with an invalid dimension: a group of their own each
            joint = np.where(self.valid, joint, 0)
            outer = np.where(self.valid, outer, 0)
        present = np.zeros(block.joint_size, dtype=bool)
        present[joint] = True
        compact = np.cumsum(present, dtype=np.int64) - 1
        n_joint = int(compact[-1]) + 1 if compact.size else 1
        combined = compact[joint]
        if block.outer_size > 1:
            combined += n_joint * outer
        top = n_joint * block.outer_size
        if not all_valid:
            combined = np.where(self.valid, combined, top + np.arange(combined.size))
            top += combined.size
        if top <= SPARSE_FACTOR // 4 * combined.size:
            return combined, top  # dense enough: a few empty groups cost less than numbering
        if top <= DENSE_LIMIT:
            # Number the groups that occur 0..n-1: every per-group array of every breakdown
            # is then as small as the groups, not as the range of the packed key.
            present = np.zeros(top, dtype=bool)
            present[combined] = True
            number = np.cumsum(present, dtype=np.int64) - 1
            return number[combined], int(number[-1]) + 1
        return group_ids(combined)

    @cached_property
    def _block(self) -> _Block:
        """Split the dimensions into a joint block, packed and compacted by lookup, and an
        outer one. The outer block is the one large dimension whose values combine most
        freely with the rest (citizenship, usually: every row of a table repeats for each
        country of origin), chosen among the largest by the range it leaves; otherwise the
        smallest dimensions while their product stays within ``JOINT_LIMIT``."""
        dims = list(self.codes)
        best: tuple[int, str] | None = None
        for candidate in sorted(dims, key=lambda d: -self.radix[d])[:2]:
            rest = [d for d in dims if d != candidate]
            size = int(np.prod([self.radix[d] for d in rest], dtype=np.int64))
            if size > JOINT_LIMIT or self.size > DENSE_LIMIT:
                continue
            # The distinct combinations of the other dimensions, on the packed key itself, in
            # an evenly spaced sample of the rows (enough to tell the candidates apart).
            step = max(1, self.key.size // SAMPLE_ROWS)
            rest_key = (self.key[::step] - self.codes[candidate][::step] * self.stride[
                candidate])[self.valid[::step]]
            spread = int(np.unique(rest_key).size) * self.radix[candidate]
            if best is None or spread < best[0]:
                best = (spread, candidate)
        if best is not None:
            joint = [d for d in dims if d != best[1]]
        else:
            joint, size = [], 1
            for dim in sorted(dims, key=lambda d: self.radix[d]):
                if size * self.radix[dim] > JOINT_LIMIT:
                    break
                joint.append(dim)
                size *= self.radix[dim]
        joint_stride = _strides(joint, self.radix)
        outer_stride = _strides([d for d in dims if d not in joint_stride], self.radix)
        return _Block(joint_stride=joint_stride,
                      joint_size=int(np.prod([self.radix[d] for d in joint], dtype=np.int64)),
                      joint_key=self._packed(joint_stride),
                      outer_stride=outer_stride,
                      outer_size=int(np.prod([self.radix[d] for d in outer_stride],
                                             dtype=np.int64)),
                      outer_key=self._packed(outer_stride))

    def _packed(self, stride: dict[str, int]) -> np.ndarray:
        key = np.zeros(self.key.size, dtype=np.int64)
        term = np.empty(self.key.size, dtype=np.int64)
        for dim, step in stride.items():
            np.multiply(self.codes[dim], step, out=term)
            key += term
        if not self.valid.all():  # invalid rows (code -1) are regrouped by the caller
            key = np.where(self.valid, key, 0)
        return key


def _strides(dims: list[str], radix: dict[str, int]) -> dict[str, int]:
    out, size = {}, 1
    for dim in dims:
        out[dim] = size
        size *= radix[dim]
    return out


# Rows sampled to choose the outer dimension.
SAMPLE_ROWS = 1 << 16

# Largest range of the small dimensions' packed key (a boolean and an int64 array of this size
# are allocated per grouping).
JOINT_LIMIT = 1 << 20


@dataclass(frozen=True)
class _Block:
    joint_stride: dict[str, int]
    joint_size: int
    joint_key: np.ndarray
    outer_stride: dict[str, int] = field(default_factory=dict)
    outer_size: int = 1
    outer_key: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def lookup(entries: pl.Series, codes: list[str]) -> np.ndarray:
    """For each dictionary entry, its position in ``codes`` or -1."""
    if not codes:
        return np.full(entries.len(), -1, dtype=np.int64)
    cast = entries.cast(pl.Enum(codes), strict=False).to_physical()
    return cast.cast(pl.Int64).fill_null(-1).to_numpy()


def _dense(raw_of_entry: np.ndarray, entry_of_row: np.ndarray, allowed: list[str]
           ) -> tuple[np.ndarray, int, dict[str, int]]:
    """Dense codes per row from a per-entry lookup: all remapping happens on the small side.

    ``raw_of_entry`` maps each dictionary entry to its position in ``allowed`` (or -1);
    ``entry_of_row`` maps each row to its dictionary entry (or -1 for an empty cell).
    """
    if not allowed:
        return np.full(entry_of_row.size, -1, dtype=np.int64), 1, {}
    if raw_of_entry.size and (raw_of_entry >= 0).all():
        # Every distinct value is a code (the usual case): the entries are the dense codes.
        positions = {allowed[int(r)]: i for i, r in enumerate(raw_of_entry)}
        return entry_of_row, raw_of_entry.size, positions
    used = np.bincount(entry_of_row + 1, minlength=raw_of_entry.size + 1)[1:] > 0
    present = np.zeros(len(allowed), dtype=bool)
    present[raw_of_entry[used & (raw_of_entry >= 0)]] = True
    dense_of_code = np.cumsum(present) - 1
    dense_of_entry = np.where(raw_of_entry >= 0, dense_of_code[np.maximum(raw_of_entry, 0)], -1)
    codes = np.append(dense_of_entry, -1)[entry_of_row]  # entry -1 picks the appended -1
    positions = {c: int(dense_of_code[i]) for i, c in enumerate(allowed) if present[i]}
    return codes, max(int(present.sum()), 1), positions


def series_keys(upload: Upload, standard: Standard) -> SeriesKeys:
    """Integer keys of the upload's rows, from each dimension's dictionary."""
    codes: dict[str, np.ndarray] = {}
    radix: dict[str, int] = {}
    positions: dict[str, dict[str, int]] = {}
    for dim in standard.dimensions:
        coded = upload.coded[dim.id]
        if dim.codelist is not None:
            allowed = list(dim.codelist.ids)
        else:  # a pattern dimension (TIME_PERIOD): its codes are its valid values
            matching = coded.entries.str.contains(anchored(dim.pattern or ".")).fill_null(False)
            used = coded.counts() > 0
            allowed = sorted(e for e, ok, u in zip(coded.entries.to_list(), matching.to_list(),
                                                    used.tolist(), strict=True) if ok and u)
        codes[dim.id], radix[dim.id], positions[dim.id] = _dense(
            lookup(coded.entries, allowed), coded.ids, allowed)
    stride, size = {}, 1
    for dim in standard.dimensions:
        stride[dim.id] = size
        size *= radix[dim.id]
    if size >= 2**62:  # pragma: no cover - would need millions of distinct values per dimension
        raise OverflowError("the series key does not fit 62 bits")
    key = np.zeros(upload.height, dtype=np.int64)
    term = np.empty(upload.height, dtype=np.int64)
    for dim, dense in codes.items():
        np.multiply(dense, stride[dim], out=term, dtype=np.int64)
        key += term
    if all(c.size == 0 or c.min() >= 0 for c in codes.values()):  # the usual case
        valid = np.ones(upload.height, dtype=bool)
    else:
        valid = np.logical_and.reduce([c >= 0 for c in codes.values()])
        key = np.where(valid, key, -np.arange(1, upload.height + 1))
    return SeriesKeys(codes=codes, radix=radix, stride=stride, positions=positions,
                      key=key, valid=valid, size=size)


# Keys are used as group ids directly while their range is at most this many times the rows;
# sparser keys (many dimensions, few combinations used) are compacted first, since every
# per-group array would otherwise be mostly empty.
SPARSE_FACTOR = 8


def group_ids(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Map non-negative keys onto ``0..n-1`` group ids (directly when the range is small)."""
    if values.size == 0:
        return values, 0
    top = int(values.max()) + 1
    if top <= DENSE_LIMIT and top <= SPARSE_FACTOR * values.size:
        return values, top
    unique, inverse = np.unique(values, return_inverse=True)
    return inverse, unique.size
