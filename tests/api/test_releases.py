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
from tests.api.conftest import release_table
from tests.conftest import PERIOD

STATES = ("KAZ", "KGZ", "TJK")


@pytest.fixture
def signed_off(client, account, upload) -> dict[str, object]:
    """KAZ, KGZ and TJK 2026-Q3 harmonized and signed off; KAZ consented to national tables."""
    for n, state in enumerate(STATES):
        agency = account("submitter", state)
        created = upload(agency, release_table(state, PERIOD, seed=100 + n), ref_area=state)
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


def test_a_scheduled_release_is_queued_by_the_sweeper_when_due(client, signed_off, app,
                                                                settings) -> None:
    from exchange.pipeline.sweep import sweep

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    entry = client.post("/api/v1/release-calendar", headers=signed_off["admin"].headers,
                        json={"period": PERIOD, "due_at": past, "notes": "Calendar."})
    assert entry.status_code == 201, entry.text
    later = client.post("/api/v1/release-calendar", headers=signed_off["admin"].headers,
                        json={"period": PERIOD, "due_at": "2099-01-01T00:00:00Z"})
    assert later.status_code == 201
    context = app.state.context
    sweep(context.database_url, context.queue, settings.stuck_after_seconds)
    calendar = client.get("/api/v1/release-calendar", headers=signed_off["analyst"].headers)
    by_id = {e["id"]: e for e in calendar.json()}
    release_id = by_id[entry.json()["id"]]["release_id"]
    assert release_id is not None and by_id[later.json()["id"]]["release_id"] is None
    release = client.get(f"/api/v1/releases/{release_id}").json()
    assert (release["status"], release["trigger"]) == ("published", "calendar")


def test_a_release_is_queued_once_enough_of_a_region_signed_off(settings, account) -> None:
    """MMX_RELEASE_COVERAGE_SHARE=0.6: the third of Central Asia's five participants signing
    off (3/5) queues the release of the period; the first two do not."""
    from fastapi.testclient import TestClient

    from tests.api.conftest import make_account, prepared_app

    app = prepared_app(settings.model_copy(update={"release_coverage_share": 0.6}))
    with TestClient(app) as client:
        for n, state in enumerate(STATES):
            agency = make_account(settings, client, "submitter", state)
            created = client.post("/api/v1/submissions", headers=agency.headers,
                                  data={"ref_area": state, "period": PERIOD},
                                  files={"file": ("t.csv", release_table(
                                      state, PERIOD, seed=100 + n), "text/csv")})
            assert created.status_code == 202, created.text
            coordinator = make_account(settings, client, "coordinator", state)
            assert client.post(f"/api/v1/datasets/{state}/{PERIOD}/signoff",
                               headers=coordinator.headers, json={}).status_code == 200
            releases = client.get("/api/v1/releases").json()
            assert len(releases) == (1 if n == 2 else 0), (state, releases)
        assert releases[0]["trigger"] == "coverage" and releases[0]["status"] == "published"


class TestTheReleaseThreadsSetting:
    """MMX_RELEASE_THREADS reaches the release stage's audit (several workers on one machine
    share its cores)."""

    @pytest.fixture
    def settings(self, settings):
        return settings.model_copy(update={"release_threads": 1})

    def test_it_is_the_threads_of_the_audit(self, client, signed_off, monkeypatch) -> None:
        from exchange.publication import service

        seen: list[int] = []

        def spy(*args, parameters, **kwargs):
            seen.append(parameters.threads)
            return protect(*args, parameters=parameters, **kwargs)

        protect = service.protect
        monkeypatch.setattr(service, "protect", spy)
        assert _release(client, signed_off["admin"])["status"] == "published"
        assert seen == [1]
