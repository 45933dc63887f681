"""The test harness itself: the servers and helpers in conftest.py really do what they promise.

Everything database- and broker-backed in the suite stands on them, so they are checked with real
queries, a real kill and a real restart rather than trusted.
"""

from __future__ import annotations

import socket

import pytest
import redis
import sqlalchemy as sa

from tests.conftest import RedisServer, free_port, require, wait_until


def _accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# --- databases ----------------------------------------------------------------------------------

@pytest.mark.parametrize("attempt", [1, 2])
def test_every_test_gets_a_fresh_empty_database(database_url: str, attempt: int) -> None:
    """Two tests in a row both find no table: the first one's table did not leak."""
    engine = sa.create_engine(database_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE submission (id integer PRIMARY KEY, country text)"))
            conn.execute(sa.text("INSERT INTO submission VALUES (1, 'KAZ'), (2, 'UZB')"))
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, country FROM submission ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "KAZ"), (2, "UZB")]
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_url_is_sqlalchemy_psycopg_on_a_utf8_database(database_url: str) -> None:
    assert database_url.startswith("postgresql+psycopg://")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW server_encoding")).scalar_one() == "UTF8"
            name = conn.execute(sa.text("SELECT current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert database_url.endswith(f"/{name}")


# --- Redis --------------------------------------------------------------------------------------

def test_redis_kill_then_restart_on_the_same_port(redis_server: RedisServer) -> None:
    port, url = redis_server.port, redis_server.url
    assert url == f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.set("survives", "no")

        redis_server.kill()
        assert not redis_server.running
        assert not _accepts(port)
        with pytest.raises(redis.ConnectionError):
            client.ping()

        redis_server.restart()
        assert redis_server.running
        assert (redis_server.port, redis_server.url) == (port, url)
        assert client.ping()  # the same client reconnects by itself
        assert client.get("survives") is None  # no persistence: a restart loses everything
    finally:
        client.close()
        if not redis_server.running:
            redis_server.restart()


def test_redis_restart_of_a_running_server_also_empties_it(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url, socket_connect_timeout=1)
    try:
        client.set("survives", "no")
        redis_server.restart()
        assert client.get("survives") is None
    finally:
        client.close()


# --- helpers ------------------------------------------------------------------------------------

def test_require_skips_locally_but_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="redis-server not found"):
        require("redis-server not found")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="redis-server not found"):
        require("redis-server not found")


def test_wait_until_returns_the_first_truthy_value() -> None:
    answers = iter([None, 0, [], "ready"])
    assert wait_until(lambda: next(answers), timeout=5, message="never", interval=0) == "ready"


def test_wait_until_fails_with_the_message_after_the_deadline() -> None:
    with pytest.raises(AssertionError, match=r"still queued: 3 \(waited 0.2s\)"):
        wait_until(lambda: False, timeout=0.2, message=lambda: "still queued: 3", interval=0.05)


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
