"""Indicators end to end on the embedded shape (inline processing): three states send the
stock of refugees and asylum-seekers and the asylum decisions of a quarter, their National
Coordinators sign off (KAZ consents to national tables), the admin asks for a release; the
``indicators`` stage computes the indicators from the release's protected cells; anyone reads
them with their definitions; a value with a suppressed input is withheld and names it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from tests.api.conftest import indicator_table
from tests.conftest import PERIOD

STATES = ("KAZ", "KGZ", "TJK")
VALUES = "/api/v1/indicators/values"


def _sign_off(client, account, period: str, seed: int) -> None:
    for n, state in enumerate(STATES):
        agency = account("submitter", state)
        created = client.post("/api/v1/submissions", headers=agency.headers,
                              data={"ref_area": state, "period": period},
                              files={"file": ("t.csv", indicator_table(state, period,
                                                                       seed=seed + n),
                                              "text/csv")})
        assert created.status_code == 202, created.text
        coordinator = account("coordinator", state)
        assert client.post(f"/api/v1/datasets/{state}/{period}/signoff",
                           headers=coordinator.headers, json={}).status_code == 200
        if state == "KAZ":
            assert client.put(f"/api/v1/states/{state}/consent", headers=coordinator.headers,
                              json={"publication_consent": "national"}).status_code == 200


def _release(client, admin, period: str = PERIOD, **body) -> dict:
    created = client.post("/api/v1/releases", headers=admin.headers,
                          json={"period": period, **body})
    assert created.status_code == 202, created.text
    return client.get(f"/api/v1/releases/{created.json()['id']}", headers=admin.headers).json()


@pytest.fixture
def released(client, account) -> dict:
    _sign_off(client, account, PERIOD, seed=300)
    admin = account("admin")
    release = _release(client, admin)
    assert release["status"] == "published", release
    cells = pl.DataFrame(client.get(f"/api/v1/releases/{release['id']}/cells").json())
    return {"admin": admin, "release": release, "cells": cells}


def _cell(cells: pl.DataFrame, area: str, **dims: str) -> dict:
    key = {"COUNTERPART_AREA": "_Z", "SPEC_NEED": "_T", "SEX": "_T", "AGE": "_T", **dims}
    found = cells.filter(pl.col("AREA") == area, *(pl.col(k) == v for k, v in key.items()))
    assert found.height == 1, (area, dims)
    return found.row(0, named=True)


def _key(cell: dict) -> str:
    return (".".join(cell[d] for d in ("FREQ", "AREA", "COUNTERPART_AREA", "POP_GROUP",
                                       "SPEC_NEED", "MEASURE", "CITIZENSHIP", "SEX", "AGE"))
            + f"@{cell['TIME_PERIOD']}")


def _ratio_matches(row: dict, top: dict, bottom: dict) -> None:
    """A ratio is published exactly when both inputs are, and is then their ratio; else it
    is withheld and names the suppressed ones."""
    hidden = sorted(_key(c) for c in (top, bottom) if c["OBS_VALUE"] is None)
    assert row["SUPPRESSED_INPUTS"] == hidden, row
    if hidden:
        assert (row["OBS_VALUE"], row["CONF_STATUS"]) == (None, "S"), row
    elif bottom["OBS_VALUE"] == 0:
        assert (row["OBS_VALUE"], row["OBS_STATUS"]) == (None, "M"), row
    else:
        assert row["OBS_VALUE"] == round(100 * top["OBS_VALUE"] / bottom["OBS_VALUE"], 1)
        assert row["CONF_STATUS"] == "F"


def test_the_definitions_are_public_with_their_part_unit_formula_and_sources(client) -> None:
    answer = client.get("/api/v1/indicators")
    assert answer.status_code == 200
    by_id = {i["id"]: i for i in answer.json()}
    rate = by_id["ASY_RECOGNITION"]
    assert rate["action_plan_part"] == "II" and rate["unit"] == "PC"
    assert set(rate["name"]) == {"en", "ru", "fr"}
    assert rate["formula"]["ratio"]["numerator"] == {"MEASURE": "DEC_FI_POS"}
    assert rate["source"][0]["file"].endswith(".txt") and rate["source"][0]["line"] > 0
    assert by_id["REF_ASY_CHANGE_Y"]["breakdowns"] == ["POP_GROUP", "CITIZENSHIP"]
    csv = client.get("/api/v1/indicators", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert set(pl.read_csv(io.BytesIO(csv.content))["id"]) == set(by_id)


def test_a_release_gets_its_indicators_computed_from_its_protected_cells(client,
                                                                         released) -> None:
    """Each value is what the release's published cells give; a value with a suppressed
    input is withheld and names it."""
    release, cells = released["release"], released["cells"]
    rows = client.get(VALUES).json()
    assert rows and {r["RELEASE_ID"] for r in rows} == {release["id"]}
    kinds = {r["INDICATOR"] for r in rows}
    assert {"REF_ASY", "SHARE_WOMEN", "SHARE_CHILDREN", "ASY_RECOGNITION", "COVERAGE"} <= kinds
    # Regions and the state that consented to national tables; never the others.
    assert {"CENTRAL_ASIA", "KAZ"} <= {r["REF_AREA"] for r in rows}
    assert not {"KGZ", "TJK"} & {r["REF_AREA"] for r in rows}
    for row in rows:
        area, group, citizenship = row["REF_AREA"], row["POP_GROUP"], row["CITIZENSHIP"]
        if row["INDICATOR"] == "REF_ASY":
            cell = _cell(cells, area, POP_GROUP=group, MEASURE="STOCK", CITIZENSHIP=citizenship)
            assert row["OBS_VALUE"] == cell["OBS_VALUE"]
            assert row["SUPPRESSED_INPUTS"] == ([] if cell["OBS_VALUE"] is not None
                                                else [_key(cell)])
        elif row["INDICATOR"] == "SHARE_WOMEN":
            stock = dict(POP_GROUP=group, MEASURE="STOCK", CITIZENSHIP=citizenship)
            _ratio_matches(row, _cell(cells, area, SEX="F", **stock), _cell(cells, area, **stock))
        elif row["INDICATOR"] == "SHARE_CHILDREN":
            stock = dict(POP_GROUP=group, MEASURE="STOCK", CITIZENSHIP=citizenship)
            _ratio_matches(row, _cell(cells, area, AGE="Y_LT18", **stock),
                           _cell(cells, area, **stock))
        elif row["INDICATOR"] == "ASY_RECOGNITION":
            decisions = dict(POP_GROUP="ASY", CITIZENSHIP=citizenship)
            _ratio_matches(row, _cell(cells, area, MEASURE="DEC_FI_POS", **decisions),
                           _cell(cells, area, MEASURE="DEC_FI", **decisions))
    coverage = {r["REF_AREA"]: r["OBS_VALUE"] for r in rows if r["INDICATOR"] == "COVERAGE"}
    for region, entry in release["coverage"].items():
        expected = len(entry["states"]) + len(entry["missing"]) + len(entry["awaiting_signoff"])
        assert coverage[region] == round(100 * len(entry["states"]) / expected, 1)
    assert coverage["CENTRAL_ASIA"] == 60.0  # 3 of the 5 participants
    # Disclosure control hid small cells of these small tables: some indicators are withheld
    # because of them, naming only cells the release itself suppressed.
    withheld = [r for r in rows if r["CONF_STATUS"] == "S"]
    assert withheld and all(r["OBS_VALUE"] is None for r in withheld)
    suppressed = {_key(c) for c in cells.filter(pl.col("OBS_VALUE").is_null())
                  .iter_rows(named=True)}
    named = {k for r in withheld for k in r["SUPPRESSED_INPUTS"]}
    assert named and named <= suppressed


def test_values_filter_by_indicator_area_and_period_in_json_and_csv(client, released) -> None:
    one = client.get(VALUES, params={"indicator": "COVERAGE", "area": "CENTRAL_ASIA",
                                     "period": PERIOD}).json()
    assert [(r["INDICATOR"], r["REF_AREA"], r["TIME_PERIOD"]) for r in one] == [
        ("COVERAGE", "CENTRAL_ASIA", PERIOD)]
    assert one[0]["UNIT_MEASURE"] == "PC" and one[0]["RELEASE_NUMBER"] == 1
    assert client.get(VALUES, params={"period": "2025-Q1"}).json() == []
    assert client.get(VALUES, params={"indicator": "NOPE"}).status_code == 422
    assert client.get(VALUES, params={"period": "2026Q3"}).status_code == 422
    csv = client.get(VALUES, params={"indicator": ["REF_ASY", "COVERAGE"]},
                     headers={"Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    frame = pl.read_csv(io.BytesIO(csv.content))
    assert set(frame["INDICATOR"]) == {"REF_ASY", "COVERAGE"}
    assert frame.columns[:8] == ["FREQ", "REF_AREA", "INDICATOR", "POP_GROUP", "SPEC_NEED",
                                 "MEASURE", "CITIZENSHIP", "TIME_PERIOD"]


def test_the_latest_vintage_is_served_and_an_embargo_hides_it_from_the_public(
        client, released, account) -> None:
    admin, first = released["admin"], released["release"]
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    second = _release(client, admin, embargo_until=until)
    assert second["status"] == "published" and second["number"] == 2
    public = client.get(VALUES).json()
    assert {r["RELEASE_ID"] for r in public} == {first["id"]}  # the embargoed one is hidden
    analyst = account("analyst")
    inside = client.get(VALUES, headers=analyst.headers).json()
    assert {r["RELEASE_ID"] for r in inside} == {second["id"]}
    assert {r["RELEASE_NUMBER"] for r in inside} == {2}


def test_changes_compare_with_the_previous_quarters_release(client, account) -> None:
    admin = account("admin")
    _sign_off(client, account, "2026-Q2", seed=400)
    assert _release(client, admin, period="2026-Q2")["status"] == "published"
    _sign_off(client, account, PERIOD, seed=300)
    assert _release(client, admin)["status"] == "published"
    rows = client.get(VALUES, params={"indicator": ["REF_ASY", "REF_ASY_CHANGE_Q"],
                                      "area": "CENTRAL_ASIA"}).json()
    stock = {(r["TIME_PERIOD"], r["POP_GROUP"], r["CITIZENSHIP"]): r for r in rows
             if r["INDICATOR"] == "REF_ASY"}
    changes = [r for r in rows if r["INDICATOR"] == "REF_ASY_CHANGE_Q"]
    assert changes and {r["TIME_PERIOD"] for r in changes} == {PERIOD}
    for change in changes:
        now = stock[(PERIOD, change["POP_GROUP"], change["CITIZENSHIP"])]
        before = stock[("2026-Q2", change["POP_GROUP"], change["CITIZENSHIP"])]
        if now["OBS_VALUE"] is None or before["OBS_VALUE"] is None:
            assert change["OBS_VALUE"] is None and change["CONF_STATUS"] == "S"
            assert set(change["SUPPRESSED_INPUTS"]) == set(now["SUPPRESSED_INPUTS"]
                                                           + before["SUPPRESSED_INPUTS"])
        else:
            assert change["OBS_VALUE"] == round(
                100 * (now["OBS_VALUE"] - before["OBS_VALUE"]) / before["OBS_VALUE"], 1)


def test_indicators_that_fail_leave_the_release_published(client, account,
                                                          monkeypatch) -> None:
    """The audit passed and the cells are public: a broken indicator computation is given
    up with its reason, and never withdraws the release."""
    from exchange.indicators import service

    def broken(database_url, release):
        raise RuntimeError("indicator computation broke")

    monkeypatch.setattr(service, "compute", broken)
    _sign_off(client, account, PERIOD, seed=300)
    release = _release(client, account("admin"))
    assert release["status"] == "published"
    assert "indicator computation broke" in release["failure_reason"]
    assert client.get(f"/api/v1/releases/{release['id']}/cells").status_code == 200
    assert client.get(VALUES).json() == []


def test_indicator_rows_give_the_sdmx_data_the_indicator_dsds_components(app, settings
                                                                         ) -> None:
    """What the SDMX data endpoint serves DF_INDICATORS from: exactly MMX_INDICATORS's
    components, of the latest vintage the caller may see, filtered by a key."""
    from exchange.core.db import session_scope
    from exchange.indicators import service
    from exchange.publication.models import Release
    from standards.indicators import IndicatorValue as Value

    url = settings.resolved_database_url
    refugees = {"POP_GROUP": "REF", "SPEC_NEED": "_Z", "MEASURE": "_Z", "CITIZENSHIP": "AFG"}
    with session_scope(url) as session:
        public, embargoed = (
            Release(period=PERIOD, number=n, status="published", trigger="admin",
                    requested_by="test", standard_version="2.0.0", embargo_until=until)
            for n, until in ((1, None), (2, datetime.now(UTC) + timedelta(days=1))))
        session.add_all([public, embargoed])
        session.flush()
        service.store(session, public, [
            Value("REF_ASY", "CENTRAL_ASIA", "Q", PERIOD, refugees, 120.0, "PER"),
            Value("COVERAGE", "CENTRAL_ASIA", "Q", PERIOD, dict.fromkeys(refugees, "_Z"),
                  60.0, "PC")])
        service.store(session, embargoed, [
            Value("REF_ASY", "CENTRAL_ASIA", "Q", PERIOD, refugees, None, "PER",
                  conf_status="S", suppressed_inputs=("Q.CENTRAL_ASIA._Z.REF._T.STOCK.AFG."
                                                      "_T._T@2026-Q3",))])
        public_id, embargoed_id = public.id, embargoed.id
    with session_scope(url, writes=False) as session:
        rows = service.indicator_rows(session)
        assert tuple(rows.columns) == service.COMPONENTS
        assert sorted((r["INDICATOR"], r["OBS_VALUE"]) for r in rows.to_dicts()) == [
            ("COVERAGE", 60.0), ("REF_ASY", 120.0)]
        inside = service.indicator_rows(session, see_embargoed=True,
                                        where={"INDICATOR": ["REF_ASY"], "POP_GROUP": ["REF"],
                                               "REF_AREA": ["CENTRAL_ASIA"]})
        assert inside.select("OBS_VALUE", "CONF_STATUS").rows() == [(None, "S")]
        assert service.indicator_rows(session, release_ids=[embargoed_id]).is_empty()
        assert service.indicator_rows(session, release_ids=[public_id],
                                      where={"TIME_PERIOD": ["2025-Q1"]}).is_empty()
        with pytest.raises(ValueError, match="not a dimension"):
            service.indicator_rows(session, where={"SEX": ["F"]})


def test_the_indicators_are_their_own_sdmx_dataflow_with_the_same_values(client,
                                                                        released) -> None:
    """DF_INDICATORS serves, through the SDMX data API, exactly the values of the JSON API:
    withheld ones with CONF_STATUS S and no value."""
    api = pl.read_csv(io.BytesIO(client.get(VALUES, params={"format": "csv"}).content),
                      infer_schema=False)
    answer = client.get("/sdmx/data/DF_INDICATORS",
                        headers={"Accept": "application/vnd.sdmx.data+csv;version=2.0.0"})
    assert answer.status_code == 200, answer.text
    sdmx = pl.read_csv(io.BytesIO(answer.content), infer_schema=False)
    assert set(sdmx["STRUCTURE_ID"]) == {"MMX:DF_INDICATORS(2.0.0)"}
    assert sdmx.height == api.height
    key = ["REF_AREA", "INDICATOR", "POP_GROUP", "SPEC_NEED", "MEASURE", "CITIZENSHIP"]

    def by_key(frame: pl.DataFrame) -> dict[tuple[str, ...], tuple[float | None, str]]:
        return {tuple(row[k] for k in key): (
            None if row["OBS_VALUE"] in (None, "") else round(float(row["OBS_VALUE"]), 6),
            row["CONF_STATUS"]) for row in frame.to_dicts()}

    assert by_key(sdmx) == by_key(api)
    withheld = sdmx.filter(pl.col("CONF_STATUS") == "S")
    assert withheld.height and withheld["OBS_VALUE"].is_null().all()
    one = client.get("/sdmx/data/DF_INDICATORS/Q.CENTRAL_ASIA.ASY_RECOGNITION",
                     headers={"Accept": "application/vnd.sdmx.data+csv"})
    assert one.status_code == 200, one.text
    assert set(pl.read_csv(io.BytesIO(one.content), infer_schema=False)["INDICATOR"]) == {
        "ASY_RECOGNITION"}
    assert client.get("/sdmx/data/DF_INDICATORS", params={"release": "harmonized"},
                      headers=released["admin"].headers).status_code == 501
