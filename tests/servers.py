"""Throw-away PostgreSQL and Redis servers for the test suite.

The tests talk to a *real* PostgreSQL and a *real* Redis rather than SQLite or fakeredis, because
the behaviour we depend on (transactions, constraints, JSONB, locking; Celery's broker semantics,
a broker that dies and comes back) is exactly what fakes get wrong. The servers are started by the
tests themselves on free loopback ports from the distribution binaries, so `python -m pytest`
needs no system service, no fixed port and no configuration: only `apt-get install postgresql
redis-server` (Debian 12) or the equivalent.

Only classes and helpers live here; pytest fixtures belong in conftest.py. A caller that cannot
get a server catches `ServerUnavailable` and calls `require(exc)`, which skips the test on a
developer's machine but fails it under CI, where a missing binary is a broken install step and
must never turn into a silently green run.

Processes are never left behind: `stop()` runs from `__exit__`, every live server is also stopped
by an `atexit` hook, and on Linux each server gets a parent-death signal so that even a pytest
killed with SIGKILL (say, by a CI timeout) takes its servers with it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import NoReturn, Self

import psycopg
import redis
from psycopg import sql

__all__ = [
    "PostgresServer",
    "RedisServer",
    "ServerStartError",
    "ServerUnavailable",
    "find_postgres_bin",
    "find_redis_server",
    "free_port",
    "port_accepts",
    "require",
]

HOST = "127.0.0.1"
DEFAULT_TIMEOUT = 30.0
POSTGRES_USER = "postgres"  # the database superuser *and* the OS account used when we are root
DEFAULT_DATABASE = "mmx_test"
_PG_PROGRAMS = ("initdb", "postgres")
_ADDRESS_IN_USE = re.compile(
    r"address already in use|could not bind|could not create any tcp", re.I
)
_SOCKET_PATH_MAX = 107  # sun_path is 108 bytes on Linux, including the terminating NUL


class ServerUnavailable(RuntimeError):
    """A server cannot be provided on this machine (binary or OS account missing).

    This is an environment problem, not a bug under test: locally the test is skipped, under CI
    it fails (see `require`).
    """


class ServerStartError(RuntimeError):
    """The binaries are there but the server did not come up; the message ends with its log.

    Deliberately *not* a `ServerUnavailable`: a server that crashes or hangs on start must fail
    the run everywhere instead of being skipped away.
    """


def require(exc: BaseException) -> NoReturn:
    """Skip the current test because `exc` says a server is unavailable; fail instead under CI.

    CI installs both servers, so there an unavailable server means the install step is broken,
    and skipping would turn the whole database suite into a silent no-op.
    """
    import pytest  # imported here so that the module also works from plain scripts

    message = str(exc) or type(exc).__name__
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{message} (CI is set, so a missing server is an error, not a skip)")
    pytest.skip(message)


# --------------------------------------------------------------------------- helpers


def free_port(host: str = HOST) -> int:
    """Return a TCP port that is free on `host` right now.

    The port is released before the server binds it, so another process could grab it in
    between; the servers therefore retry on a new port when the bind fails.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_accepts(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on host:port (used to check kills and stops)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _log_tail(path: Path | None, lines: int = 40) -> str:
    if path is None or not path.exists():
        return "(no log)"
    text = path.read_text(encoding="utf-8", errors="replace").rstrip()
    tail = "\n".join(text.splitlines()[-lines:])
    return tail or "(log is empty)"


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _has_pg_programs(directory: Path) -> bool:
    return all(_executable(directory / name) for name in _PG_PROGRAMS)


def _version_key(directory: Path) -> tuple[int, ...]:
    """Sort key for /usr/lib/postgresql/<version>/bin, so that 16 beats 9.6 (not as strings)."""
    return tuple(int(part) for part in re.findall(r"\d+", directory.parent.name)) or (-1,)


def find_postgres_bin() -> Path | None:
    """Return the directory holding PostgreSQL's server binaries (initdb, postgres), or None.

    Order: `pg_config --bindir`, then /usr/lib/postgresql/<version>/bin newest first (Debian's
    layout; the server binaries are not on PATH there), then PATH. A hit on PATH is resolved
    through symlinks and must have its siblings, because /usr/local/bin and Debian's
    postgresql-common may hold wrappers or lone links named initdb/pg_ctl rather than the
    real installation.
    """
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            result = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
            )
            if result.returncode == 0 and result.stdout.strip():
                candidates.append(Path(result.stdout.strip()))
    candidates.extend(
        sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    )
    for name in _PG_PROGRAMS:
        found = shutil.which(name)
        if found:
            candidates.append(Path(found).resolve().parent)
            candidates.append(Path(found).parent)
    for candidate in candidates:
        if _has_pg_programs(candidate):
            return candidate
    return None


def find_redis_server() -> Path | None:
    """Return the redis-server executable on PATH (Debian: /usr/bin/redis-server), or None."""
    found = shutil.which("redis-server")
    return Path(found) if found else None


def _child_env() -> dict[str, str]:
    """The environment for server processes, without PG* variables.

    A developer's PGDATA, PGPORT, PGHOST or PGOPTIONS must not leak into the throw-away cluster.
    """
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _die_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    """A preexec_fn making the child receive `sig` when the process that started it dies.

    This is what keeps servers from outliving a pytest killed with SIGKILL, where neither
    `__exit__` nor `atexit` runs. Linux only. The signal is tied to the *thread* that forks, so
    it is used only from the main thread: a server started from a short-lived worker thread
    would otherwise be killed as soon as that thread finished. Python runs preexec_fn after it
    has switched to `user=`, and changing credentials resets the setting, so the order matters
    and is the right one.
    """
    if (
        not sys.platform.startswith("linux")
        or threading.current_thread() is not threading.main_thread()
    ):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    signum = int(sig)

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signum, 0, 0, 0)

    return preexec


def _terminate(proc: subprocess.Popen[bytes], sig: signal.Signals, grace: float) -> None:
    """Send `sig`, wait up to `grace` seconds, then SIGKILL; always reaps the child."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=10)


def _temp_base(needs_other_access: bool) -> Path:
    """Where to put a server's temp dir.

    The default temp dir unless (a) the server runs as another OS user and cannot traverse it
    (e.g. TMPDIR under /root), or (b) the path is so long that a Unix socket in it would exceed
    sun_path; then /tmp.
    """
    base = Path(tempfile.gettempdir()).resolve()
    too_long = len(str(base)) + len("/mmx-pg-XXXXXXXX/.s.PGSQL.65535.lock") > _SOCKET_PATH_MAX
    if too_long or (needs_other_access and not _traversable_by_others(base)):
        return Path("/tmp")
    return base


def _traversable_by_others(path: Path) -> bool:
    for directory in (path, *path.parents):
        try:
            if not directory.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


# --------------------------------------------------------------------------- live registry

_LIVE: set[_Server] = set()


def _stop_all() -> None:
    """atexit fallback: stop whatever a crashed fixture or a forgotten `start()` left running."""
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.stop()


atexit.register(_stop_all)


class _Server:
    """Shared context-manager plumbing: `with Server() as s:` starts, and always stops, `s`."""

    def start(self) -> Self:  # pragma: no cover - overridden
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------- PostgreSQL


class PostgresServer(_Server):
    """A private PostgreSQL cluster in a temp dir, listening on 127.0.0.1:<free port>.

    Durability is switched off (fsync, synchronous_commit, full_page_writes; initdb --no-sync)
    because a test cluster is thrown away anyway and this makes it several times faster.
    Authentication is `trust` for the superuser `postgres`, so URLs carry no password.

    PostgreSQL refuses to run as root; when we are root (CI and the dev machines are), initdb
    and the postmaster run as the `postgres` OS account that Debian's package creates, and the
    temp dir is handed to that account.
    """

    def __init__(
        self,
        *,
        bindir: Path | str | None = None,
        database: str = DEFAULT_DATABASE,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._bindir_arg = Path(bindir) if bindir is not None else None
        self.database = database
        self.timeout = timeout
        self.host = HOST
        self.port: int = 0
        self.bindir: Path | None = None
        self.tmpdir: Path | None = None
        self.data_dir: Path | None = None
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._run_as: pwd.struct_passwd | None = None

    # ---- addresses

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database, e.g. for `create_engine` / SQLModel."""
        return self.url_for(self.database)

    @property
    def dsn(self) -> str:
        """libpq connection string of the test database, e.g. for `psycopg.connect`."""
        return self.dsn_for(self.database)

    def url_for(self, database: str) -> str:
        self._require_running()
        return f"postgresql+psycopg://{POSTGRES_USER}@{self.host}:{self.port}/{database}"

    def dsn_for(self, database: str) -> str:
        self._require_running()
        return f"host={self.host} port={self.port} user={POSTGRES_USER} dbname={database}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ---- lifecycle

    def start(self) -> Self:
        """initdb, start the postmaster, wait until it accepts connections, create the database.

        Raises ServerUnavailable when the binaries or the `postgres` OS account are missing,
        ServerStartError (with the log tail) when the server fails or takes over `timeout`.
        """
        if self.running:
            return self
        bindir = self._bindir_arg or find_postgres_bin()
        if bindir is None or not _has_pg_programs(bindir):
            where = (
                str(bindir) if bindir else "pg_config --bindir, /usr/lib/postgresql/*/bin and PATH"
            )
            raise ServerUnavailable(
                f"PostgreSQL server binaries ({', '.join(_PG_PROGRAMS)}) not found in {where}; "
                "install them (Debian: apt-get install postgresql)"
            )
        self.bindir = bindir
        self._run_as = self._os_account()
        _LIVE.add(self)
        try:
            self._make_tmpdir()
            self._initdb()
            self._start_postmaster()
            self.create_database(self.database)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Immediate shutdown (SIGQUIT to the postmaster: no checkpoint, nothing to keep), then
        remove the temp dir. Safe to call twice, or on a server that never started."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc, signal.SIGQUIT, grace=10)
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = self.data_dir = None
        _LIVE.discard(self)

    # ---- databases

    def create_database(self, name: str) -> str:
        """Create an empty database `name` (for tests that need a fresh one); return its URL."""
        with psycopg.connect(self.dsn_for("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name`, disconnecting whoever still uses it (PostgreSQL 13+)."""
        with psycopg.connect(self.dsn_for("postgres"), autocommit=True) as conn:
            query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            conn.execute(query)

    # ---- internals

    def _require_running(self) -> None:
        if not self.port or self._proc is None:
            raise RuntimeError("PostgresServer is not started; call start() or use `with`")

    @staticmethod
    def _os_account() -> pwd.struct_passwd | None:
        """None to run as ourselves; the `postgres` account when we are root."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(POSTGRES_USER)
        except KeyError:
            raise ServerUnavailable(
                "PostgreSQL refuses to run as root and there is no 'postgres' OS account to run "
                "it as; create one (Debian's postgresql package does) or run the tests as a "
                "non-root user"
            ) from None

    def _make_tmpdir(self) -> None:
        self.tmpdir = Path(
            tempfile.mkdtemp(prefix="mmx-pg-", dir=_temp_base(self._run_as is not None))
        )
        if self._run_as is not None:
            os.chown(self.tmpdir, self._run_as.pw_uid, self._run_as.pw_gid)
        self.data_dir = self.tmpdir / "data"
        self.log_path = self.tmpdir / "postgres.log"

    def _popen_kwargs(self) -> dict[str, object]:
        kwargs: dict[str, object] = {"env": _child_env(), "cwd": self.tmpdir}
        if self._run_as is not None:
            kwargs.update(user=self._run_as.pw_uid, group=self._run_as.pw_gid, extra_groups=[])
            kwargs["env"] = {**_child_env(), "HOME": str(self.tmpdir), "USER": POSTGRES_USER}
        return kwargs

    def _initdb(self) -> None:
        assert self.bindir is not None and self.data_dir is not None
        cmd = [
            str(self.bindir / "initdb"),
            "-D", str(self.data_dir),
            "-A", "trust",
            "-U", POSTGRES_USER,
            "--no-sync",
            "-E", "UTF8",
            "--locale=C",
        ]  # fmt: skip
        try:
            result = subprocess.run(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=self.timeout,
                check=False,
                **self._popen_kwargs(),  # type: ignore[arg-type]
            )
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode(errors="replace")
            raise ServerStartError(
                f"initdb did not finish within {self.timeout:.0f}s:\n{output[-4000:]}"
            ) from None
        if result.returncode != 0:
            output = result.stdout.decode(errors="replace")
            raise ServerStartError(
                f"initdb failed (exit {result.returncode}): {' '.join(cmd)}\n{output[-4000:]}"
            )

    def _start_postmaster(self) -> None:
        """Start the postmaster on a free port, retrying on a new one if the port was taken."""
        for attempt in range(1, 4):
            self.port = free_port()
            try:
                self._spawn_and_wait()
                return
            except _PortTaken:
                if attempt == 3:
                    raise ServerStartError(
                        f"PostgreSQL could not bind a free port 3 times; log:\n"
                        f"{_log_tail(self.log_path)}"
                    ) from None

    def _spawn_and_wait(self) -> None:
        assert self.bindir and self.data_dir and self.tmpdir and self.log_path
        cmd = [
            str(self.bindir / "postgres"),
            "-D", str(self.data_dir),
            "-h", self.host,
            "-p", str(self.port),
            "-k", str(self.tmpdir),
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C on pytest must not kill it under our feet
                preexec_fn=_die_with_parent(signal.SIGQUIT),
                **self._popen_kwargs(),  # type: ignore[arg-type]
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.timeout
        last_error: Exception | None = None
        while True:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                tail = _log_tail(self.log_path)
                if _ADDRESS_IN_USE.search(tail):
                    raise _PortTaken
                raise ServerStartError(
                    f"PostgreSQL exited with code {code} while starting on port {self.port}; "
                    f"log ({self.log_path}):\n{tail}"
                )
            try:
                with psycopg.connect(self.dsn_for("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                last_error = exc
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"PostgreSQL did not accept connections on {self.host}:{self.port} within "
                    f"{self.timeout:.0f}s (last error: {last_error}); log ({self.log_path}):\n"
                    f"{_log_tail(self.log_path)}"
                )
            time.sleep(0.05)


class _PortTaken(Exception):
    """Internal: the server lost the race for its port; pick another."""


# --------------------------------------------------------------------------- Redis


class RedisServer(_Server):
    """A private, non-persistent redis-server on 127.0.0.1:<free port>.

    `kill()` and `restart()` exist for fault tests ("the broker died", "Redis restarted and lost
    everything"): restart comes back on the *same* port, so clients configured with `url` keep
    pointing at it, and with no persistence it comes back empty, like a real restart without RDB.
    """

    def __init__(
        self,
        *,
        executable: Path | str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._executable_arg = Path(executable) if executable is not None else None
        self.timeout = timeout
        self.host = HOST
        self.port: int = 0
        self.executable: Path | None = None
        self.tmpdir: Path | None = None
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """redis:// URL of database 0, for redis-py and Celery's broker/backend settings."""
        if not self.port:
            raise RuntimeError("RedisServer is not started; call start() or use `with`")
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc else None

    def start(self) -> Self:
        """Start on a free port (or, after a first start, the same port) and wait for PING.

        Raises ServerUnavailable when redis-server is missing, ServerStartError (with the log
        tail) when it fails or takes longer than `timeout`.
        """
        if self.running:
            return self
        executable = self._executable_arg or find_redis_server()
        if executable is None or not _executable(executable):
            raise ServerUnavailable(
                f"redis-server not found ({executable or 'not on PATH'}); "
                "install it (Debian: apt-get install redis-server)"
            )
        self.executable = executable
        _LIVE.add(self)
        try:
            if self.tmpdir is None:
                self.tmpdir = Path(tempfile.mkdtemp(prefix="mmx-redis-"))
                self.log_path = self.tmpdir / "redis.log"
            if self.port:
                # Same port after kill(): the old socket may linger for a moment; keep trying.
                try:
                    self._spawn_and_wait(bind_retry_until=time.monotonic() + 5.0)
                except _PortTaken:
                    raise ServerStartError(
                        f"redis-server cannot restart: port {self.port} is taken by another "
                        f"process; log:\n{_log_tail(self.log_path)}"
                    ) from None
            else:
                for attempt in range(1, 4):
                    self.port = free_port()
                    try:
                        self._spawn_and_wait(bind_retry_until=0.0)
                        break
                    except _PortTaken:
                        if attempt == 3:
                            raise ServerStartError(
                                "redis-server could not bind a free port 3 times; log:\n"
                                f"{_log_tail(self.log_path)}"
                            ) from None
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Shut down (SIGTERM; nothing is saved) and remove the temp dir. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc, signal.SIGTERM, grace=10)
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        _LIVE.discard(self)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would; the port refuses connections afterwards.

        The temp dir and port are kept so that `restart()` can bring it back.
        """
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def restart(self) -> Self:
        """Start again on the same port (killing the current process first if it still runs).

        The data is gone afterwards: there is no persistence.
        """
        self.kill()
        if not self.port:
            raise RuntimeError("RedisServer.restart() needs a server that was started before")
        return self.start()

    # ---- internals

    def _spawn_and_wait(self, *, bind_retry_until: float) -> None:
        """Spawn redis-server and wait for PING; raise _PortTaken if the port is in use.

        Until `bind_retry_until` (monotonic) a taken port is retried instead.
        """
        assert self.executable and self.tmpdir and self.log_path
        cmd = [
            str(self.executable),
            "--port", str(self.port),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(self.tmpdir),
            "--logfile", "",
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.tmpdir,
                start_new_session=True,
                preexec_fn=_die_with_parent(signal.SIGKILL),
            )
        deadline = time.monotonic() + self.timeout
        last_error: Exception | None = None
        while True:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                tail = _log_tail(self.log_path)
                if _ADDRESS_IN_USE.search(tail):
                    if time.monotonic() < bind_retry_until:
                        time.sleep(0.1)
                        return self._spawn_and_wait(bind_retry_until=bind_retry_until)
                    raise _PortTaken
                raise ServerStartError(
                    f"redis-server exited with code {code} while starting on port {self.port}; "
                    f"log ({self.log_path}):\n{tail}"
                )
            try:
                if self._ping():
                    return
            except (redis.RedisError, OSError) as exc:  # not listening yet, or still loading
                last_error = exc
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"redis-server did not answer PING on {self.host}:{self.port} within "
                    f"{self.timeout:.0f}s (last error: {last_error}); log ({self.log_path}):\n"
                    f"{_log_tail(self.log_path)}"
                )
            time.sleep(0.05)

    def _ping(self) -> bool:
        client = redis.Redis(host=self.host, port=self.port, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
