"""Celery tasks. Each calls one idempotent pipeline stage and hands the next stage to the queue;
transient database errors retry with exponential backoff; a permanent failure is recorded on
the submission with its reason."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from celery import Task

from exchange import pipeline
from exchange.config import get_settings
from exchange.db import session_scope
from exchange.models import Submission, SubmissionStatus
from exchange.submissions import record_status
from workers.celery_app import app

log = logging.getLogger("mmx.worker")
# IntegrityError: a duplicate delivery raced this one to the same row; the retry finds the
# stage done and does nothing.
TRANSIENT = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError,
             sa.exc.IntegrityError)


class SubmissionTask(Task):
    """Records permanent failure (retries exhausted, or a non-transient error) on the row."""

    autoretry_for = TRANSIENT
    retry_backoff = 2
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 8

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any,
                   einfo: Any) -> None:
        submission_id = args[0] if args else None
        if not isinstance(submission_id, int):
            return
        log.error("permanent failure: %s", exc, extra={"submission_id": submission_id})
        settings = get_settings()
        with session_scope(settings.resolved_database_url) as session:
            submission = session.get(Submission, submission_id)
            if submission is None or submission.status in (SubmissionStatus.REJECTED,
                                                           SubmissionStatus.HARMONIZED):
                return
            submission.failure_reason = f"{type(exc).__name__}: {exc}"[:1000]
            record_status(session, submission, SubmissionStatus.FAILED)


def _paths() -> tuple[str, Any]:
    settings = get_settings()
    return settings.resolved_database_url, settings.resolved_file_store


@app.task(base=SubmissionTask, name="mmx.validate")
def validate(submission_id: int) -> str:
    url, store = _paths()
    status = pipeline.validate(url, store, submission_id)
    if status == SubmissionStatus.VALIDATED:
        harmonize.apply_async((submission_id,))
    return status


@app.task(base=SubmissionTask, name="mmx.harmonize")
def harmonize(submission_id: int) -> str:
    url, store = _paths()
    status = pipeline.harmonize(url, store, submission_id)
    if status == SubmissionStatus.HARMONIZED:
        aggregate.apply_async((submission_id,))
    return status


@app.task(base=SubmissionTask, name="mmx.aggregate")
def aggregate(submission_id: int) -> list[str]:
    url, _ = _paths()
    return pipeline.aggregate(url, submission_id)


STAGE_TASKS = {
    SubmissionStatus.RECEIVED: validate,
    SubmissionStatus.VALIDATING: validate,
    SubmissionStatus.VALIDATED: harmonize,
    SubmissionStatus.HARMONIZING: harmonize,
}
