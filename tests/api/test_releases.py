"""Releases end to end on the embedded shape (inline processing): three states upload, their
National Coordinators sign off, one consents to national publication; the admin asks for a
release; it is built by the ``release`` stage, protected and audited; anyone reads the
protected cells; the audit is the admin's; an embargo hides it from the public until it ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from standards.disclosure import load_parameters

from standards import load_standard
from standards.example import example_frame
from tests.api.conftest import csv_bytes
from tests.conftest import PERIOD

STATES = ("KAZ", "KGZ", "TJK")


@pytest.fixture
def signed_off(client, account, upload) -> dict[str, object]:
    """KAZ, KGZ and TJK 2026-Q3 harmonized and signed off; KAZ consented to national tables."""
    standard = load_standard()
    for n, state in enumerate(STATES):
        agency = account("submitter", state)
        frame = example_frame(standard, state, PERIOD, citizenships=1, seed=100 + n)
        created = upload(agency, csv_bytes(frame), ref_area=state)
        assert created.status_code == 202, created.text
        coordinator = account("coordinator", state)
        signed = client.post(f"/api/v1/datasets/{state}/{PERIOD}/signoff",
                             headers=coordinator.headers, json={})
        assert signed.status_code == 200, signed.text
        if state == "KAZ":
            assert client.put(f"/api/v1/states/{state}/consent", headers=coordinator.headers,
                              json={"publication_consent": "national"}).status_code == 200
    return {"admin": account("admin"), "analyst": account("analyst")}


def _release(client, admin, **body) -> dict:
    created = client.post("/api/v1/releases", headers=admin.headers,
                          json={"period": PERIOD, **body})
    assert created.status_code == 202, created.text
    return client.get(f"/api/v1/releases/{created.json()['id']}", headers=admin.headers).json()


def test_a_release_publishes_protected_regional_and_consented_national_tables(
        client, signed_off) -> None:
    release = _release(client, signed_off["admin"], notes="First release of 2026-Q3.")
    assert release["status"] == "published", release
    assert release["audit_ok"] is True and release["number"] == 1
    assert release["coverage"]["CENTRAL_ASIA"]["states"] == list(STATES)
    cells = pl.DataFrame(client.get(f"/api/v1/releases/{release['id']}/cells").json())
    areas = set(cells["AREA"])
    assert "CENTRAL_ASIA" in areas and "KAZ" in areas
    assert not {"KGZ", "TJK"} & areas  # no national consent: only inside regional totals
    k = load_parameters().k_default
    published = cells.filter(pl.col("CONF_STATUS") == "F")
    assert published["OBS_VALUE"].null_count() == 0
    assert not published.filter((pl.col("OBS_VALUE") > 0) & (pl.col("OBS_VALUE") < k)).height
    suppressed = cells.filter(pl.col("CONF_STATUS") != "F")
    assert suppressed.height and suppressed["OBS_VALUE"].null_count() == suppressed.height
    assert set(suppressed["CONF_STATUS"]) <= {"A", "O", "G", "S", "C", "N"}
    assert release["cells_suppressed"] == suppressed.height


def test_the_audit_is_the_admins_and_proves_every_suppression(client, signed_off,
                                                              account) -> None:
    release = _release(client, signed_off["admin"])
    url = f"/api/v1/releases/{release['id']}/audit"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=signed_off["analyst"].headers).status_code == 403
    assert client.get(url, headers=account("coordinator", "KAZ").headers).status_code == 403
    audit = pl.DataFrame(client.get(url, headers=signed_off["admin"].headers).json())
    # Every suppressed published cell, and the national figures of the states that did not
    # consent (never published, but regional totals must not reveal them either).
    assert audit.filter(pl.col("PUBLISHED")).height == release["cells_suppressed"]
    assert set(audit.filter(~pl.col("PUBLISHED"))["AREA"]) <= {"KGZ", "TJK"}
    assert audit["OK"].all()
    csv = client.get(url, params={"format": "csv"}, headers=signed_off["admin"].headers)
    assert csv.headers["content-type"].startswith("text/csv")


def test_a_second_release_of_the_period_is_the_next_number(client, signed_off) -> None:
    first = _release(client, signed_off["admin"])
    second = _release(client, signed_off["admin"])
    assert (first["number"], second["number"]) == (1, 2)
    assert second["status"] == "published"
    listed = client.get("/api/v1/releases", params={"period": PERIOD}).json()
    assert [r["number"] for r in listed] == [1, 2]


def test_an_embargoed_release_is_hidden_from_the_public_until_it_ends(client,
                                                                     signed_off) -> None:
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    release = _release(client, signed_off["admin"], embargo_until=until)
    url = f"/api/v1/releases/{release['id']}"
    assert client.get(url).status_code == 404
    assert client.get(url + "/cells").status_code == 404
    assert client.get("/api/v1/releases").json() == []
    assert client.get(url, headers=signed_off["analyst"].headers).status_code == 200
    assert client.get(url + "/cells", headers=signed_off["analyst"].headers).status_code == 200


def test_only_the_admin_asks_for_a_release(client, signed_off, account) -> None:
    for who in (None, account("submitter", "KAZ"), account("coordinator", "KAZ"),
                signed_off["analyst"]):
        answer = client.post("/api/v1/releases", json={"period": PERIOD},
                             headers=who.headers if who else {})
        assert answer.status_code == (401 if who is None else 403)


def test_nothing_signed_off_means_nothing_to_release(client, account) -> None:
    answer = client.post("/api/v1/releases", json={"period": "2025-Q1"},
                         headers=account("admin").headers)
    assert answer.status_code == 409
    assert answer.json()["type"].endswith("nothing-to-release")


def test_analysts_read_harmonized_observations_and_states_their_own(client, signed_off,
                                                                     account) -> None:
    url = "/api/v1/observations"
    rows = client.get(url, params={"ref_area": "KGZ", "period": PERIOD},
                      headers=signed_off["analyst"].headers)
    assert rows.status_code == 200 and rows.json()
    assert client.get(url, params={"ref_area": "KGZ", "period": PERIOD},
                      headers=account("submitter", "KAZ").headers).status_code == 403
    assert client.get(url, params={"ref_area": "KGZ", "period": PERIOD}).status_code == 401
