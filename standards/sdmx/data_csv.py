"""Data as CSV: SDMX-CSV 2.0 for SDMX tools, and a plain table with labels for people.

SDMX-CSV 2.0 (``STRUCTURE,STRUCTURE_ID,ACTION,<dimensions>,OBS_VALUE,<attributes>``, with
``STRUCTURE_ID`` written ``AGENCY:ID(VERSION)``) carries codes only. The plain table puts the
label of every code, in the caller's language, in a column beside it, headed by the component's
name. A suppressed cell has an empty OBS_VALUE and its CONF_STATUS.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

from standards.sdmx.catalogue import Component, label
from standards.sdmx.data_set import DataSet, Row, chunked

ROWS_PER_CHUNK = 2000


def columns(ds: DataSet) -> tuple[list[int], list[str]]:
    """Row positions and ids of the columns written: every dimension (only the series
    dimensions for keys-only answers), then OBS_VALUE and the attributes the detail carries."""
    lay = ds.layout
    if not ds.detail.observations and not lay.flat:
        positions = list(lay.series)
    else:
        positions = list(range(len(lay.dimensions)))
    if ds.detail.observations:
        positions.append(lay.value)
    if ds.detail.attributes:
        positions.extend(lay.attributes)
    ids = [*lay.dimensions, ds.structure.measure.id, *lay.attribute_ids]
    return positions, [ids[p] for p in positions]


def _write(header: list[str], rows: Iterator[list[object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow(row)
        if n % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def sdmx_csv(ds: DataSet) -> Iterator[str]:
    positions, ids = columns(ds)
    prefix = ["dataflow", ds.flow.urn, "I"]

    def rows() -> Iterator[list[object]]:
        for row in distinct(ds, positions):
            yield [*prefix, *("" if row[p] is None else row[p] for p in positions)]

    return chunked(_write(["STRUCTURE", "STRUCTURE_ID", "ACTION", *ids], rows()))


def distinct(ds: DataSet, positions: list[int]) -> Iterator[Row]:
    """The rows; for keys-only answers, each series once."""
    if ds.detail.observations:
        yield from ds.rows
        return
    previous: tuple[object, ...] | None = None
    for row in ds.rows:
        key = tuple(row[p] for p in positions)
        if key != previous:
            previous = key
            yield row


def labeller(component: Component, lang: str) -> Callable[[object], str] | None:
    """code -> its label in ``lang`` (the code itself when the list lacks it); None for
    components without a code list."""
    codelist = component.codelist
    if codelist is None:
        return None
    cache: dict[object, str] = {}

    def name(code: object) -> str:
        if code is None:
            return ""
        found = cache.get(code)
        if found is None:
            c = codelist.by_id.get(str(code))
            found = cache[code] = c.label(lang) if c is not None else str(code)
        return found

    return name


def plain_csv(ds: DataSet) -> Iterator[str]:
    """Codes and their labels, without SDMX's own columns."""
    positions, ids = columns(ds)
    components = {c.id: c for c in ds.structure.components}
    lang = ds.language
    header: list[str] = []
    plan: list[tuple[int, Callable[[object], str] | None]] = []
    for position, cid in zip(positions, ids, strict=True):
        header.append(cid)
        plan.append((position, None))
        name = labeller(components[cid], lang)
        if name is not None:
            header.append(label(components[cid].name, lang))
            plan.append((position, name))

    def rows() -> Iterator[list[object]]:
        for row in distinct(ds, positions):
            yield [("" if row[p] is None else row[p]) if f is None else f(row[p])
                   for p, f in plan]

    return chunked(_write(header, rows()))
