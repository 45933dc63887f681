"""A release end to end in the production shape: PostgreSQL (and SQLite) + Redis + a real
Celery worker. Three states upload, their National Coordinators sign off, the admin asks for
a release; the worker builds it (the ``release`` stage of the one stage table) and anyone
reads the protected cells back with their CONF_STATUS."""

from __future__ import annotations

import polars as pl

from exchange.auth.principal import Role
from standards import load_standard
from standards.example import example_frame
from tests.api.conftest import csv_bytes, make_account
from tests.conftest import PERIOD, wait_until
from tests.workers.conftest import wait_for_status

STATES = ("KAZ", "KGZ", "TJK")


def test_a_worker_builds_a_release_that_anyone_reads_back(queue_settings, queue_app,
                                                          start_worker) -> None:
    client = queue_app
    worker = start_worker(queue_settings)
    standard = load_standard()
    for n, state in enumerate(STATES):
        agency = make_account(queue_settings, client, Role.SUBMITTER, state)
        frame = example_frame(standard, state, PERIOD, citizenships=1, seed=200 + n)
        created = client.post("/api/v1/submissions", headers=agency.headers,
                              data={"ref_area": state, "period": PERIOD},
                              files={"file": ("t.csv", csv_bytes(frame), "text/csv")})
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
    cells = pl.DataFrame(client.get(url + "/cells").json())
    assert set(cells["AREA"]) >= {"CENTRAL_ASIA"}
    assert cells.filter(pl.col("CONF_STATUS") != "F")["OBS_VALUE"].null_count() == \
        cells.filter(pl.col("CONF_STATUS") != "F").height
