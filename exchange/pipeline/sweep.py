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
from exchange.pipeline.subjects import SUBJECTS, SUBMISSION, Subject
from exchange.publication import service as publication

log = logging.getLogger("mmx.sweeper")
# Rows younger than this are left to the request or task that wrote them to relay.
RELAY_GRACE_SECONDS = 2.0


def stuck(stuck_after_seconds: float, subject: Subject = SUBMISSION
          ) -> sa.ColumnElement[bool]:
    """Subjects with a stage due and untouched for ``stuck_after_seconds``: what the sweeper
    re-sends and the operator overview lists."""
    cutoff = utcnow() - timedelta(seconds=stuck_after_seconds)
    model = subject.model
    return sa.and_(model.next_stage.is_not(None), model.updated_at < cutoff)


def requeue_stuck(database_url: str, queue: TaskQueue, stuck_after_seconds: float) -> int:
    return sum(_requeue(database_url, queue, stuck_after_seconds, subject)
               for subject in SUBJECTS)


def _requeue(database_url: str, queue: TaskQueue, stuck_after_seconds: float,
             subject: Subject) -> int:
    model = subject.model
    with session_scope(database_url, writes=False) as session:
        due = session.exec(select(model.id, model.next_stage)
                           .where(stuck(stuck_after_seconds, subject))
                           .order_by(model.updated_at).limit(500)).all()
    sent = []
    for subject_id, stage in due:
        try:
            queue.send(str(stage), int(subject_id))
        except QueueUnavailable as exc:
            log.warning("re-enqueue failed: %s", exc, extra={subject.log_key: subject_id})
            break
        log.info("re-enqueued stuck stage %s", stage, extra={subject.log_key: subject_id})
        sent.append(subject_id)
    if sent:
        # Touched, so the next sweep waits a full period before trying again.
        with session_scope(database_url) as session:
            session.execute(sa.update(model).where(model.id.in_(sent))
                            .values(updated_at=utcnow()))
    return len(sent)


def sweep(database_url: str, queue: TaskQueue, stuck_after_seconds: float) -> tuple[int, int]:
    """Queue the releases the calendar says are due, relay outbox rows, re-send stuck work."""
    scheduled = publication.release_due(database_url)
    relayed = outbox.relay(database_url, queue, older_than_seconds=RELAY_GRACE_SECONDS)
    if scheduled:
        relayed += outbox.relay(database_url, queue, release_ids=scheduled)
    return relayed, requeue_stuck(database_url, queue, stuck_after_seconds)
