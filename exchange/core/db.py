"""Database engine, sessions and migrations: one code path for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


_engines: dict[str, sa.Engine] = {}


def get_engine(url: str) -> sa.Engine:
    """One engine per URL and process. SQLite gets WAL, foreign keys and a busy timeout so the
    API and a worker process can share the file."""
    if url not in _engines:
        _engines[url] = _create_engine(url)
    return _engines[url]


def forget_connections_after_fork() -> None:
    """In a forked child (a Celery pool process), drop the pooled connections inherited from
    the parent without closing them: sharing one socket between processes corrupts it."""
    for engine in _engines.values():
        engine.dispose(close=False)


def _create_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(conn, _record) -> None:  # type: ignore[no-untyped-def]
            conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # type: ignore[no-untyped-def]
            # SQLite has no SELECT ... FOR UPDATE: a writing transaction takes the write lock at
            # BEGIN instead (a second worker waits, then reads the first one's result). Readers
            # begin deferred and, with WAL, never wait for writers.
            immediate = conn.get_execution_options().get("writes", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def is_embedded(url: str) -> bool:
    """The embedded default: a SQLite file beside the data, upgraded by ``mmx serve`` itself."""
    return url.startswith("sqlite")


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema to the latest revision (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def schema_revision(url: str) -> tuple[str | None, str]:
    """(the database's revision, the code's head revision): equal when the schema is current."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head() or ""
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision(), head


def writer(url: str) -> sa.Engine:
    """The engine for transactions that write (on SQLite they take the write lock at BEGIN)."""
    return get_engine(url).execution_options(writes=True)


@contextmanager
def session_scope(url: str, writes: bool = True) -> Iterator[Session]:
    """A session that commits on success and rolls back on error (for CLI and workers)."""
    with Session(writer(url) if writes else get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
