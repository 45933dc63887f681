"""The production shape in docker-compose.yml is right, even where Docker cannot run."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]


def _command(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_the_four_services_exist_with_healthchecks() -> None:
    assert set(SERVICES) == {"postgres", "redis", "api", "worker"}
    for name, service in SERVICES.items():
        assert "test" in service["healthcheck"], name


def test_api_and_worker_share_database_broker_and_file_store() -> None:
    api, worker = SERVICES["api"], SERVICES["worker"]
    assert api["environment"] == worker["environment"]
    env = api["environment"]
    assert env["MMX_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["MMX_DATABASE_URL"]
    assert env["MMX_BROKER_URL"] == "redis://redis:6379/0"
    assert env["MMX_PROCESSING"] == "queue"
    assert api["volumes"] == worker["volumes"] == ["files:/data"]
    assert env["MMX_FILE_STORE_DIR"].startswith("/data")


def test_commands_are_real_cli_commands() -> None:
    from typer.testing import CliRunner

    from mmx.main import cli as app

    for service in ("api", "worker"):
        argv = _command(service)
        assert argv[0] == "mmx"
        result = CliRunner().invoke(app, [argv[1], "--help"])
        assert result.exit_code == 0, (service, result.output)
    assert "--no-with-worker" in _command("api")  # workers run as their own service


def test_databases_persist_in_volumes_and_start_before_the_app() -> None:
    assert any(v.startswith("pgdata:") for v in SERVICES["postgres"]["volumes"])
    assert any(v.startswith("redisdata:") for v in SERVICES["redis"]["volumes"])
    assert set(COMPOSE["volumes"]) == {"pgdata", "redisdata", "files"}
    for service in ("api", "worker"):
        depends = SERVICES[service]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_the_secret_is_required_not_defaulted() -> None:
    assert ":?" in SERVICES["api"]["environment"]["MMX_JWT_SECRET"]


def test_dockerfile_installs_the_package_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install" in dockerfile and "USER mmx" in dockerfile
    for package in ("standards", "exchange", "workers"):
        assert f"COPY {package} ./{package}" in dockerfile
