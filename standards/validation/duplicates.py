"""Rule family "keys": each combination of dimension values once. The check runs on the packed
integer series key (``keys.py``); each repeated row is reported with the row it repeats."""

from __future__ import annotations

import numpy as np

from standards.model import Standard
from standards.validation.columns import Upload
from standards.validation.keys import DENSE_LIMIT, SeriesKeys
from standards.validation.report import Issue, Report, Rule, quote


def repeated(keys: SeriesKeys) -> np.ndarray:
    """Per row: its key occurs more than once. Rows with an invalid dimension never repeat."""
    key, valid = keys.key, keys.valid
    if keys.size <= DENSE_LIMIT:
        # The usual case, no repeats: as many distinct keys as rows, told by a bitmap over the
        # key range (a byte per key instead of a count).
        present = np.zeros(keys.size, dtype=bool)
        present[key[valid]] = True
        if int(np.count_nonzero(present)) == int(np.count_nonzero(valid)):
            return np.zeros(key.size, dtype=bool)
        counts = np.bincount(np.where(valid, key, keys.size), minlength=keys.size + 1)
        if counts[: keys.size].max(initial=0) <= 1:
            return np.zeros(key.size, dtype=bool)
        return valid & (counts[np.where(valid, key, keys.size)] > 1)
    _, inverse, counts = np.unique(np.where(valid, key, -1), return_inverse=True,
                                   return_counts=True)
    return valid & (counts[inverse] > 1)


def check_duplicates(upload: Upload, keys: SeriesKeys, report: Report,
                     standard: Standard) -> Upload:
    """Each repeated key once per extra row, pointing at the row it repeats. Every row of a
    repeated key (the first too) is marked bad: its breakdowns cannot be judged."""
    dup = repeated(keys)
    if not dup.any():
        return upload
    index = np.flatnonzero(dup)
    _, first, inverse = np.unique(keys.key[index], return_index=True, return_inverse=True)
    first_row = upload.rows[index[first[inverse]]]
    extra = index[upload.rows[index] != first_row]
    firsts = first_row[upload.rows[index] != first_row]
    shown = extra[: report.max_per_rule]
    dims = [upload.coded[d] for d in standard.dimension_ids if d in upload.coded]
    report.add_counted(
        Rule.DUPLICATE_KEY,
        [Issue(Rule.DUPLICATE_KEY, f"Same dimension values as row {int(f)}.",
               row=int(upload.rows[i]),
               value=quote(" ".join(str(c.value(int(i))) for c in dims)),
               hint="Add the two rows up into one, or fix the dimension that differs.")
         for i, f in zip(shown.tolist(), firsts[: report.max_per_rule].tolist(), strict=True)],
        int(extra.size),
    )
    bad = upload.bad.copy()
    bad[index] = True
    return upload.with_(bad=bad)
