"""Rule family "subset": a group with specific needs is part of all persons of its key, so its
count never exceeds the count of SPEC_NEED=_T (nor of the group it is declared ``within``, e.g.
survivors of torture within survivors of SGBV or torture). Never summed: one person may have
several needs.

Rows are grouped by the series key with the subset dimension taken out, as for additivity; a
parent's value is scattered to its group and every member row compared with it.
"""

from __future__ import annotations

import numpy as np

from standards.model import Standard
from standards.validation.additivity import DECLARED, Cells
from standards.validation.keys import SeriesKeys, group_ids
from standards.validation.report import Issue, Report, Rule


def check_subsets(keys: SeriesKeys, cells: Cells, report: Report, standard: Standard,
                  *, rounding: int = 0) -> None:
    """Every subset dimension's codes against their ``_T`` and their ``within`` parent."""
    found: list[tuple[int, str, str, int, int]] = []  # row, code, parent, value, parent value
    total_rows = 0
    for dim in standard.dimensions:
        if dim.subsets_of is None or dim.codelist is None or dim.id not in keys.positions:
            continue
        positions = keys.positions[dim.id]
        parents: dict[str, list[str]] = {}
        for code in dim.codelist.codes:
            if code.id == dim.subsets_of or code.id not in positions:
                continue
            parents.setdefault(dim.subsets_of, []).append(code.id)
            within = code.properties.get("within")
            if within:
                parents.setdefault(str(within), []).append(code.id)
        if not parents:
            continue
        ids, n = group_ids(keys.without(dim.id))
        code = keys.codes[dim.id]
        unusable = cells.unusable
        if unusable.any():
            wide_ids, wide_n = group_ids(keys.without(dim.id, *DECLARED))
            spoiled = np.bincount(wide_ids, weights=unusable, minlength=wide_n) > 0
            unusable = spoiled[wide_ids]
        for parent, members in parents.items():
            if parent not in positions:
                continue
            is_parent = (code == positions[parent]) & ~unusable
            parent_value = np.full(n, -1, dtype=np.int64)
            parent_value[ids[is_parent]] = cells.values[is_parent]
            member_lookup = np.zeros(keys.radix[dim.id], dtype=bool)
            member_lookup[[positions[m] for m in members]] = True
            limit = parent_value[ids] + (rounding if rounding > 1 else 0)
            over = np.flatnonzero(member_lookup[code] & ~unusable & (parent_value[ids] >= 0)
                                  & (cells.values > limit))
            total_rows += int(over.size)
            names = {v: k for k, v in positions.items()}
            found.extend((int(cells.rows[i]), names[int(code[i])], parent,
                          int(cells.values[i]), int(parent_value[ids[i]]))
                         for i in over[: report.max_per_rule].tolist())
    if not total_rows:
        return
    found.sort()
    report.add_counted(Rule.SUBSET, [
        Issue(Rule.SUBSET, f"SPEC_NEED={name} is {value}, more than SPEC_NEED={parent} "
              f"({parent_value}) of the same key.", row=row, column="OBS_VALUE", value=str(value),
              hint=f"{name} is part of {parent}: correct one of them (a person with specific "
                   "needs is also counted in _T).")
        for row, name, parent, value, parent_value in found[: report.max_per_rule]
    ], total_rows)
