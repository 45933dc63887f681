"""The pipeline's behaviour, specified once and run against both runners: the in-process one
(``MMX_PROCESSING=inline``) and real Celery worker processes on Redis. The two read the same
stage table, and these scenarios keep them from drifting apart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from exchange.api.app import inline_queue
from exchange.core.config import Settings
from exchange.core.db import session_scope
from exchange.core.queue import TaskQueue
from exchange.harmonization.models import Observation
from exchange.pipeline.stages import STAGES
from exchange.pipeline.subjects import SUBMISSION
from exchange.submissions.models import StatusChange, Submission
from standards import load_standard
from standards.example import example_frame
from tests.api.conftest import csv_bytes, prepared_app
from tests.conftest import wait_until
from tests.workers.conftest import Worker, submitter_headers, wait_for_status
from workers.queue import CeleryQueue

DONE = {"harmonized", "rejected", "failed"}
# The stages an upload goes through (the table also holds the release stage).
SUBMISSION_STAGES = [s for s in STAGES if s.subject is SUBMISSION]


@dataclass
class Runner:
    """A way of running the pipeline, seen from a test: send a stage, wait until what was sent
    has been handled."""

    name: str
    settings: Settings
    queue: TaskQueue
    client: TestClient
    worker: Worker | None = None
    _sent: int = 0

    def upload(self, content: bytes) -> int:
        response = self.client.post(
            "/api/v1/submissions", data={"ref_area": "KAZ", "period": "2026-Q3"},
            files={"file": ("kaz.csv", content, "text/csv")},
            headers=submitter_headers(self.settings))
        assert response.status_code == 202, response.text
        self._sent += len(SUBMISSION_STAGES)
        return int(response.json()["id"])

    def send(self, stage: str, submission_id: int) -> None:
        self.queue.send(stage, submission_id)
        self._sent += 1

    def settle(self, submission_id: int, timeout: float = 90) -> str:
        """The submission's final status, once every message sent so far has been handled."""
        status = wait_for_status(self.settings, submission_id, DONE, timeout=timeout,
                                 worker=self.worker)
        if self.worker is None:
            return status  # in-process: everything ran before send() returned
        worker = self.worker
        wait_until(lambda: _handled(worker) >= self._handled_at_least(submission_id),
                   timeout=timeout, message=lambda: worker.log.read_text()[-3000:])
        return wait_for_status(self.settings, submission_id, DONE, timeout=1)

    def _handled_at_least(self, submission_id: int) -> int:
        # Stages that a rejection or failure made unnecessary were never sent.
        with session_scope(self.settings.resolved_database_url, writes=False) as session:
            status = session.get(Submission, submission_id).status  # type: ignore[union-attr]
        skipped = {"rejected": 2, "failed": 0}.get(status, 0)
        return self._sent - skipped


def _handled(worker: Worker) -> int:
    """Task deliveries the worker finished (succeeded or failed), from its log."""
    return len(re.findall(r"Task mmx\.\w+\[[^\]]+\] (succeeded|raised)",
                          worker.log.read_text(errors="replace")))


@pytest.fixture(params=["inline", "celery"])
def runner(request: pytest.FixtureRequest, tmp_path, database_url) -> Iterator[Runner]:
    if request.param == "inline":
        from tests.conftest import SECRET

        settings = Settings(data_dir=tmp_path / "var", database_url=database_url,
                            jwt_secret=SECRET, processing="inline")
        queue: TaskQueue = inline_queue(settings)
        with TestClient(prepared_app(settings, queue)) as client:
            yield Runner("inline", settings, queue, client)
        return
    settings = request.getfixturevalue("queue_settings")
    queue = CeleryQueue(settings)
    with TestClient(prepared_app(settings, queue)) as client:
        worker = request.getfixturevalue("start_worker")(settings, concurrency=2)
        yield Runner("celery", settings, queue, client, worker)


@pytest.fixture(scope="module")
def kaz_csv() -> bytes:
    return csv_bytes(example_frame(load_standard(), "KAZ", "2026-Q3", citizenships=4))


def _row(settings: Settings, submission_id: int) -> Submission:
    with session_scope(settings.resolved_database_url, writes=False) as session:
        return session.get(Submission, submission_id)  # type: ignore[return-value]


def _history(settings: Settings, submission_id: int) -> list[str]:
    with session_scope(settings.resolved_database_url, writes=False) as session:
        return [c.status for c in session.exec(select(StatusChange).where(
            StatusChange.submission_id == submission_id).order_by(StatusChange.id)).all()]


def _observations(settings: Settings) -> int:
    """The file's own observations (harmonization adds derived totals beside them)."""
    with session_scope(settings.resolved_database_url, writes=False) as session:
        return int(session.exec(select(sa.func.count()).select_from(Observation).where(
            Observation.derived.is_(False))).one())


def test_a_valid_upload_runs_every_stage_once(runner: Runner, kaz_csv: bytes) -> None:
    submission_id = runner.upload(kaz_csv)
    assert runner.settle(submission_id) == "harmonized"
    assert _history(runner.settings, submission_id) == [
        "received", "validating", "validated", "harmonizing", "harmonized"]
    row = _row(runner.settings, submission_id)
    assert (row.progress, row.next_stage, row.attempts) == (100, None, 0)
    assert _observations(runner.settings) == pl.read_csv(kaz_csv).height


def test_redelivered_and_duplicated_stages_change_nothing(runner: Runner, kaz_csv: bytes
                                                          ) -> None:
    submission_id = runner.upload(kaz_csv)
    assert runner.settle(submission_id) == "harmonized"
    before = (_history(runner.settings, submission_id), _observations(runner.settings))
    for stage in ("validate", "validate", "harmonize", "aggregate", "harmonize", "validate"):
        runner.send(stage, submission_id)
    assert runner.settle(submission_id) == "harmonized"
    row = _row(runner.settings, submission_id)
    assert row.progress == 100 and row.next_stage is None
    assert (_history(runner.settings, submission_id), _observations(runner.settings)) == before


def test_a_stage_that_raises_ends_failed_with_its_reason(runner: Runner, kaz_csv: bytes
                                                        ) -> None:
    """The stored file vanished after validation: harmonizing cannot succeed, and no retry can
    help. The submission must end 'failed' with the reason, not stay 'harmonizing'."""
    submission_id = runner.upload(kaz_csv)
    assert runner.settle(submission_id) == "harmonized"
    with session_scope(runner.settings.resolved_database_url) as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        (runner.settings.resolved_file_store / row.storage_key).unlink()
        row.status, row.next_stage, row.progress = "validated", "harmonize", 40
        session.add(row)
    runner.send("harmonize", submission_id)
    assert runner.settle(submission_id) == "failed"
    row = _row(runner.settings, submission_id)
    assert row.failure_reason is not None
    assert row.failure_reason.startswith("UnusableInput: No such file")
    assert row.next_stage is None and _history(runner.settings, submission_id)[-2:] == [
        "harmonizing", "failed"]


def test_a_stage_that_keeps_dying_is_given_up_after_its_attempts(runner: Runner,
                                                                 kaz_csv: bytes) -> None:
    """Every delivery counts as an attempt, including one whose worker died without a word:
    past the stage's limit the submission ends 'failed' instead of looping."""
    submission_id = runner.upload(kaz_csv)
    assert runner.settle(submission_id) == "harmonized"
    limit = STAGES[0].retry.max_attempts
    with session_scope(runner.settings.resolved_database_url) as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        row.status, row.next_stage, row.attempts = "validating", "validate", limit
        session.add(row)
    runner.send("validate", submission_id)
    assert runner.settle(submission_id) == "failed"
    assert f"attempted {limit} times" in (_row(runner.settings, submission_id).failure_reason or "")
