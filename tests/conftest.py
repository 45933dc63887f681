"""Shared fixtures: real PostgreSQL and Redis servers, the standard, example submissions, a CLI
runner, and the helpers every test may use (`wait_until`, `free_port`, `require`)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn, TypeVar

import polars as pl
import pytest
import sqlalchemy as sa
from pytest_postgresql import factories as postgresql_factories
from pytest_postgresql.exceptions import ExecutableMissingException
from pytest_postgresql.executors import NoopExecutor, PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor
from pytest_redis.config import get_config as redis_config
from pytest_redis.executor import RedisExecutor
from typer.testing import CliRunner

from standards import Standard, load_standard
from standards.example import example_frame

COUNTRY, PERIOD = "KAZ", "2026-Q3"
SECRET = "test-secret-" + "x" * 40
T = TypeVar("T")


# --- helpers ------------------------------------------------------------------------------------

def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(reason: str) -> NoReturn:
    """Skip the test because something it needs is missing from this machine; fail it under CI.

    CI installs everything (and sets CI), so there a missing server or file is a broken install
    step, and skipping would turn part of the suite into a silent no-op.
    """
    if under_ci():
        pytest.fail(f"{reason} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(reason)


def wait_until(predicate: Callable[[], T], timeout: float, message: str | Callable[[], str],
               interval: float = 0.1) -> T:
    """Call `predicate` until it returns something truthy and return that; fail the test with
    `message` (a string, or a function giving one, e.g. with a log tail) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"{text} (waited {timeout:g}s)")
        time.sleep(interval)
    return value


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now (released before the caller binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# --- PostgreSQL ---------------------------------------------------------------------------------
# A server given from outside (MMX_TEST_PG_HOST/PORT/USER/PASSWORD, e.g. from `.ci/services`):
# pytest-postgresql's noproc fixture. Otherwise, when not root, pytest-postgresql starts one with
# pg_ctl. As root (PostgreSQL refuses to run as root) there is none: skipped, or failed under CI.
# The session's template database carries the pid, so that two runs can share one server.

PG_ENV = {key: os.environ.get(f"MMX_TEST_PG_{key.upper()}") or None
          for key in ("host", "port", "user", "password")}
PG_DBNAME = f"mmx_{os.getpid()}"

postgresql_given = postgresql_factories.postgresql_noproc(**PG_ENV, dbname=PG_DBNAME)
postgresql_own = postgresql_factories.postgresql_proc(
    dbname=PG_DBNAME,
    # The data is thrown away: durability off makes the cluster several times faster.
    postgres_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off")


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> NoopExecutor | PostgreSQLExecutor:
    """The session's PostgreSQL server, as pytest-postgresql describes it (host, port, user,
    password, template_dbname, maintenance_dbname)."""
    if PG_ENV["host"]:
        return request.getfixturevalue("postgresql_given")
    if os.geteuid() == 0:
        require("PostgreSQL refuses to run as root: start a server with `eval \"$(.ci/services)\"` "
                "(it exports MMX_TEST_PG_HOST/PORT/USER) or run the tests as another user")
    try:
        return request.getfixturevalue("postgresql_own")
    except ExecutableMissingException as exc:
        require(f"PostgreSQL server binaries not found (Debian: apt-get install postgresql): {exc}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every API test runs once on SQLite and once on a fresh PostgreSQL database (created from
    the session's template, dropped after the test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mmx.sqlite3'}"
        return
    server: NoopExecutor | PostgreSQLExecutor = request.getfixturevalue("postgres_server")
    name = f"t_{secrets.token_hex(6)}"
    with DatabaseJanitor(user=server.user, password=server.password, host=server.host,
                         port=server.port, dbname=name, template_dbname=server.template_dbname,
                         maintenance_dbname=server.maintenance_dbname):
        yield sa.URL.create("postgresql+psycopg", username=server.user,
                            password=server.password, host=server.host, port=int(server.port),
                            database=name).render_as_string(hide_password=False)


# --- Redis --------------------------------------------------------------------------------------

class RedisServer:
    """pytest-redis's redis-server (a mirakuru executor) with what the fault tests need.

    It keeps nothing on disk (`redis_save` in pyproject.toml), so a restart comes back empty,
    like a broker restarted without persistence.
    """

    def __init__(self, executor: RedisExecutor) -> None:
        self.executor = executor

    @property
    def host(self) -> str:
        return self.executor.host

    @property
    def port(self) -> int:
        return self.executor.port

    @property
    def url(self) -> str:
        """redis:// URL of database 0, for redis-py and Celery."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.executor.running()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would; its port refuses connections afterwards."""
        self.executor.kill()

    def restart(self) -> None:
        """Start again on the same port (killing it first if it still runs); it comes back
        empty, and clients configured with `url` reconnect by themselves."""
        self.executor.kill()
        self.executor.start()


@pytest.fixture(scope="session")
def redis_server(request: pytest.FixtureRequest) -> RedisServer:
    executable = redis_config(request).exec
    if not executable or not shutil.which(executable):
        require(f"redis-server not found ({executable or 'not on PATH'}); "
                "install it (Debian: apt-get install redis-server)")
    return RedisServer(request.getfixturevalue("redis_proc"))


# --- the standard and example data --------------------------------------------------------------

@pytest.fixture(scope="session")
def standard() -> Standard:
    return load_standard()


@pytest.fixture(scope="session")
def example(standard: Standard) -> pl.DataFrame:
    """A small valid submission (KAZ, 2026-Q3) as a frame of strings, ready to corrupt."""
    frame = example_frame(standard, COUNTRY, PERIOD, citizenships=3)
    return frame.with_columns(pl.all().cast(pl.Utf8))


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write a frame (or raw text/bytes) to a CSV file and return its path."""

    def write(data: pl.DataFrame | str | bytes, name: str = "upload.csv", **kwargs) -> Path:
        path = tmp_path / name
        if isinstance(data, pl.DataFrame):
            data.write_csv(path, **kwargs)
        elif isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        return path

    return write


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


# --- factories ----------------------------------------------------------------------------------

def file_row(index: int) -> int:
    """Row number in the file of frame row ``index``: the header is row 1."""
    return index + 2


def corrupt(frame: pl.DataFrame, row_index: int, column: str, value: str | None) -> pl.DataFrame:
    """A copy of ``frame`` with one cell replaced (``None`` writes an empty field)."""
    if column not in frame.columns:
        raise KeyError(column)
    mask = pl.int_range(pl.len()) == row_index
    return frame.with_columns(
        pl.when(mask).then(pl.lit(value, dtype=pl.Utf8)).otherwise(pl.col(column)).alias(column)
    )


def row_index(frame: pl.DataFrame, **dims: str) -> int:
    """Index of the one row whose columns hold the given values."""
    found = frame.with_row_index("__i").filter(
        pl.all_horizontal([pl.col(c) == v for c, v in dims.items()])
    )["__i"].to_list()
    if len(found) != 1:
        raise LookupError(f"{len(found)} rows match {dims}")
    return int(found[0])


def issues_of(report, rule) -> list:
    """The kept issues of one rule, in file order."""
    return sorted((i for i in report.issues if i.rule == rule), key=lambda i: (i.row or 0))


@pytest.fixture(scope="session")
def validate_frame():
    """Validate a frame of strings as a CSV upload (bytes, so it works inside hypothesis)."""
    from standards.validation import validate_file

    def run(frame: pl.DataFrame, **kwargs):
        return validate_file(frame.write_csv().encode("utf-8"), **kwargs)

    return run
