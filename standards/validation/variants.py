"""A file brought to the current standard's shape before the rules run: codes of older versions
lifted step by step, national variants mapped (aliases, nested age bands), and the columns a
file may leave out filled by the DSD's documented defaults. Decided on the distinct values of
each column wherever possible; only moves between columns touch rows."""

from __future__ import annotations

import numpy as np
import polars as pl

from standards.mappings import MappingLog, Mappings, Move, load_mappings, value_map
from standards.model import Standard
from standards.validation.columns import EMPTY, Coded, Upload
from standards.validation.report import Report


def map_variants(upload: Upload, report: Report, standard: Standard, mappings: Mappings | None,
                 version: str) -> Upload:
    """Lift, map and fill (see the module docstring). Rows that come to share a key (nested
    national age bands, 1.0.0 repatriation rows) are summed. Unmapped values stay for the
    code-list rule. The report's notes say what was mapped and filled."""
    mappings = mappings or load_mappings()
    log = MappingLog()
    merged = np.zeros(upload.height, dtype=bool)
    for step in mappings.chain(version):
        upload, moved = _moves(upload, step.moves, standard, log, f"version {step.source}")
        merged |= moved
        coded = dict(upload.coded)
        for column, renames in step.renames.items():
            if column in coded:
                coded[column] = _rename(coded[column], renames, column, log,
                                        f"version {step.source}")
        upload = upload.with_(coded=coded)
    coded = dict(upload.coded)
    for dim, column in upload.coded.items():
        plan = value_map(column.entries.to_list(), dim, standard, mappings)
        if not plan:
            continue
        entries = column.entries.to_list()
        counts = column.counts()
        for i, value in enumerate(entries):
            if value in plan and counts[i]:
                log.add(plan[value][1], dim, value, plan[value][0], int(counts[i]))
        if dim == "AGE":
            nested = np.array([plan.get(v, ("", ""))[1] == "nested band" for v in entries],
                              dtype=bool)
            if nested.any():
                merged |= column.where(nested)
        coded[dim] = _merge(column, [plan[v][0] if v in plan else v for v in entries])
    upload = upload.with_(coded=coded)
    if merged.any():
        upload = _sum_merged(upload, merged, standard)
    report.notes.extend(log.notes())
    return fill_defaults(upload, report, standard)


def fill_defaults(upload: Upload, report: Report, standard: Standard) -> Upload:
    """Columns a file left out, filled as the DSD says: a constant code, or a code read from
    another column's value (FREQ from the period's form; COUNTERPART_AREA and UNIT_MEASURE from
    the measure). Decided per distinct value of the source column."""
    coded = dict(upload.coded)
    filled = []
    for item in (*standard.dimensions, *standard.attributes):
        if item.default is None or item.id in coded:
            continue
        if item.default.default is not None:
            coded[item.id] = Coded(entries=pl.Series([item.default.default], dtype=pl.String),
                                   ids=np.zeros(upload.height, dtype=np.int32))
            filled.append(f"{item.id}={item.default.default}")
            continue
        source = coded.get(item.default.source or "")
        if source is None:
            continue
        targets = [_derived(item.id, value, standard) for value in source.entries.to_list()]
        coded[item.id] = _merge(source, targets)
        filled.append(f"{item.id} from {item.default.source}")
    if filled:
        report.notes.append(f"Columns not in the file were filled by the standard's defaults: "
                            f"{', '.join(filled)}.")
        order = [c for c in standard.upload_columns if c in coded]
        upload = upload.with_(coded={c: coded[c] for c in order})
    return upload


def _derived(column: str, value: str, standard: Standard) -> str:
    """The default of ``column`` for a row whose source column holds ``value``."""
    if column == "FREQ":
        for code in standard.codelists["CL_FREQ"].codes:
            pattern = str(code.properties.get("period_pattern") or "")
            if pattern and pl.Series([value]).str.contains(pattern).item():
                return code.id
        return standard.codelists["CL_FREQ"].ids[0]
    measure = standard.codelists["CL_MEASURE"].by_id.get(value)
    if column == "COUNTERPART_AREA":
        if measure is None or measure.properties.get("counterpart", "none") == "none":
            return "_Z"
        return "_U"
    if column == "UNIT_MEASURE":
        units = (measure.properties.get("units") if measure is not None else None) or ["PER"]
        return str(next(iter(units)))  # type: ignore[call-overload]
    raise ValueError(f"no derived default for {column}")


def _moves(upload: Upload, moves: tuple[Move, ...], standard: Standard, log: MappingLog,
           kind: str) -> tuple[Upload, np.ndarray]:
    """Rows matching a move get its values; a column a move sets that the file lacks is first
    filled with its default. Returns the upload and the rows moved."""
    moved = np.zeros(upload.height, dtype=bool)
    if not moves:
        return upload, moved
    coded = dict(upload.coded)
    for move in moves:
        if any(c not in coded for c in move.when):
            continue
        rows = np.ones(upload.height, dtype=bool)
        for column, value in move.when.items():
            rows &= coded[column].where((coded[column].entries == value).to_numpy())
        if not rows.any():
            continue
        for column, value in move.set.items():
            if column not in coded:
                dim = standard.dimension[column]
                fill = dim.default.default if dim.default and dim.default.default else "_T"
                coded[column] = Coded(entries=pl.Series([fill], dtype=pl.String),
                                      ids=np.zeros(upload.height, dtype=np.int32))
            coded[column] = _set(coded[column], rows, value)
        source = ", ".join(f"{c}={v}" for c, v in move.when.items())
        target = ", ".join(f"{c}={v}" for c, v in move.set.items())
        log.add(kind, "row", source, target, int(rows.sum()))
        moved |= rows
    return upload.with_(coded=coded), moved


def _set(column: Coded, rows: np.ndarray, value: str) -> Coded:
    entries = column.entries.to_list()
    if value not in entries:
        entries.append(value)
    ids = column.ids.copy()
    ids[rows] = entries.index(value)
    return Coded(entries=pl.Series(entries, dtype=pl.String), ids=ids)


def _rename(column: Coded, renames: dict[str, str], name: str, log: MappingLog,
            kind: str) -> Coded:
    entries = column.entries.to_list()
    if not any(v in renames for v in entries):
        return column
    counts = column.counts()
    for i, value in enumerate(entries):
        if value in renames and counts[i]:
            log.add(kind, name, value, renames[value], int(counts[i]))
    return _merge(column, [renames.get(v, v) for v in entries])


def _merge(column: Coded, mapped: list[str]) -> Coded:
    """The column over the dictionary of its mapped values (two variants of one code merge)."""
    distinct = list(dict.fromkeys(mapped))
    position = {v: i for i, v in enumerate(distinct)}
    return column.remap(pl.Series(distinct, dtype=pl.String),
                        np.array([position[v] for v in mapped], dtype=np.int32))


def _sum_merged(upload: Upload, merged: np.ndarray, standard: Standard) -> Upload:
    """Rows that were mapped onto a shared key (finer national age bands, moved rows) are
    summed per key (first row kept, the sum is bad if any part is). Rare, so done by a
    group-by on the few rows concerned."""
    keys = [d for d in standard.dimension_ids if d in upload.coded]
    fine = np.flatnonzero(merged)
    frame = pl.DataFrame({
        **{d: upload.coded[d].take(fine).strings() for d in keys},
        "__pos": fine, "__value": upload.value[fine], "__null": upload.value_null[fine],
        "__bad": upload.bad[fine],
    })
    summed = frame.group_by(keys, maintain_order=True).agg(
        pl.col("__pos").min(),
        pl.col("__value").filter(~pl.col("__null")).sum().alias("__value"),
        pl.col("__null").all().alias("__null"),
        pl.col("__bad").any().alias("__bad"),
    )
    if summed.height == fine.size:
        return upload  # nothing came to share a key
    first = summed["__pos"].to_numpy()
    keep = np.sort(np.concatenate([np.flatnonzero(~merged), first]))
    out = upload.take(keep)
    where = np.searchsorted(keep, first)
    value, value_null, bad = out.value.copy(), out.value_null.copy(), out.bad.copy()
    value_empty = out.value_empty.copy()
    value[where] = summed["__value"].to_numpy()
    value_null[where] = summed["__null"].to_numpy()
    value_empty[where] = summed["__null"].to_numpy()
    bad[where] = summed["__bad"].to_numpy()
    return out.with_(value=value, value_null=value_null, value_empty=value_empty, bad=bad)


__all__ = ["EMPTY", "fill_defaults", "map_variants"]
