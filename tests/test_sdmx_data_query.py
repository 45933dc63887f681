"""The SDMX data query parser and period arithmetic: pure, no server."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.sdmx.cache import MemoryCache, RedisCache, TieredCache, cache_for
from standards.sdmx import periods
from standards.sdmx.catalogue import load_catalogue
from standards.sdmx.data_query import (
    ALL_DIMENSIONS,
    Detail,
    QueryError,
    parse_data_query,
    parse_flow_ref,
    parse_key,
)

CATALOGUE = load_catalogue()
KEY_DIMS = [d.id for d in CATALOGUE.dataflows["DF_MIXED_MOVEMENTS_Q"].structure.key_dimensions]
CODE = st.from_regex(r"[A-Z_][A-Z0-9_]{0,5}", fullmatch=True)


def query(key: str | None = None, flow: str = "DF_MIXED_MOVEMENTS_Q", **params: str):
    return parse_data_query(CATALOGUE, flow=flow, key=key, params=params)


def status(**kwargs) -> int:
    with pytest.raises(QueryError) as raised:
        query(**kwargs)
    return raised.value.status


@given(st.lists(st.one_of(st.just(""), st.just("*"), st.lists(CODE, min_size=1, max_size=3)
                          .map("+".join)), min_size=1, max_size=len(KEY_DIMS)))
def test_a_key_names_the_codes_of_each_dimension_in_order(parts: list[str]) -> None:
    parsed = parse_key(".".join(parts), KEY_DIMS)
    expected = {d: frozenset(p.split("+")) for d, p in zip(KEY_DIMS, parts, strict=False)
                if p not in ("", "*")}
    assert parsed == expected


def test_keys_longer_than_the_structure_or_with_bad_codes_are_malformed() -> None:
    assert status(key="." * len(KEY_DIMS)) == 400
    assert status(key="Q.K Z") == 400
    assert status(key="Q.KAZ+") == 400


def test_the_flow_constraint_and_unknown_codes_find_nothing() -> None:
    assert query("Q.KAZ").filters["FREQ"] == {"Q"}
    assert query().filters["FREQ"] == {"Q"}  # the quarterly flow holds quarters only
    assert status(key="W") == 404
    assert status(key="Q.NOWHERE") == 404


def test_flow_references() -> None:
    assert parse_flow_ref("DF_X") == parse_flow_ref("all,DF_X,latest")
    ref = parse_flow_ref("MMX,DF_X,2.0.0")
    assert (ref.agency, ref.id, ref.version) == ("MMX", "DF_X", "2.0.0")
    assert query(flow="MMX,DF_MIXED_MOVEMENTS_Q,~").flow.id == "DF_MIXED_MOVEMENTS_Q"
    assert status(flow="MMX,DF_MIXED_MOVEMENTS_Q,1.0.0") == 404
    assert status(flow="A,B,C,D") == 400


@pytest.mark.parametrize(("bound", "selected", "not_selected"), [
    ("2020", ["2020-Q1", "2020-Q4", "2020-W01", "2020-W53"], ["2019-Q4", "2021-Q1",
                                                               "2019-W52", "2021-W01"]),
    # A week belongs where its Thursday is: W14 (30 March - 5 April) to the second quarter.
    ("2020-Q2", ["2020-Q2", "2020-W14", "2020-W26"], ["2020-Q1", "2020-Q3", "2020-W13"]),
    ("2020-S2", ["2020-Q3", "2020-Q4"], ["2020-Q2"]),
    ("2020-M06", ["2020-W23", "2020-W26"], ["2020-Q2", "2020-W22", "2020-W27"]),
])
def test_periods_compare_as_periods(bound: str, selected: list[str],
                                    not_selected: list[str]) -> None:
    span = periods.PeriodRange(start=periods.parse(bound), end=periods.parse(bound))
    assert [p for p in selected if not span.contains(p)] == []
    assert [p for p in not_selected if span.contains(p)] == []


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
       st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
       st.sampled_from(["Q", "W", "M", "A"]))
def test_sql_bounds_select_exactly_the_periods_in_range(a: date, b: date, freq: str) -> None:
    start, end = sorted((a, b))
    span = periods.PeriodRange(start=periods.parse(start.isoformat()),
                               end=periods.parse(end.isoformat()))
    lo, hi = span.bounds(freq)
    assert lo is not None and hi is not None
    for day in (start, end):
        for label in {periods.label(freq, day)}:
            # The text comparison the database makes agrees with the period comparison.
            assert (lo <= label <= hi) == span.contains(label), (label, lo, hi)


def test_the_other_parameters() -> None:
    q = query(startPeriod="2026", detail="serieskeysonly",
              dimensionAtObservation="AllDimensions", lastNObservations="2",
              updatedAfter="2026-01-01T00:00:00 01:00")  # an unencoded '+' arrives as a space
    assert q.detail == Detail.SERIES_KEYS_ONLY and q.series_dimensions() == ()
    assert q.dimension_at_observation == ALL_DIMENSIONS and q.last_n == 2
    assert q.updated_after == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert status(startPeriod="2026-Q5") == 400
    assert status(detail="some") == 400
    assert status(firstNObservations="0") == 400
    assert status(updatedAfter="2026-02-01", asOf="2026-01-01") == 400
    assert status(includeHistory="true") == 501
    assert status(sort="TIME_PERIOD") == 501


def test_the_memory_cache_keeps_recent_answers_within_its_size() -> None:
    cache = MemoryCache(max_bytes=10)
    cache.put("a", b"12345")
    cache.put("b", b"12345")
    assert cache.get("a") == b"12345"  # now the most recent
    cache.put("c", b"123")
    assert cache.get("b") is None and cache.get("a") == b"12345" and cache.get("c") == b"123"
    cache.put("big", b"x" * 11)
    assert cache.get("big") is None


def test_the_redis_cache_is_shared_and_a_missing_redis_is_no_error(redis_server) -> None:
    first, second = cache_for(redis_server.url), cache_for(redis_server.url)
    assert isinstance(first, TieredCache) and isinstance(first.far, RedisCache)
    first.put("answer", b"<data/>")
    assert second.near.get("answer") is None  # another process's memory
    assert second.get("answer") == b"<data/>"  # found in Redis ...
    assert second.near.get("answer") == b"<data/>"  # ... and kept near for the next time
    away = RedisCache("redis://127.0.0.1:1/0")
    away.put("answer", b"x")
    assert away.get("answer") is None
