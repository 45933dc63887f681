"""What the workers' sweeper does on every pass: relay outbox rows the queue never got, and
re-send stages that stayed due too long (a worker killed mid-task, a message lost with a
restarted broker). Sending twice is harmless: a stage runs only while it is due."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from exchange.core import outbox
from exchange.core.columns import utcnow
from exchange.core.db import session_scope
from exchange.core.queue import QueueUnavailable, TaskQueue
from exchange.submissions.models import Submission

log = logging.getLogger("mmx.sweeper")
# Rows younger than this are left to the request or task that wrote them to relay.
RELAY_GRACE_SECONDS = 2.0


def stuck(stuck_after_seconds: float) -> sa.ColumnElement[bool]:
    """Submissions with a stage due and untouched for ``stuck_after_seconds``: what the sweeper
    re-sends and the operator overview lists."""
    cutoff = utcnow() - timedelta(seconds=stuck_after_seconds)
    return sa.and_(Submission.next_stage.is_not(None),  # type: ignore[union-attr]
                   Submission.updated_at < cutoff)


def requeue_stuck(database_url: str, queue: TaskQueue, stuck_after_seconds: float) -> int:
    with session_scope(database_url, writes=False) as session:
        due = session.exec(select(Submission.id, Submission.next_stage)
                           .where(stuck(stuck_after_seconds))
                           .order_by(Submission.updated_at).limit(500)).all()
    sent = []
    for submission_id, stage in due:
        try:
            queue.send(str(stage), int(submission_id))  # type: ignore[arg-type]
        except QueueUnavailable as exc:
            log.warning("re-enqueue failed: %s", exc, extra={"submission_id": submission_id})
            break
        log.info("re-enqueued stuck stage %s", stage, extra={"submission_id": submission_id})
        sent.append(submission_id)
    if sent:
        # Touched, so the next sweep waits a full period before trying again.
        with session_scope(database_url) as session:
            session.execute(sa.update(Submission).where(Submission.id.in_(sent))  # type: ignore[union-attr]
                            .values(updated_at=utcnow()))
    return len(sent)


def sweep(database_url: str, queue: TaskQueue, stuck_after_seconds: float) -> tuple[int, int]:
    return (outbox.relay(database_url, queue, older_than_seconds=RELAY_GRACE_SECONDS),
            requeue_stuck(database_url, queue, stuck_after_seconds))
