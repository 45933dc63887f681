"""The transactional outbox: hand-offs to the queue are rows first, messages second.

A stage that becomes due (an upload arrives, a stage finishes) writes an ``Outbox`` row in the
same transaction as the work that makes it due. After the commit the row is relayed to the
queue; if the broker is down the row waits and the next sweep sends it. Relaying never holds a
database transaction while it talks to the broker, and sending twice is harmless because every
stage is idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, select

from exchange.core.columns import UTCDateTime, timestamp, utcnow
from exchange.core.db import session_scope
from exchange.core.queue import QueueUnavailable, TaskQueue

log = logging.getLogger("mmx.outbox")
RELAY_BATCH = 500


class Outbox(SQLModel, table=True):
    """One stage of one subject (a submission or a release) to hand to the queue.
    ``dispatched_at`` is set once the queue took it, or once the stage started (whichever
    comes first)."""

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id", index=True)
    release_id: int | None = Field(default=None, foreign_key="release.id", index=True)
    stage: str = Field(max_length=20)
    created_at: datetime = timestamp()
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    attempts: int = 0


def relay(database_url: str, queue: TaskQueue, *, submission_ids: list[int] | None = None,
          release_ids: list[int] | None = None, older_than_seconds: float = 0) -> int:
    """Send pending outbox rows (all, or those of ``submission_ids``/``release_ids``); returns
    how many were sent. Stops at the first broker error: the rest wait for the next sweep."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with session_scope(database_url, writes=False) as session:
        query = select(Outbox.id, Outbox.stage, Outbox.submission_id, Outbox.release_id).where(
            Outbox.dispatched_at.is_(None), Outbox.created_at <= cutoff)  # type: ignore[union-attr]
        if submission_ids is not None:
            query = query.where(Outbox.submission_id.in_(submission_ids))  # type: ignore[union-attr]
        if release_ids is not None:
            query = query.where(Outbox.release_id.in_(release_ids))  # type: ignore[union-attr]
        pending = session.exec(query.order_by(Outbox.id).limit(RELAY_BATCH)).all()
    sent: list[int] = []
    failed: int | None = None
    for entry_id, stage, submission_id, release_id in pending:
        subject_id = submission_id if submission_id is not None else release_id
        try:
            queue.send(stage, int(subject_id))  # type: ignore[arg-type]
        except QueueUnavailable as exc:
            log.warning("outbox %s (%s) not sent: %s", entry_id, stage, exc,
                        extra={"submission_id" if submission_id is not None else "release_id":
                               subject_id})
            failed = entry_id
            break
        sent.append(entry_id)  # type: ignore[arg-type]
    if sent or failed is not None:
        with session_scope(database_url) as session:
            if sent:
                session.execute(sa.update(Outbox).where(Outbox.id.in_(sent))  # type: ignore[union-attr]
                                .values(dispatched_at=utcnow(), attempts=Outbox.attempts + 1))
            if failed is not None:
                session.execute(sa.update(Outbox).where(Outbox.id == failed)
                                .values(attempts=Outbox.attempts + 1))
    return len(sent)


def consume(session: sa.orm.Session, column: str, subject_id: int, stage: str) -> None:
    """Mark a stage's pending rows as taken: the stage is running, nothing needs sending.
    ``column`` is the outbox's reference to the subject (``submission_id``, ``release_id``)."""
    session.execute(sa.update(Outbox).where(
        getattr(Outbox, column) == subject_id, Outbox.stage == stage,
        Outbox.dispatched_at.is_(None)).values(dispatched_at=utcnow()))  # type: ignore[union-attr]


def pending_count(database_url: str) -> int:
    with session_scope(database_url, writes=False) as session:
        return int(session.exec(select(sa.func.count()).select_from(Outbox).where(
            Outbox.dispatched_at.is_(None))).one())  # type: ignore[union-attr]
