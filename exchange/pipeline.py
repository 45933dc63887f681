"""The processing stages of a submission, as the workers (and the in-process dispatcher) run
them. Each stage opens its own transactions and is idempotent: running it again after a crash,
a redelivery or a duplicate message has no further effect."""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa

from exchange.db import session_scope
from exchange.harmonization import harmonize_submission, rebuild_regional
from exchange.models import Outbox, Submission, SubmissionStatus, utcnow
from exchange.problems import Problem
from exchange.storage import FileStore
from exchange.submissions import lock_submission, record_status, validate_submission

log = logging.getLogger("mmx.pipeline")


def set_progress(database_url: str, submission_id: int, percent: int) -> None:
    with session_scope(database_url) as session:
        session.execute(sa.update(Submission).where(Submission.id == submission_id)
                        .values(progress=percent, updated_at=utcnow()))


def _enter(database_url: str, submission_id: int, expected: SubmissionStatus,
           stage: SubmissionStatus) -> bool:
    """Move ``expected`` -> ``stage`` in its own commit, so the stage shows while it runs.
    True if the stage should run (also when a crashed run left it in ``stage``)."""
    with session_scope(database_url) as session:
        try:
            submission = lock_submission(session, submission_id)
        except Problem:  # no such submission: nothing to do
            return False
        if submission.status == stage:
            submission.attempts += 1
            session.add(submission)
            return True
        if submission.status != expected:
            return False
        submission.attempts = 1
        record_status(session, submission, stage)
        return True


def validate(database_url: str, store_root: Path, submission_id: int) -> str:
    _enter(database_url, submission_id, SubmissionStatus.RECEIVED, SubmissionStatus.VALIDATING)
    set_progress(database_url, submission_id, 10)
    with session_scope(database_url) as session:
        status = validate_submission(session, FileStore(store_root), submission_id).status
        session.execute(sa.update(Outbox).where(Outbox.submission_id == submission_id,
                                                Outbox.dispatched_at.is_(None))
                        .values(dispatched_at=utcnow()))
    set_progress(database_url, submission_id, 40)
    log.info("validated: %s", status, extra={"submission_id": submission_id})
    return str(status)


def harmonize(database_url: str, store_root: Path, submission_id: int) -> str:
    if _enter(database_url, submission_id, SubmissionStatus.VALIDATED,
              SubmissionStatus.HARMONIZING):
        set_progress(database_url, submission_id, 50)
    with session_scope(database_url) as session:
        status = harmonize_submission(
            session, FileStore(store_root), submission_id,
            progress=lambda p: log.info("progress %s%%", p, extra={"submission_id": submission_id}),
        ).status
    set_progress(database_url, submission_id, 90)
    log.info("harmonized: %s", status, extra={"submission_id": submission_id})
    return str(status)


def aggregate(database_url: str, submission_id: int) -> list[str]:
    with session_scope(database_url) as session:
        submission = session.get(Submission, submission_id)
        if submission is None or submission.status != SubmissionStatus.HARMONIZED:
            return []
        regions = rebuild_regional(session, submission.ref_area, submission.period)
    set_progress(database_url, submission_id, 100)
    log.info("regional tables rebuilt: %s", ",".join(regions),
             extra={"submission_id": submission_id})
    return regions


def process_submission(database_url: str, store_root: Path, submission_id: int) -> str:
    """All stages in this process, in order (the embedded, no-queue path and the tests)."""
    status = validate(database_url, store_root, submission_id)
    if status == SubmissionStatus.VALIDATED:
        status = harmonize(database_url, store_root, submission_id)
        aggregate(database_url, submission_id)
    return status
