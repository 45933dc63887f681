"""The production shape in docker-compose.yml and the Dockerfile is right, even where Docker
cannot run (no Docker engine here): the compose file is checked as data, and the image's
install step (`pip install .`, not editable) is repeated into a directory of its own and run."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "api", "worker")


def _command(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_the_services_exist_and_long_running_ones_have_healthchecks() -> None:
    assert set(SERVICES) == {"postgres", "redis", "migrate", "api", "worker"}
    for name in ("postgres", "redis", "api", "worker"):
        assert "test" in SERVICES[name]["healthcheck"], name


def test_app_services_share_database_broker_and_file_store() -> None:
    env = SERVICES["api"]["environment"]
    for service in APP_SERVICES:
        assert SERVICES[service]["environment"] == env, service
    assert env["MMX_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["MMX_DATABASE_URL"]
    assert env["MMX_BROKER_URL"] == "redis://redis:6379/0"
    assert env["MMX_PROCESSING"] == "queue"
    assert SERVICES["api"]["volumes"] == SERVICES["worker"]["volumes"] == ["files:/data"]
    assert env["MMX_FILE_STORE_DIR"].startswith("/data")


def test_the_schema_is_upgraded_once_before_api_and_workers_start() -> None:
    assert _command("migrate") == ["mmx", "db", "upgrade"]
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for service in ("api", "worker"):
        depends = SERVICES[service]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    assert "--no-with-worker" in _command("api")  # workers run as their own service


def test_databases_persist_in_volumes() -> None:
    assert any(v.startswith("pgdata:") for v in SERVICES["postgres"]["volumes"])
    assert any(v.startswith("redisdata:") for v in SERVICES["redis"]["volumes"])
    assert set(COMPOSE["volumes"]) == {"pgdata", "redisdata", "files"}


def test_the_secret_is_required_not_defaulted() -> None:
    assert ":?" in SERVICES["api"]["environment"]["MMX_JWT_SECRET"]


def test_dockerfile_installs_every_package_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --no-cache-dir ." in dockerfile and "USER mmx" in dockerfile
    for package in ("standards", "exchange", "workers", "mmx"):
        assert f"COPY {package} ./{package}" in dockerfile


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project as the image installs it: a built wheel (not the source tree), unpacked into
    a directory of its own; its dependencies come from this environment."""
    out = tmp_path_factory.mktemp("image")
    # Built from a copy, as `COPY` makes one: setuptools leaves build/ in the tree it builds.
    source = out / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "var", "build", "__pycache__", "*.egg-info", ".venv", "tests", "benchmarks"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(out / "wheel"), str(source)], check=True)
    wheel = next((out / "wheel").glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(out / "site")
    return out / "site"


def _run_installed(site: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMX_")}
    env.update({"PYTHONPATH": str(site), "MMX_DATA_DIR": str(tmp / "data"),
                "MMX_JWT_SECRET": "s" * 40})
    return subprocess.run([sys.executable, "-m", "mmx.main", *args], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_image_install_carries_migrations_data_and_every_command(installed: Path,
                                                                      tmp_path: Path) -> None:
    assert (installed / "exchange" / "migrations" / "versions").is_dir()
    assert (installed / "standards" / "data" / "dsd.yaml").is_file()
    upgraded = _run_installed(installed, tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "schema current" in upgraded.stdout
    for service in APP_SERVICES:
        argv = _command(service)
        assert argv[0] == "mmx"
        helped = _run_installed(installed, tmp_path, *argv[1:2], "--help")
        assert helped.returncode == 0, (service, helped.stderr)


def test_the_image_worker_starts_and_consumes(installed: Path, tmp_path: Path) -> None:
    """The worker the image runs comes up on its (embedded) broker and reports ready."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMX_")}
    env.update({"PYTHONPATH": str(installed), "MMX_DATA_DIR": str(tmp_path / "data"),
                "MMX_JWT_SECRET": "s" * 40})
    assert _run_installed(installed, tmp_path, "db", "upgrade").returncode == 0
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "mmx.main", "worker", "--pool", "solo",
                                   "--concurrency", "1"], cwd=tmp_path, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        from exchange.pipeline.stages import STAGES

        for stage in STAGES:  # every stage's task is registered in the image's worker
            assert f"mmx.{stage.name}" in log.read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
