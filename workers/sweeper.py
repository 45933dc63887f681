"""The sweeper: sends outbox entries the broker never got, and re-enqueues submissions stuck
in a stage for too long (a worker killed mid-task, a message lost with a restarted broker).
Sending twice is harmless: every stage is idempotent."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from exchange.config import Settings
from exchange.db import session_scope
from exchange.models import Outbox, Submission, SubmissionStatus, utcnow

log = logging.getLogger("mmx.sweeper")
_started = threading.Event()


def relay_outbox(settings: Settings, submission_ids: list[int] | None = None) -> int:
    """Send undispatched outbox entries (all, or those of ``submission_ids``); returns sent."""
    from workers.celery_app import producer_for

    producer = producer_for(settings)
    sent = 0
    with session_scope(settings.resolved_database_url) as session:
        query = select(Outbox).where(Outbox.dispatched_at.is_(None))  # type: ignore[union-attr]
        if submission_ids is not None:
            query = query.where(Outbox.submission_id.in_(submission_ids))  # type: ignore[attr-defined]
        pending = session.exec(query.order_by(Outbox.id).limit(500)).all()
        for entry in pending:
            entry.attempts += 1
            try:
                producer.send_task("mmx.validate", (entry.submission_id,), retry=False)
            except Exception as exc:  # the broker is down: leave it for the next sweep
                log.warning("outbox %s not sent: %s", entry.id, exc,
                            extra={"submission_id": entry.submission_id})
                session.add(entry)
                break
            entry.dispatched_at = utcnow()
            session.add(entry)
            sent += 1
    return sent


def requeue_stuck(settings: Settings) -> int:
    from workers.celery_app import producer_for
    from workers.tasks import STAGE_TASKS

    producer = producer_for(settings)
    cutoff = utcnow() - timedelta(seconds=settings.stuck_after_seconds)
    with session_scope(settings.resolved_database_url) as session:
        stuck = session.exec(select(Submission).where(
            Submission.status.in_(list(STAGE_TASKS)),  # type: ignore[attr-defined]
            Submission.updated_at < cutoff)).all()
        for submission in stuck:
            task = STAGE_TASKS[SubmissionStatus(submission.status)]
            try:
                producer.send_task(task.name, (submission.id,), retry=False)
            except Exception as exc:
                log.warning("re-enqueue failed: %s", exc, extra={"submission_id": submission.id})
                return 0
            # Touch it so the next sweep waits a full period before trying again.
            session.execute(sa.update(Submission).where(Submission.id == submission.id)
                            .values(updated_at=utcnow()))
            log.info("re-enqueued stuck %s work", submission.status,
                     extra={"submission_id": submission.id})
    return len(stuck)


def sweep(settings: Settings) -> tuple[int, int]:
    return relay_outbox(settings), requeue_stuck(settings)


def start_background_sweeper(settings: Settings) -> None:
    """One daemon thread per worker process, sweeping every ``sweep_interval_seconds``."""
    if _started.is_set():
        return
    _started.set()

    def loop() -> None:
        while True:
            try:
                sweep(settings)
            except Exception:
                log.exception("sweep failed")
            threading.Event().wait(settings.sweep_interval_seconds)

    threading.Thread(target=loop, name="mmx-sweeper", daemon=True).start()
