"""Real Celery worker processes against a real broker (Redis, or the embedded SQLite broker)
and a real database, driven through the real API."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from exchange.accounts.service import create_client
from exchange.auth.principal import Principal, Role
from exchange.auth.tokens import KeyRing
from exchange.core.config import Settings
from exchange.core.db import session_scope
from exchange.submissions.models import Submission
from tests.api.conftest import prepared_app
from tests.conftest import SECRET, RedisServer
from workers.celery_app import QUEUE
from workers.queue import CeleryQueue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue_settings(tmp_path: Path, database_url: str, redis_server: RedisServer) -> Settings:
    """Production shape: Redis broker; short stuck/visibility timeouts so fault tests finish."""
    if not redis_server.running:
        redis_server.restart()
    redis.Redis.from_url(redis_server.url).flushall()
    return Settings(
        data_dir=tmp_path / "var", database_url=database_url, jwt_secret=SECRET,
        broker_url=redis_server.url, processing="queue", stuck_after_seconds=4,
        sweep_interval_seconds=0.5, visibility_timeout_seconds=4)


def env_for(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMX_")}
    env.update({
        "PYTHONPATH": str(ROOT), "MMX_DATA_DIR": str(settings.data_dir),
        "MMX_DATABASE_URL": settings.resolved_database_url,
        "MMX_BROKER_URL": settings.resolved_broker_url, "MMX_JWT_SECRET": SECRET,
        "MMX_STUCK_AFTER_SECONDS": str(settings.stuck_after_seconds),
        "MMX_SWEEP_INTERVAL_SECONDS": str(settings.sweep_interval_seconds),
        "MMX_VISIBILITY_TIMEOUT_SECONDS": str(settings.visibility_timeout_seconds),
    })
    return env


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the worker and all its pool processes: no chance to ack or clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def finished(self, task_ids: Iterable[str]) -> bool:
        """Whether the log shows that each of these tasks ended (succeeded, or raised)."""
        lines = self.log.read_text(errors="replace").splitlines()
        return all(any(f"[{task_id}]" in line and ("succeeded" in line or "raised" in line)
                       for line in lines) for task_id in task_ids)


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(settings: Settings, concurrency: int = 2, pool: str = "prefork") -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "mmx.main", "worker", "--concurrency",
                 str(concurrency), "--pool", pool],
                env=env_for(settings), cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        worker = Worker(process, log)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def queue_app(queue_settings: Settings) -> Iterator[TestClient]:
    with TestClient(prepared_app(queue_settings, CeleryQueue(queue_settings))) as client:
        yield client


def submitter_headers(settings: Settings, ref_area: str = "KAZ") -> dict[str, str]:
    with session_scope(settings.resolved_database_url) as session:
        client, _ = create_client(session, role=Role.SUBMITTER, ref_area=ref_area, name="test")
    token = KeyRing.from_settings(settings).issue(Principal(client.id, Role.SUBMITTER, ref_area))
    return {"Authorization": f"Bearer {token}"}


def wait_for_status(settings: Settings, submission_id: int, wanted: set[str],
                    timeout: float = 90, worker: Worker | None = None) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        with session_scope(settings.resolved_database_url, writes=False) as session:
            submission = session.get(Submission, submission_id)
            status = submission.status if submission else ""
        if status in wanted:
            return status
        time.sleep(0.2)
    log = worker.tail() if worker else ""
    alive = "" if worker is None else (
        "; the worker is running" if worker.process.poll() is None
        else f"; the worker exited with {worker.process.returncode}")
    raise AssertionError(f"submission {submission_id} still {status!r}{alive}; worker log:\n"
                         f"{log}")


def broker_idle(settings: Settings) -> bool:
    """No task message waits in the queue and none is delivered but unacknowledged. With
    acks_late, a task being run (or held for a retry countdown) keeps its message in kombu's
    `unacked` hash until it ends, and it sends the next stage's message before it ends."""
    client = redis.Redis.from_url(settings.resolved_broker_url)
    try:
        queued, unacked = client.pipeline(transaction=True).llen(QUEUE).hlen("unacked").execute()
    finally:
        client.close()
    return queued == 0 and unacked == 0
