"""The throw-away PostgreSQL and Redis servers in tests/servers.py really work.

Everything database- and broker-backed in the suite stands on these, so they are checked with
real queries, real kills and a real restart rather than trusted.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
import redis

from tests.servers import (
    PostgresServer,
    RedisServer,
    ServerUnavailable,
    port_accepts,
    require,
)

S = TypeVar("S", PostgresServer, RedisServer)


def _started(server: S) -> S:
    """Start `server`, or skip (locally) / fail (CI) if its binary is missing."""
    try:
        return server.start()
    except ServerUnavailable as exc:
        require(exc)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = _started(PostgresServer())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = _started(RedisServer())
    try:
        yield server
    finally:
        server.stop()


def _wait_until_refused(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not port_accepts(port):
            return True
        time.sleep(0.05)
    return False


# --------------------------------------------------------------------------- PostgreSQL


def test_postgres_round_trip(postgres: PostgresServer) -> None:
    assert postgres.url == f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/mmx_test"
    with psycopg.connect(postgres.dsn) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.execute("SELECT current_database()").fetchone() == ("mmx_test",)
        conn.execute("CREATE TABLE submission (id serial PRIMARY KEY, country text NOT NULL)")
        conn.execute("INSERT INTO submission (country) VALUES (%s), (%s)", ("KAZ", "UZB"))
        conn.commit()
    with psycopg.connect(postgres.dsn) as conn:
        rows = conn.execute("SELECT id, country FROM submission ORDER BY id").fetchall()
    assert rows == [(1, "KAZ"), (2, "UZB")]


def test_postgres_is_tuned_for_tests(postgres: PostgresServer) -> None:
    with psycopg.connect(postgres.dsn) as conn:
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ("fsync", "synchronous_commit", "full_page_writes", "server_encoding")
        }
    assert settings == {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "server_encoding": "UTF8",
    }


def test_postgres_url_works_with_sqlalchemy(postgres: PostgresServer) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(postgres.url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT 41 + 1")).scalar_one() == 42
    finally:
        engine.dispose()


def test_create_database_gives_a_fresh_one(postgres: PostgresServer) -> None:
    with psycopg.connect(postgres.dsn) as conn:
        conn.execute("CREATE TABLE only_in_main (x int)")
        conn.commit()

    url = postgres.create_database("fresh_db")
    assert url == f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/fresh_db"
    with psycopg.connect(postgres.dsn_for("fresh_db")) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("fresh_db",)
        assert conn.execute("SELECT to_regclass('only_in_main')").fetchone() == (None,)

    postgres.drop_database("fresh_db")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres.dsn_for("fresh_db")).close()


def test_postgres_stop_leaves_nothing_behind() -> None:
    with _started(PostgresServer()) as server:
        port, tmpdir = server.port, server.tmpdir
        assert tmpdir is not None and tmpdir.is_dir()
        assert port_accepts(port)
    assert not port_accepts(port)
    assert not tmpdir.exists()
    server.stop()  # idempotent


# --------------------------------------------------------------------------- Redis


def test_redis_set_get(redis_server: RedisServer) -> None:
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.set("mmx:greeting", "salem")
        assert client.get("mmx:greeting") == b"salem"
    finally:
        client.close()


def test_redis_kill_then_restart_on_the_same_port() -> None:
    server = _started(RedisServer())
    try:
        port, url = server.port, server.url
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.set("survives", "no")

        server.kill()
        assert not server.running
        assert not port_accepts(port)
        with pytest.raises(redis.ConnectionError):
            client.ping()

        server.restart()
        assert (server.port, server.url) == (port, url)
        assert client.ping()  # the same client reconnects by itself
        assert client.get("survives") is None  # no persistence: a restart loses everything
        client.close()
    finally:
        server.stop()
    assert not port_accepts(port)


def test_redis_stop_leaves_nothing_behind() -> None:
    with _started(RedisServer()) as server:
        port, tmpdir = server.port, server.tmpdir
        assert tmpdir is not None and tmpdir.is_dir()
    assert not port_accepts(port)
    assert not tmpdir.exists()


# --------------------------------------------------------------------------- failure modes


def test_missing_binaries_raise_server_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ServerUnavailable, match="initdb"):
        PostgresServer(bindir=tmp_path).start()
    with pytest.raises(ServerUnavailable, match="redis-server"):
        RedisServer(executable=tmp_path / "redis-server").start()


def test_require_skips_locally_but_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    exc = ServerUnavailable("redis-server not found")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="redis-server not found"):
        require(exc)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="redis-server not found"):
        require(exc)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux")
def test_servers_die_with_a_killed_test_process() -> None:
    """A pytest killed with SIGKILL (a CI timeout) runs no cleanup; its servers must die anyway."""
    script = textwrap.dedent(
        """
        import time
        from tests.servers import PostgresServer, RedisServer, ServerUnavailable
        try:
            pg, rd = PostgresServer().start(), RedisServer().start()
        except ServerUnavailable as exc:
            print("unavailable", exc, flush=True)
            raise SystemExit(0)
        print(pg.port, rd.port, pg.tmpdir, rd.tmpdir, flush=True)
        time.sleep(120)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=Path(__file__).parent.parent,  # the repository root, where `tests` is importable
        stdout=subprocess.PIPE,
        text=True,
    )
    tmpdirs: list[str] = []
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line, "the child process failed to start its servers"
        if line.startswith("unavailable "):
            require(ServerUnavailable(line.removeprefix("unavailable ").strip()))
        pg_port, redis_port, *tmpdirs = line.split()
        assert port_accepts(int(pg_port)) and port_accepts(int(redis_port))
        child.kill()
        child.wait(timeout=10)
        assert _wait_until_refused(int(pg_port)), "PostgreSQL outlived its parent"
        assert _wait_until_refused(int(redis_port)), "Redis outlived its parent"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        if child.stdout:
            child.stdout.close()
        for tmpdir in tmpdirs:  # nobody was left to remove them
            shutil.rmtree(tmpdir, ignore_errors=True)
