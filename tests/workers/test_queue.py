"""Submissions processed by real Celery worker processes; faults do not lose or double work."""

from __future__ import annotations

import json

import polars as pl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from exchange.accounts.service import create_client
from exchange.auth.principal import Principal, Role
from exchange.auth.tokens import KeyRing
from exchange.core.config import Settings
from exchange.core.db import session_scope
from exchange.core.outbox import Outbox
from exchange.harmonization.models import Observation
from exchange.regional.models import RegionalCoverage, RegionalObservation
from exchange.submissions.models import StatusChange
from standards import load_standard
from standards.example import example_frame
from tests.api.conftest import csv_bytes
from tests.conftest import wait_until
from tests.workers.conftest import broker_idle, submitter_headers, wait_for_status
from workers.celery_app import QUEUE
from workers.queue import CeleryQueue

pytestmark = pytest.mark.slow  # worker/server processes: seconds per test

DONE = {"harmonized", "rejected", "failed"}


def _post(client: TestClient, settings: Settings, content: bytes, ref_area: str = "KAZ"):
    response = client.post(
        "/api/v1/submissions", data={"ref_area": ref_area, "period": "2026-Q3"},
        files={"file": ("t.csv", content, "text/csv")}, headers=submitter_headers(settings,
                                                                                  ref_area))
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


def _observations(settings: Settings) -> pl.DataFrame:
    with session_scope(settings.resolved_database_url, writes=False) as session:
        rows = session.exec(select(Observation.ref_area, Observation.pop_group,
                                   Observation.measure, Observation.citizenship,
                                   Observation.sex, Observation.age, Observation.value,
                                   Observation.derived)).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row",
                        schema=["ref_area", "pop_group", "measure", "citizenship", "sex", "age",
                                "value", "derived"]).sort(pl.all())


def _history(settings: Settings, submission_id: int) -> list[str]:
    with session_scope(settings.resolved_database_url, writes=False) as session:
        return [c.status for c in session.exec(select(StatusChange).where(
            StatusChange.submission_id == submission_id).order_by(StatusChange.id)).all()]


@pytest.fixture(scope="module")
def kaz_csv() -> bytes:
    return csv_bytes(example_frame(load_standard(), "KAZ", "2026-Q3", citizenships=6))


@pytest.fixture(scope="module")
def big_csv() -> bytes:
    """Large enough that a stage takes a while: time to kill a worker in the middle of it."""
    return csv_bytes(example_frame(load_standard(), "KAZ", "2026-Q3", citizenships=25,
                                   all_measures=True))


def test_upload_is_validated_harmonized_and_aggregated_by_a_worker(
        queue_settings, queue_app, start_worker, kaz_csv) -> None:
    worker = start_worker(queue_settings)
    submission_id = _post(queue_app, queue_settings, kaz_csv)
    assert wait_for_status(queue_settings, submission_id, DONE, worker=worker) == "harmonized"
    assert _history(queue_settings, submission_id) == [
        "received", "validating", "validated", "harmonizing", "harmonized"]
    # Structured logs: every line about this submission's processing carries its id. The
    # task's own "succeeded" line follows the status change: wait for it.
    def json_lines() -> list[dict]:
        return [json.loads(line) for line in worker.log.read_text().splitlines()
                if line.startswith("{")]

    def harmonize_succeeded() -> list[dict]:
        return [e for e in json_lines() if "mmx.harmonize" in e["message"]
                and "succeeded" in e["message"]]

    task_lines = wait_until(harmonize_succeeded, timeout=30,
                            message=lambda: worker.log.read_text()[-3000:])
    assert task_lines[0]["submission_id"] == submission_id
    ours = [entry for entry in json_lines() if entry["logger"].startswith("mmx.pipeline")]
    assert ours and all(entry.get("submission_id") == submission_id for entry in ours)

    observations = _observations(queue_settings).filter(~pl.col("derived"))
    source = pl.read_csv(kaz_csv, infer_schema=False)
    assert observations.height == source.height
    assert observations["value"].sum() == source["OBS_VALUE"].cast(pl.Int64).sum()

    def fresh_coverage() -> RegionalCoverage | None:
        with session_scope(queue_settings.resolved_database_url, writes=False) as session:
            coverage = session.get(RegionalCoverage, ("CENTRAL_ASIA", "2026-Q3"))
        return coverage if coverage is not None and not coverage.stale else None

    coverage = wait_until(fresh_coverage, timeout=30, message=lambda: (
        f"no fresh CENTRAL_ASIA 2026-Q3 coverage; worker log:\n{worker.tail()}"))
    assert coverage is not None
    # The worker's rebuild expects KAZ but does not sum it before its coordinator signs off.
    assert coverage.included == [] and coverage.awaiting_signoff == ["KAZ"]
    assert coverage.missing == ["KGZ", "TJK", "TKM", "UZB"]
    signed = queue_app.post("/api/v1/datasets/KAZ/2026-Q3/signoff",
                            headers=_coordinator_headers(queue_settings, "KAZ"))
    assert signed.status_code == 200, signed.text
    with session_scope(queue_settings.resolved_database_url, writes=False) as session:
        coverage = session.get(RegionalCoverage, ("CENTRAL_ASIA", "2026-Q3"))
        regional = session.exec(select(sa.func.sum(RegionalObservation.value)).where(
            RegionalObservation.region == "CENTRAL_ASIA")).one()
    assert coverage.included == ["KAZ"] and not coverage.stale
    # One state: the region is its observations, the derived bands too.
    assert regional == _observations(queue_settings)["value"].sum()


def _coordinator_headers(settings: Settings, ref_area: str) -> dict[str, str]:
    with session_scope(settings.resolved_database_url) as session:
        client, _ = create_client(session, role=Role.COORDINATOR, ref_area=ref_area,
                                  name="coordinator")
    token = KeyRing.from_settings(settings).issue(Principal(client.id, Role.COORDINATOR,
                                                            ref_area))
    return {"Authorization": f"Bearer {token}"}


def test_broker_down_at_upload_only_delays_processing(
        queue_settings, queue_app, start_worker, redis_server, kaz_csv) -> None:
    redis_server.kill()
    submission_id = _post(queue_app, queue_settings, kaz_csv)  # still 202: stored and recorded
    with session_scope(queue_settings.resolved_database_url, writes=False) as session:
        pending = session.exec(select(Outbox).where(Outbox.submission_id == submission_id)).one()
        assert pending.dispatched_at is None
    redis_server.restart()
    worker = start_worker(queue_settings)  # its sweeper sends the outbox entry
    assert wait_for_status(queue_settings, submission_id, DONE, worker=worker) == "harmonized"


def test_worker_killed_mid_task_is_redone_with_identical_result(
        queue_settings, queue_app, start_worker, big_csv) -> None:
    worker = start_worker(queue_settings, concurrency=1)
    submission_id = _post(queue_app, queue_settings, big_csv)
    wait_for_status(queue_settings, submission_id, {"validating", "harmonizing"},
                    worker=worker)
    worker.kill()
    killed_in = _history(queue_settings, submission_id)[-1]
    assert killed_in in ("validating", "harmonizing", "validated")

    replacement = start_worker(queue_settings, concurrency=1)
    assert wait_for_status(queue_settings, submission_id, DONE, timeout=120,
                           worker=replacement) == "harmonized"
    source = pl.read_csv(big_csv, infer_schema=False)
    observations = _observations(queue_settings).filter(~pl.col("derived"))
    assert observations.height == source.height
    assert observations["value"].sum() == source["OBS_VALUE"].cast(pl.Int64).sum()
    assert _history(queue_settings, submission_id).count("harmonized") == 1


def test_stuck_submission_is_re_enqueued_by_the_sweeper(
        queue_settings, queue_app, start_worker, kaz_csv) -> None:
    """A message lost with the broker: the row says 'received' but no task exists."""
    submission_id = _post(queue_app, queue_settings, kaz_csv)
    import redis

    with redis.Redis.from_url(queue_settings.resolved_broker_url) as broker:
        wait_until(lambda: broker.llen(QUEUE), timeout=10,
                   message="the upload's task never reached the broker")
        broker.flushall()  # the message is gone
    worker = start_worker(queue_settings)
    assert wait_for_status(queue_settings, submission_id, DONE, timeout=60,
                           worker=worker) == "harmonized"


def test_status_overview_shows_queue_depth_outbox_and_stuck_work(
        queue_settings, queue_app, kaz_csv) -> None:
    """No worker runs: the upload waits in the queue, and turns 'stuck' after the threshold."""
    from exchange.pipeline.ops import overview

    def view_now():
        return overview(queue_settings.resolved_database_url, CeleryQueue(queue_settings),
                        queue_settings.stuck_after_seconds)

    submission_id = _post(queue_app, queue_settings, kaz_csv)
    view = view_now()
    assert view.queue_depth == 1 and view.queue_health.startswith("ok")
    assert view.outbox_pending == 0 and view.by_status == {"received": 1}
    assert view.stuck == []
    wait_until(lambda: [s[0] for s in view_now().stuck] == [submission_id],
               timeout=queue_settings.stuck_after_seconds + 10,
               message=f"submission {submission_id} never shown as stuck")


def test_a_redis_restart_during_twenty_uploads_loses_nothing_and_doubles_nothing(
        queue_settings, queue_app, start_worker, redis_server) -> None:
    """Redis goes away for three seconds while twenty agencies upload: stage hand-offs that
    meet the outage wait in the outbox (broker errors are transient, never 'failed'), messages
    lost with Redis are re-sent by the sweeper, and every upload ends harmonized exactly once."""
    import threading
    import time

    from exchange.submissions.models import Submission
    from standards import load_standard

    standard = load_standard()
    areas = sorted(standard.region_members("ECOWAS") | standard.region_members("CENTRAL_ASIA")
                   )[:20]
    files = {area: csv_bytes(example_frame(standard, area, "2026-Q3", citizenships=1))
             for area in areas}
    worker = start_worker(queue_settings, concurrency=2)
    uploaded: list[int] = []

    def outage() -> None:
        redis_server.kill()
        time.sleep(3)  # the outage itself, not a wait for a result
        redis_server.restart()

    for i, area in enumerate(areas):
        if i == 8:
            down = threading.Thread(target=outage)
            down.start()
        uploaded.append(_post(queue_app, queue_settings, files[area], ref_area=area))
    down.join()
    for submission_id in uploaded:
        assert wait_for_status(queue_settings, submission_id, DONE, timeout=120,
                               worker=worker) == "harmonized"
    wait_until(lambda: broker_idle(queue_settings), timeout=60,
               message="the broker still holds work")
    for submission_id in uploaded:
        history = _history(queue_settings, submission_id)
        assert history.count("harmonized") == 1 and "failed" not in history, history
    observations = _observations(queue_settings).filter(~pl.col("derived"))
    for area in areas:
        rows = pl.read_csv(files[area], infer_schema=False).height
        assert observations.filter(pl.col("ref_area") == area).height == rows, area
    with session_scope(queue_settings.resolved_database_url, writes=False) as session:
        assert session.exec(select(sa.func.count()).select_from(Submission)).one() == 20
