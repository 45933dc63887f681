"""A stage never holds a writing transaction while it works: on the embedded SQLite database
that lock is the whole database's, and a slow or hostile file would stall every other upload
and login behind it."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from exchange.api.app import inline_queue
from exchange.auth.principal import Role
from exchange.pipeline import stages
from tests.api.conftest import csv_bytes, prepared_app
from tests.api.test_hardening import NoQueue


@pytest.mark.parametrize("stage", ["validate", "harmonize"])
def test_uploads_and_logins_proceed_while_a_stage_works(settings, account, example,
                                                        monkeypatch, stage: str) -> None:
    working, release = threading.Event(), threading.Event()
    original = stages.BY_NAME[stage]

    def slow_work(context, submission):  # the stage is busy until released
        working.set()
        assert release.wait(60)
        return original.work(context, submission)

    monkeypatch.setitem(stages.BY_NAME, stage,
                        stages.Stage(original.name, original.running, original.succeeded,
                                     original.progress, slow_work, original.complete))
    with TestClient(prepared_app(settings, NoQueue())) as http:
        kaz = account(Role.SUBMITTER, "KAZ")
        first = http.post("/api/v1/submissions", data={"ref_area": "KAZ", "period": "2026-Q3"},
                          files={"file": ("a.csv", csv_bytes(example), "text/csv")},
                          headers=kaz.headers)
        assert first.status_code == 202
        pipeline = threading.Thread(target=inline_queue(settings).send,
                                    args=("validate", first.json()["id"]))
        pipeline.start()
        try:
            assert working.wait(60), "the stage never started"
            # The stage is mid-work: another agency uploads and logs in meanwhile.
            kgz = account(Role.SUBMITTER, "KGZ")
            other = csv_bytes(example.with_columns(example["REF_AREA"].str.replace("KAZ",
                                                                                  "KGZ")))
            second = http.post("/api/v1/submissions",
                               data={"ref_area": "KGZ", "period": "2026-Q3"},
                               files={"file": ("b.csv", other, "text/csv")},
                               headers=kgz.headers)
            assert second.status_code == 202, second.text
        finally:
            release.set()
            pipeline.join(timeout=60)
        done = http.get(f"/api/v1/submissions/{first.json()['id']}", headers=kaz.headers)
        assert done.json()["status"] == "harmonized"
