"""National variants mapped to standard codes before the rules run (aliases, nested age bands,
codes of older versions), decided on the distinct values of each column, never per row."""

from __future__ import annotations

import numpy as np
import polars as pl

from standards.mappings import MappingLog, Mappings, load_mappings, value_map
from standards.model import Standard
from standards.validation.columns import Coded, Upload
from standards.validation.report import Report


def map_variants(upload: Upload, report: Report, standard: Standard, mappings: Mappings | None,
                 version: str) -> Upload:
    """Rewrite national variants to standard codes (decided on each dictionary), and sum rows
    whose nested age bands now share a key. Unmapped values stay for the code-list rule."""
    mappings = mappings or load_mappings()
    log = MappingLog()
    coded = dict(upload.coded)
    nested_rows: np.ndarray | None = None
    for dim, column in upload.coded.items():
        plan = value_map(column.entries.to_list(), dim, standard, mappings, version)
        if not plan:
            continue
        counts = column.counts()
        entries = column.entries.to_list()
        for i, value in enumerate(entries):
            if value in plan and counts[i]:
                log.add(plan[value][1], dim, value, plan[value][0], int(counts[i]))
        mapped = [plan[v][0] if v in plan else v for v in entries]
        if dim == "AGE":
            nested = np.array([plan.get(v, ("", ""))[1] == "nested band" for v in entries],
                              dtype=bool)
            if nested.any():
                nested_rows = column.where(nested)
        coded[dim] = _merge(column, mapped)
    if not log.applied:
        return upload
    upload = upload.with_(coded=coded)
    if nested_rows is not None and nested_rows.any():
        upload = _sum_nested(upload, nested_rows, standard)
    report.notes.extend(log.notes())
    return upload


def _merge(column: Coded, mapped: list[str]) -> Coded:
    """The column over the dictionary of its mapped values (two variants of one code merge)."""
    distinct = list(dict.fromkeys(mapped))
    position = {v: i for i, v in enumerate(distinct)}
    return column.remap(pl.Series(distinct, dtype=pl.String),
                        np.array([position[v] for v in mapped], dtype=np.int32))


def _sum_nested(upload: Upload, nested: np.ndarray, standard: Standard) -> Upload:
    """Rows that came from finer national age bands are summed per key (first row kept, the sum
    is bad if any part is). Rare, so done by a group-by on the few rows concerned."""
    keys = [d for d in standard.dimension_ids if d in upload.coded]
    fine = np.flatnonzero(nested)
    frame = pl.DataFrame({
        **{d: upload.coded[d].take(fine).strings() for d in keys},
        "__pos": fine, "__value": upload.value[fine], "__null": upload.value_null[fine],
        "__bad": upload.bad[fine],
    })
    summed = frame.group_by(keys, maintain_order=True).agg(
        pl.col("__pos").min(),
        pl.col("__value").filter(~pl.col("__null")).sum().alias("__value"),
        pl.col("__bad").any().alias("__bad"),
    )
    first = summed["__pos"].to_numpy()
    keep = np.sort(np.concatenate([np.flatnonzero(~nested), first]))
    out = upload.take(keep)
    where = np.searchsorted(keep, first)
    value, value_null, bad = out.value.copy(), out.value_null.copy(), out.bad.copy()
    value_empty = out.value_empty.copy()
    value[where] = summed["__value"].to_numpy()
    value_null[where] = False
    value_empty[where] = False
    bad[where] = summed["__bad"].to_numpy()
    return out.with_(value=value, value_null=value_null, value_empty=value_empty, bad=bad)
