"""What the distributed benchmarks share: a throw-away PostgreSQL (``.ci/services``, unless
``MMX_TEST_PG_*`` points at one), a Redis on a free port, and the exchange in its production
shape (``mmx db upgrade``, the API, N workers) as separate processes on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exchange.accounts.service import create_client  # noqa: E402
from exchange.auth.principal import Principal, Role  # noqa: E402
from exchange.auth.tokens import KeyRing  # noqa: E402
from exchange.core.config import Settings  # noqa: E402
from exchange.core.db import session_scope  # noqa: E402

SECRET = "benchmark-secret-" + "b" * 40
MMX = [sys.executable, "-m", "mmx.main"]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def postgres() -> dict[str, str]:
    """Where the throw-away PostgreSQL is: the caller's (MMX_TEST_PG_*) or one started now."""
    if "MMX_TEST_PG_HOST" not in os.environ:
        out = subprocess.run([str(ROOT / ".ci" / "services")], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            os.environ[name] = value.strip("'\"")
    return {k: os.environ[k] for k in ("MMX_TEST_PG_HOST", "MMX_TEST_PG_PORT",
                                       "MMX_TEST_PG_USER")}


class Redis:
    """redis-server on a free port, without persistence (a restart comes back empty)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        wait_for(self._up, 30, "redis")

    def _up(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Exchange:
    """The API and two workers on PostgreSQL + Redis, as in docker-compose.yml."""

    def __init__(self, work: Path, pg: dict[str, str], redis_url: str, workers: int = 2,
                 api_processes: int = 1, **settings: str) -> None:
        self.dsn = (f"host={pg['MMX_TEST_PG_HOST']} port={pg['MMX_TEST_PG_PORT']} "
                    f"user={pg['MMX_TEST_PG_USER']} dbname=mmx_bench_{os.getpid()}")
        with psycopg.connect(self.dsn.replace(f"mmx_bench_{os.getpid()}", "postgres"),
                             autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS mmx_bench_{os.getpid()}")
            conn.execute(f"CREATE DATABASE mmx_bench_{os.getpid()}")
        url = (f"postgresql+psycopg://{pg['MMX_TEST_PG_USER']}@{pg['MMX_TEST_PG_HOST']}:"
               f"{pg['MMX_TEST_PG_PORT']}/mmx_bench_{os.getpid()}")
        self.settings = Settings(data_dir=work / "var", database_url=url, broker_url=redis_url,
                                 jwt_secret=SECRET, processing="queue",
                                 requests_per_minute=1_000_000)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MMX_")} | {
            "PYTHONPATH": str(ROOT), "MMX_DATA_DIR": str(work / "var"),
            "MMX_DATABASE_URL": url, "MMX_BROKER_URL": redis_url, "MMX_JWT_SECRET": SECRET,
            "MMX_REQUESTS_PER_MINUTE": "1000000",
            **{f"MMX_{k.upper()}": v for k, v in settings.items()}}
        subprocess.run([*MMX, "db", "upgrade"], env=self.env, check=True, capture_output=True)
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.api = subprocess.Popen([*MMX, "serve", "--port", str(port), "--no-with-worker",
                                     "--workers", str(api_processes)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=self.env)
        self.workers = [self.start_worker() for _ in range(workers)]
        wait_for(lambda: self._ready(), 90, "the API")

    def start_worker(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([*MMX, "worker", "--concurrency", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=self.env, start_new_session=True)

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def token(self, area: str) -> str:
        with session_scope(self.settings.resolved_database_url) as session:
            client, _ = create_client(session, role=Role.SUBMITTER, ref_area=area, name="bench")
        return KeyRing.from_settings(self.settings).issue(
            Principal(client.id, Role.SUBMITTER, area))

    def upload(self, area: str, token: str, content: bytes) -> str:
        response = httpx.post(f"{self.base}/api/v1/submissions",
                              data={"ref_area": area, "period": "2026-Q3"},
                              files={"file": (f"{area}.csv", content, "text/csv")},
                              headers={"Authorization": f"Bearer {token}"}, timeout=300)
        response.raise_for_status()
        return f"{self.base}{response.headers['location']}"

    def wait(self, url: str, token: str, field: str, value: object, what: str) -> None:
        """Until the submission at ``url`` has ``field == value``."""
        headers = {"Authorization": f"Bearer {token}"}
        wait_for(lambda: httpx.get(url, headers=headers).json()[field] == value, 600, what)

    def stop(self) -> None:
        for proc in (self.api, *self.workers):
            proc.terminate()
        for proc in (self.api, *self.workers):
            proc.wait(timeout=30)
