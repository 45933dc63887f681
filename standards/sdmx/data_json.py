"""Data as JSON: SDMX-JSON 2.0 data messages, and a plain list of labelled observations.

SDMX-JSON refers to dimension and attribute values by their index in the message's structure,
which lists only the values that occur. The data set is streamed first and the structure is
written after it, with the values met on the way (members of a JSON object have no order, and
the official schema does not ask for one). A suppressed cell's value is ``null``; its
CONF_STATUS is given like any attribute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from standards.sdmx import ml
from standards.sdmx.catalogue import LANGUAGES, Component, label
from standards.sdmx.data_csv import columns, distinct, labeller
from standards.sdmx.data_set import DataSet, Row, chunked

SCHEMA = ("https://raw.githubusercontent.com/sdmx-twg/sdmx-json/v2.0.0/data-message/tools/"
          "schemas/2.0.0/sdmx-json-data-schema.json")
_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _Values:
    """The values of one component in order of first appearance: value -> index."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}

    def __call__(self, value: Any) -> int | None:
        if value is None:
            return None
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.index)
        return found


def _names(values: dict[str, str] | Any, lang: str) -> dict[str, Any]:
    return {"name": label(values, lang),
            "names": {k: v for k, v in values.items() if k in LANGUAGES and v}}


def _component(component: Component, seen: _Values, lang: str, position: int | None = None
               ) -> dict[str, Any]:
    out: dict[str, Any] = {"id": component.id, **_names(component.name, lang)}
    if position is not None:
        out["keyPosition"] = position
    if component.codelist is not None:
        codes = component.codelist.by_id
        values = [{"id": v, **_names(codes[v].name, lang)} if v in codes else
                  {"id": v, "name": v} for v in seen.index]
    else:
        values = [{"id": str(v), "name": str(v)} for v in seen.index]
    if values:
        out["values"] = values
    return out


def sdmx_json(ds: DataSet, *, message_id: str, prepared: datetime | None = None
              ) -> Iterator[str]:
    return chunked(_sdmx_json(ds, message_id, prepared))


def _sdmx_json(ds: DataSet, message_id: str, prepared: datetime | None) -> Iterator[str]:
    lang = ds.language
    lay = ds.layout
    structure = ds.structure
    dims = structure.dimensions
    seen = [_Values() for _ in dims]
    attr_seen = [_Values() for _ in structure.attributes]
    with_obs = ds.detail.observations
    attrs = lay.attributes if ds.detail.attributes else ()

    meta = {"schema": SCHEMA, "id": message_id, "test": False, "prepared": ml.prepared(prepared),
            "contentLanguages": [lang], "sender": {"id": ds.flow.agency}}
    data_set: dict[str, Any] = {"structure": 0, "action": "Information"}
    if ds.valid_from:
        data_set["validFrom"] = ml.prepared(ds.valid_from)
    yield '{"meta":' + _dump(meta) + ',"data":{"dataSets":[' + _dump(data_set)[:-1]

    def key(row: Row, positions: tuple[int, ...]) -> str:
        return ":".join(str(seen[p](row[p])) for p in positions)

    def observation(row: Row) -> str:
        values = [row[lay.value]] if with_obs else []
        values.extend(attr_seen[n](row[p]) for n, p in enumerate(attrs))
        return _dump(values)

    if lay.flat:
        yield ',"observations":{'
        first = True
        for row in ds.rows:
            yield ("" if first else ",") + f'"{key(row, lay.observation)}":{observation(row)}'
            first = False
        yield "}"
    else:
        yield ',"series":{'
        first = True
        for series_key, rows in lay.series_runs(ds.rows):
            indexes = ":".join(str(seen[p](v)) for p, v in zip(lay.series, series_key,
                                                                  strict=True))
            if with_obs:
                obs = ",".join(f'"{key(r, lay.observation)}":{observation(r)}' for r in rows)
                body = f'{{"attributes":[],"observations":{{{obs}}}}}'
            else:
                body = "{}"
            yield ("" if first else ",") + f'"{indexes}":{body}'
            first = False
        yield "}"
    yield "}],"

    flow = ds.flow
    urn = f"urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow={flow.urn}"
    described = {
        "links": [{"rel": "dataflow", "urn": urn},
                  {"rel": "datastructure",
                   "urn": f"urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure="
                          f"{structure.urn}"}],
        **_names(flow.name, lang),
        "dimensions": {
            "dataSet": [],
            "series": [_component(dims[p], seen[p], lang, p) for p in lay.series],
            "observation": [_component(dims[p], seen[p], lang, p) for p in lay.observation]},
        "measures": {"observation": [
            {"id": structure.measure.id, **_names(structure.measure.name, lang)}]
            if with_obs else []},
        "attributes": {"dataSet": [], "series": [], "observation": [
            _component(structure.attributes[n], attr_seen[n], lang)
            for n in range(len(attrs))]},
        "dataSets": [0]}
    yield '"structures":[' + _dump(described) + "]}}"


def plain_json(ds: DataSet) -> Iterator[str]:
    """``{"dataflow": …, "language": …, "observations": [{"REF_AREA": "KAZ",
    "REF_AREA_LABEL": "Kazakhstan", …, "OBS_VALUE": 12, "CONF_STATUS": "F"}, …]}``."""
    return chunked(_plain_json(ds))


def _plain_json(ds: DataSet) -> Iterator[str]:
    positions, ids = columns(ds)
    components = {c.id: c for c in ds.structure.components}
    lang = ds.language
    plan = [(p, cid, labeller(components[cid], lang)) for p, cid in zip(positions, ids,
                                                                      strict=True)]
    flow = ds.flow
    head = {"dataflow": {"agency": flow.agency, "id": flow.id, "version": flow.version,
                         "name": label(flow.name, lang)}, "language": lang}
    yield _dump(head)[:-1] + ',"observations":['
    first = True
    for row in distinct(ds, positions):
        record: dict[str, Any] = {}
        for p, cid, name in plan:
            record[cid] = row[p]
            if name is not None:
                record[f"{cid}_LABEL"] = name(row[p]) if row[p] is not None else None
        yield ("" if first else ",") + _dump(record)
        first = False
    yield "]}"
