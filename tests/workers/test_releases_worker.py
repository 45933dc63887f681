"""A release end to end in the production shape: PostgreSQL (and SQLite) + Redis + a real
Celery worker. Three states upload, their National Coordinators sign off, the admin asks for
a release; the worker builds it (the ``release`` stage of the one stage table), then computes
its indicators (the ``indicators`` stage), and anyone reads the protected cells back with
their CONF_STATUS, and the indicators of the release."""

from __future__ import annotations

import polars as pl

from exchange.auth.principal import Role
from tests.api.conftest import make_account, release_table
from tests.conftest import PERIOD, wait_until
from tests.workers.conftest import wait_for_status

STATES = ("KAZ", "KGZ", "TJK")


def test_a_worker_builds_a_release_that_anyone_reads_back(queue_settings, queue_app,
                                                          start_worker) -> None:
    client = queue_app
    worker = start_worker(queue_settings)
    for n, state in enumerate(STATES):
        agency = make_account(queue_settings, client, Role.SUBMITTER, state)
        created = client.post("/api/v1/submissions", headers=agency.headers,
                              data={"ref_area": state, "period": PERIOD},
                              files={"file": ("t.csv", release_table(state, PERIOD,
                                                                     seed=200 + n), "text/csv")})
        assert created.status_code == 202, created.text
        assert wait_for_status(queue_settings, created.json()["id"], {"harmonized"},
                               worker=worker) == "harmonized"
        coordinator = make_account(queue_settings, client, Role.COORDINATOR, state)
        assert client.post(f"/api/v1/datasets/{state}/{PERIOD}/signoff",
                           headers=coordinator.headers, json={}).status_code == 200
    admin = make_account(queue_settings, client, Role.ADMIN)
    requested = client.post("/api/v1/releases", headers=admin.headers, json={"period": PERIOD})
    assert requested.status_code == 202, requested.text
    url = f"/api/v1/releases/{requested.json()['id']}"

    def built() -> dict | None:
        release = client.get(url, headers=admin.headers).json()
        return release if release["status"] not in ("queued", "building") else None

    release = wait_until(built, timeout=180, message=lambda: worker.tail())
    assert release["status"] == "published", release

    def indicators() -> list | None:
        rows = client.get("/api/v1/indicators/values").json()
        return rows or None

    rows = wait_until(indicators, timeout=60, message=lambda: worker.tail())
    assert {r["RELEASE_ID"] for r in rows} == {release["id"]}
    coverage = {r["REF_AREA"]: r["OBS_VALUE"] for r in rows if r["INDICATOR"] == "COVERAGE"}
    assert coverage["CENTRAL_ASIA"] == 60.0  # 3 of Central Asia's 5 participants
    cells = pl.DataFrame(client.get(url + "/cells").json())
    assert set(cells["AREA"]) >= {"CENTRAL_ASIA"}
    suppressed = cells.filter(pl.col("CONF_STATUS") != "F")
    assert suppressed.height and suppressed["OBS_VALUE"].null_count() == suppressed.height
    assert set(suppressed["CONF_STATUS"]) <= {"A", "O", "G", "S", "C", "N"}
    free = cells.filter(pl.col("CONF_STATUS") == "F")
    assert not free.filter(pl.col("OBS_VALUE").is_between(1, 4)).height
