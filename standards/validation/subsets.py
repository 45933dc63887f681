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
from standards.validation.keys import SeriesKeys
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
        ids, n = keys.groups_without(dim.id)
        code = keys.codes[dim.id]
        unusable = cells.unusable
        if unusable.any():
            wide_ids, wide_n = keys.groups_without(dim.id, *DECLARED)
            spoiled = np.bincount(wide_ids, weights=unusable, minlength=wide_n) > 0
            unusable = spoiled[wide_ids]
        # Only rows of a parent code are read in full; the members (the needs, a minority of
        # the rows in any table) are compared on their own rows.
        usable_rows = np.flatnonzero(~unusable) if unusable.any() else None
        names = {v: k for k, v in positions.items()}
        for parent, members in parents.items():
            if parent not in positions:
                continue
            member_lookup = np.zeros(keys.radix[dim.id], dtype=bool)
            member_lookup[[positions[m] for m in members]] = True
            role = member_lookup[code]
            if usable_rows is not None:
                role &= ~unusable
            member_rows = np.flatnonzero(role)
            if not member_rows.size:
                continue
            parent_rows = np.flatnonzero(code == positions[parent])
            if usable_rows is not None:
                parent_rows = parent_rows[~unusable[parent_rows]]
            parent_value = np.full(n, -1, dtype=np.int64)
            parent_value[ids[parent_rows]] = cells.values[parent_rows]
            of_member = parent_value[ids[member_rows]]
            values = cells.values[member_rows]
            over = member_rows[(of_member >= 0)
                               & (values > of_member + (rounding if rounding > 1 else 0))]
            total_rows += int(over.size)
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
