"""SDMX-ML 2.1 data messages, structure-specific and generic, written as streamed text.

Clients are strict (sdmx1, pysdmx with XSD validation): the XML declaration first, a prefixed
root, the header in schema order with ``structureID`` and a reference carrying agency, id and
version (``standards.sdmx.ml`` writes it). A suppressed cell is an observation without
OBS_VALUE, with its CONF_STATUS: the value is absent, never empty or zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache

import polars as pl

from standards.sdmx import ml
from standards.sdmx.data_set import DataSet, Row, chunked

# Attribute values quoted once: codes and periods repeat in every series, and escaping each
# occurrence was half the time of writing a state-quarter (12,600 observations).
_quoted = lru_cache(maxsize=1 << 16)(ml.attr)


def _structure(ds: DataSet, *, namespace: str | None = None) -> str:
    f = ds.flow
    ns = f" namespace={ml.attr(namespace)}" if namespace else ""
    return (f"<mes:Structure structureID={ml.attr(ds.structure_id)}{ns} "
            f"dimensionAtObservation={ml.attr(ds.layout.at_observation)}>"
            f"<com:StructureUsage><Ref agencyID={ml.attr(f.agency)} id={ml.attr(f.id)} "
            f"version={ml.attr(f.version)}/></com:StructureUsage></mes:Structure>")


def _valid_from(ds: DataSet) -> str:
    return f" validFromDate={ml.attr(ml.prepared(ds.valid_from))}" if ds.valid_from else ""


def structure_specific(ds: DataSet, *, message_id: str, prepared: datetime | None = None
                       ) -> Iterator[str]:
    """``mes:StructureSpecificData``: series as ``<Series DIM="…">``, observations as
    ``<Obs TIME_PERIOD="…" OBS_VALUE="…" CONF_STATUS="…"/>``."""
    f = ds.flow
    namespace = (f"urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow={f.agency}:{f.id}"
                 f"({f.version}):ObsLevelDim:{ds.layout.at_observation}")
    head = (ml.DECLARATION + f"<mes:StructureSpecificData {ml.xmlns('mes', 'ss', 'com', 'xsi')}"
            f" xmlns:ns1={ml.attr(namespace)}>"
            + ml.header(message_id, sender=f.agency, now=prepared,
                        structure=_structure(ds, namespace=namespace))
            + f'<mes:DataSet ss:dataScope="DataStructure" xsi:type="ns1:DataSetType" '
            f'ss:structureRef={ml.attr(ds.structure_id)} action="Information"'
            f'{_valid_from(ds)}>')
    if ds.layout.flat:
        return chunked(_ss_body(ds, head))
    if not ds.detail.observations:
        return _ss_keys_body(ds, head)
    return _ss_series_body(ds, head)


def _pairs(ids: tuple[str, ...], row: Row, positions: tuple[int, ...]) -> str:
    return "".join(f" {name}={_quoted(row[i])}" for name, i in zip(ids, positions, strict=True)
                   if row[i] is not None)


def _ss_body(ds: DataSet, head: str) -> Iterator[str]:
    yield head
    lay = ds.layout
    dims = lay.dimensions
    series_ids = tuple(dims[i] for i in lay.series)
    obs_ids = tuple(dims[i] for i in lay.observation)
    attr_ids = lay.attribute_ids if ds.detail.attributes else ()
    attr_pos = lay.attributes if ds.detail.attributes else ()
    with_obs = ds.detail.observations

    def obs(row: Row) -> str:
        value = row[lay.value]
        v = f' OBS_VALUE="{value}"' if value is not None else ""
        return f"<Obs{_pairs(obs_ids, row, lay.observation)}{v}" \
               f"{_pairs(attr_ids, row, attr_pos)}/>"

    if lay.flat:
        for row in ds.rows:
            yield obs(row) if with_obs else f"<Obs{_pairs(obs_ids, row, lay.observation)}/>"
    else:
        for key, rows in lay.series_runs(ds.rows):
            opening = "<Series" + "".join(f" {n}={_quoted(v)}" for n, v in
                                          zip(series_ids, key, strict=True))
            if not with_obs:
                yield opening + "/>"
                continue
            yield opening + ">" + "".join(obs(r) for r in rows) + "</Series>"
    yield "</mes:DataSet></mes:StructureSpecificData>"


# Rows written together by the columnar writer.
BATCH_ROWS = 5000
_XML_SPECIAL = (["&", "<", ">", '"'], ["&amp;", "&lt;", "&gt;", "&quot;"])


def _piece(name: str, escape: bool) -> pl.Expr:
    """`` NAME="value"`` (escaped if ``escape``), or nothing when the value is null."""
    column = pl.col(name).str.replace_many(*_XML_SPECIAL) if escape else pl.col(name)
    return pl.when(column.is_not_null()).then(
        pl.concat_str([pl.lit(f' {name}="'), column, pl.lit('"')])).otherwise(pl.lit(""))


def _ss_series_body(ds: DataSet, head: str) -> Iterator[str]:
    """The series body written a batch of rows at a time as columns (polars): the same text as
    ``_ss_body`` (a test holds them equal) at a fraction of the time, since a state-quarter is
    12,600 one-observation series."""
    yield head
    lay = ds.layout
    ids = [c.id for c in ds.structure.components]
    series = [ids[i] for i in lay.series]
    attributes = [ids[i] for i in lay.attributes] if ds.detail.attributes else []

    def pieces(escape: bool) -> tuple[pl.Expr, pl.Expr]:
        opening = pl.concat_str([pl.lit("<Series"), *(_piece(c, escape) for c in series),
                                 pl.lit(">")])
        obs = pl.concat_str([pl.lit("<Obs"), _piece(ids[lay.observation[0]], escape),
                             _piece(ids[lay.value], escape),
                             *(_piece(c, escape) for c in attributes), pl.lit("/>")])
        return opening, obs

    # Codes never hold XML's special characters, so escaping is skipped unless a batch has one.
    plain, escaped = pieces(False), pieces(True)
    special = pl.any_horizontal(pl.all().str.contains(r'[&<>"]')).any()
    previous: dict[str, str | None] | None = None
    for frame in ds.frames(BATCH_ROWS):
        changed = pl.any_horizontal([
            pl.col(c).ne_missing(pl.col(c).shift(1, fill_value=(previous or {}).get(c)))
            for c in series])
        if previous is None:  # the message's first row opens the first series
            start = pl.int_range(pl.len()).eq(0)
            new = start | changed
            close = pl.when(start).then(pl.lit("")).otherwise(pl.lit("</Series>"))
        else:
            new, close = changed, pl.lit("</Series>")
        opening, obs = escaped if frame.select(special).item() else plain
        lines = frame.select(pl.when(new).then(pl.concat_str([close, opening, obs]))
                             .otherwise(obs).str.join("")).item()
        yield lines
        last = frame.row(-1, named=True)
        previous = {c: last[c] for c in series}
    yield ("</Series>" if previous is not None else "") \
        + "</mes:DataSet></mes:StructureSpecificData>"


def _ss_keys_body(ds: DataSet, head: str) -> Iterator[str]:
    """The series keys only (``detail=serieskeysonly``, one row per series), as columns."""
    yield head
    ids = [c.id for c in ds.structure.components]
    series = [ids[i] for i in ds.layout.series]

    def opening(escape: bool) -> pl.Expr:
        return pl.concat_str([pl.lit("<Series"), *(_piece(c, escape) for c in series),
                              pl.lit("/>")]).str.join("")

    special = pl.any_horizontal(pl.col(series).str.contains(r'[&<>"]')).any()
    for frame in ds.frames(BATCH_ROWS):
        escape = frame.select(special).item()
        yield frame.select(opening(escape)).item()
    yield "</mes:DataSet></mes:StructureSpecificData>"


def generic(ds: DataSet, *, message_id: str, prepared: datetime | None = None
            ) -> Iterator[str]:
    """``mes:GenericData``: ``gen:Series`` with a ``gen:SeriesKey``, observations with
    ``gen:ObsDimension``, ``gen:ObsValue`` (left out when suppressed) and ``gen:Attributes``."""
    f = ds.flow
    head = (ml.DECLARATION + f"<mes:GenericData {ml.xmlns('mes', 'gen', 'com')}>"
            + ml.header(message_id, sender=f.agency, now=prepared, structure=_structure(ds))
            + f"<mes:DataSet structureRef={ml.attr(ds.structure_id)} action=\"Information\""
            f"{_valid_from(ds)}>")
    return chunked(_generic_body(ds, head))


def _values(element: str, ids: tuple[str, ...], row: Row, positions: tuple[int, ...]) -> str:
    inner = "".join(f"<gen:Value id={_quoted(n)} value={_quoted(row[i])}/>"
                    for n, i in zip(ids, positions, strict=True) if row[i] is not None)
    return f"<gen:{element}>{inner}</gen:{element}>" if inner else ""


def _generic_body(ds: DataSet, head: str) -> Iterator[str]:
    yield head
    lay = ds.layout
    dims = lay.dimensions
    series_ids = tuple(dims[i] for i in lay.series)
    obs_ids = tuple(dims[i] for i in lay.observation)
    attr_ids = lay.attribute_ids if ds.detail.attributes else ()
    attr_pos = lay.attributes if ds.detail.attributes else ()
    with_obs = ds.detail.observations

    def obs(row: Row) -> str:
        if lay.flat:
            where = _values("ObsKey", obs_ids, row, lay.observation)
        else:
            where = f"<gen:ObsDimension value={_quoted(row[lay.observation[0]])}/>"
        value = row[lay.value]
        v = f'<gen:ObsValue value="{value}"/>' if with_obs and value is not None else ""
        return f"<gen:Obs>{where}{v}{_values('Attributes', attr_ids, row, attr_pos)}</gen:Obs>"

    if lay.flat:
        for row in ds.rows:
            yield obs(row)
    else:
        for key, rows in lay.series_runs(ds.rows):
            series_key = "".join(f"<gen:Value id={_quoted(n)} value={_quoted(v)}/>"
                                 for n, v in zip(series_ids, key, strict=True))
            body = "".join(obs(r) for r in rows) if with_obs else ""
            yield f"<gen:Series><gen:SeriesKey>{series_key}</gen:SeriesKey>{body}</gen:Series>"
    yield "</mes:DataSet></mes:GenericData>"
