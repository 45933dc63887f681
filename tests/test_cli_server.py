"""The README's tour, for real: `mmx serve` with no configuration, then the agency's commands
(`clients create`, `token`, `submit`, `status`) over HTTP from separate processes."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, wait_until

pytestmark = pytest.mark.slow  # worker/server processes: seconds per test

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "KAZ_2026-Q3.csv"


def _mmx(*args: str, env: dict[str, str], cwd: Path, timeout: float = 120
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mmx.main", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    """`mmx serve` in an empty directory with no MMX_* settings at all."""
    workdir = tmp_path_factory.mktemp("fresh-machine")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMX_")}
    env["PYTHONPATH"] = str(ROOT)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # A process group of its own: `mmx serve` starts a worker, which must go down with it.
    proc = subprocess.Popen([sys.executable, "-m", "mmx.main", "serve", "--port",
                             str(port)], env=env, cwd=workdir, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read() if proc.stdout else ""
                raise RuntimeError(f"mmx serve did not start:\n{output}")
            time.sleep(0.2)
        yield url, {**env, "MMX_URL": url}, workdir
    finally:
        # SIGTERM to the whole group, serve and its worker alike: serve alone dies of the
        # signal (uvicorn re-raises it) before it can stop the worker it started.
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):  # a worker still in its warm shutdown
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture(scope="module")
def credentials(server) -> dict[str, str]:
    _, env, workdir = server
    created = _mmx("clients", "create", "--role", "submitter", "--ref-area", "KAZ", env=env,
                   cwd=workdir)
    assert created.returncode == 0, created.stderr
    client_id = re.search(r"client_id:\s+(\S+)", created.stdout)
    secret = re.search(r"client_secret:\s+(\S+)", created.stdout)
    assert client_id and secret
    return {"MMX_CLIENT_ID": client_id.group(1), "MMX_CLIENT_SECRET": secret.group(1)}


def test_embedded_default_keeps_state_under_var(server) -> None:
    _, _, workdir = server
    assert (workdir / "var" / "mmx.sqlite3").is_file()
    ready = httpx.get(f"{server[0]}/readyz").json()
    assert ready["checks"]["database"] == "ok"


def test_token_prints_a_jwt(server, credentials) -> None:
    _, env, workdir = server
    result = _mmx("token", env={**env, **credentials}, cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().count(".") == 2


def test_submit_validates_locally_uploads_and_reports_the_verdict(server, credentials) -> None:
    _, env, workdir = server
    result = _mmx("submit", str(EXAMPLE), "--country", "KAZ", "--period", "2026-Q3",
                  env={**env, **credentials}, cwd=workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ACCEPTED" in result.stdout
    submission_id = re.search(r"submission (\d+)", result.stdout)
    assert submission_id
    status = _mmx("status", submission_id.group(1), env={**env, **credentials}, cwd=workdir)
    assert status.returncode == 0, status.stderr
    assert "validated" in status.stdout and "received" in status.stdout
    # The same file again is recognised, not duplicated.
    again = _mmx("submit", str(EXAMPLE), "--country", "KAZ", "--period", "2026-Q3",
                 env={**env, **credentials}, cwd=workdir)
    assert f"submission {submission_id.group(1)}" in again.stdout


def test_submit_stops_before_uploading_an_invalid_file(server, credentials, tmp_path) -> None:
    _, env, workdir = server
    bad = tmp_path / "bad.csv"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace(",AFG,", ",AFX,", 1),
                   encoding="utf-8")
    local = _mmx("submit", str(bad), "--country", "KAZ", "--period", "2026-Q3",
                 env={**env, **credentials}, cwd=workdir)
    assert local.returncode == 1
    assert "Not uploaded" in local.stdout
    forced = _mmx("submit", str(bad), "--country", "KAZ", "--period", "2026-Q3", "--force",
                  env={**env, **credentials}, cwd=workdir)
    assert forced.returncode == 1
    assert "REJECTED" in forced.stdout


def test_submit_for_another_state_is_refused_by_the_server(server, credentials) -> None:
    _, env, workdir = server
    result = _mmx("submit", str(EXAMPLE), "--country", "KGZ", "--period", "2026-Q3",
                  "--force", env={**env, **credentials}, cwd=workdir)
    assert result.returncode == 2
    assert "403" in result.stderr


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_readiness_names_each_dependency_and_fails_when_the_embedded_worker_dies(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMX_")}
    env["PYTHONPATH"] = str(ROOT)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "mmx.main", "serve", "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        ready = wait_until(lambda: _readyz(url, 200), 60, "/readyz never answered 200")
        assert set(ready["checks"]) == {"database", "storage", "queue"}
        assert "embedded worker" in ready["checks"]["queue"]
        workers = _children(proc.pid)
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGKILL)
        body = wait_until(lambda: _readyz(url, 503), 60, "/readyz never answered 503")
        assert body["status"] == "not ready"
        assert "embedded worker" in body["checks"]["queue"]
        assert body["checks"]["database"] == "ok" and body["checks"]["storage"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _readyz(url: str, status: int) -> dict | None:
    """The /readyz body if it answers ``status`` now, else None."""
    try:
        response = httpx.get(f"{url}/readyz", timeout=5)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == status else None


def test_stopping_serve_stops_its_worker(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMX_")}
    env["PYTHONPATH"] = str(ROOT)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mmx.main", "serve", "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: _readyz(f"http://127.0.0.1:{port}", 200), 60,
                   "/readyz never answered 200")
        (worker,) = _children(proc.pid)
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        wait_until(lambda: not Path(f"/proc/{worker}").exists(), 60,
                   f"worker {worker} outlived mmx serve")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
