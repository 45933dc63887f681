"""The columnar SDMX-ML writer writes exactly what the row-by-row writer does."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from lxml import etree

from standards.sdmx import data_ml
from standards.sdmx.catalogue import load_catalogue
from standards.sdmx.data_query import DataQuery, parse_data_query
from standards.sdmx.data_set import DataSet


def _rows(n_series: int, seed: int) -> list[tuple[object, ...]]:
    """Sorted rows of the quarterly flow: series of 1-4 quarters, a third suppressed (no
    value), attributes sometimes missing, a code that needs escaping."""
    rng = random.Random(seed)
    rows = []
    for s in range(n_series):
        area = rng.choice(["KAZ", "KGZ", "A&B<\"C>"])
        key = ("Q", area, "_Z", rng.choice(["REF", "ASY"]), "_T", "STOCK", f"C{s:05d}",
               rng.choice(["F", "M", "_T"]), "_T")
        for quarter in range(1, rng.randint(2, 5)):
            hidden = rng.random() < 0.33
            rows.append((*key, f"2026-Q{quarter}", None if hidden else rng.randint(0, 999),
                         rng.choice([None, "A", "E"]), None, "S" if hidden else "F"))
    return sorted(rows, key=lambda r: tuple(map(str, r[:10])))


@pytest.mark.parametrize(("n_series", "batch"), [(1, 5000), (7, 2), (300, 16), (300, 5000)])
def test_columnar_structure_specific_equals_row_by_row(monkeypatch: pytest.MonkeyPatch,
                                                       n_series: int, batch: int) -> None:
    monkeypatch.setattr(data_ml, "BATCH_ROWS", batch)
    query = parse_data_query(load_catalogue(), flow="DF_MIXED_MOVEMENTS_Q", key=None,
                             provider=None, params={})
    rows = _rows(n_series, seed=n_series)
    fast, slow = _both_writers(query, rows)
    # The same elements with the same attribute values (quoting may differ: " or ').
    assert _elements(fast) == _elements(slow)
    assert fast.count("<Series") == len({r[:9] for r in rows})
    observations = [e for e in _elements(fast) if e[0] == "Obs"]
    assert len(observations) == len(rows)
    assert {a["REF_AREA"] for t, a in _elements(fast) if t == "Series"} == {r[1] for r in rows}


@pytest.mark.parametrize(("n_series", "batch"), [(1, 5000), (300, 16)])
def test_columnar_series_keys_equal_row_by_row(monkeypatch: pytest.MonkeyPatch,
                                               n_series: int, batch: int) -> None:
    monkeypatch.setattr(data_ml, "BATCH_ROWS", batch)
    query = parse_data_query(load_catalogue(), flow="DF_MIXED_MOVEMENTS_Q", key=None,
                             provider=None, params={"detail": "serieskeysonly"})
    # What the database gives for keys only: each series once, nothing but its key.
    rows = sorted({(*r[:9], None, None, None, None, None) for r in _rows(n_series, n_series)},
                  key=lambda r: tuple(map(str, r[:9])))
    fast, slow = _both_writers(query, rows)
    assert _elements(fast) == _elements(slow)
    assert fast.count("<Series") == len(rows) and "<Obs" not in fast


def _both_writers(query: DataQuery, rows: list[tuple[object, ...]]) -> tuple[str, str]:
    """The message from the columnar writer, and the row-by-row writer's body after its head."""
    fast = "".join(data_ml.structure_specific(DataSet(query, iter(rows)), message_id="M",
                                              prepared=datetime(2026, 11, 27, tzinfo=UTC)))
    head = fast[:fast.index("<Series")]
    return fast, "".join(data_ml._ss_body(DataSet(query, iter(rows)), head=head))


def _elements(xml: str) -> list[tuple[str, dict[str, str]]]:
    """Series and observations in order, an observation with its series' key."""
    root = etree.fromstring(xml.encode())
    return [(etree.QName(e).localname,
             {**dict(e.getparent().attrib), **dict(e.attrib)} if e.tag == "Obs" else dict(e.attrib))
            for e in root.iter() if etree.QName(e).localname in ("Series", "Obs")]
