"""Running one stage of one submission: claim, work, complete (see ``stages.py``). The
in-process runner (``inline.py``) and the Celery tasks (``workers``) both call ``run_stage``
and ``fail``; neither knows the order of stages.

Idempotent by construction: a stage runs only while the submission's ``next_stage`` names it,
so a redelivered, duplicated or stale message changes nothing, and status and progress never
move backwards. No writing transaction is open while a stage works.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session

from exchange.audit.service import Action, record
from exchange.core import outbox
from exchange.core.config import Settings
from exchange.core.db import session_scope
from exchange.core.problems import Problem
from exchange.core.storage import FileStore
from exchange.pipeline.stages import BY_NAME, Stage, StageContext, following
from exchange.submissions.lifecycle import lock_submission, record_status
from exchange.submissions.models import Submission
from exchange.submissions.status import SubmissionStatus
from standards.validation.limits import DEFAULT_LIMITS, ReadLimits

log = logging.getLogger("mmx.pipeline")


@dataclass(frozen=True)
class Pipeline:
    """Where the pipeline's data lives: what every runner needs."""

    database_url: str
    store: FileStore
    limits: ReadLimits = DEFAULT_LIMITS

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        return cls(database_url=settings.resolved_database_url,
                   store=FileStore(settings.resolved_file_store), limits=settings.read_limits())


def run_stage(pipeline: Pipeline, stage_name: str, submission_id: int) -> str | None:
    """Run ``stage_name`` if it is due; returns the stage due next (its outbox row is
    committed), or None. Errors propagate: the runner decides between retry and ``fail``."""
    stage = BY_NAME[stage_name]
    submission = _claim(pipeline, stage, submission_id)
    if submission is None:
        return None
    log.info("%s: started (attempt %s)", stage.name, submission.attempts,
             extra={"submission_id": submission_id})
    result = stage.work(StageContext(store=pipeline.store, limits=pipeline.limits), submission)
    next_stage = _complete(pipeline, stage, submission_id, result)
    log.info("%s: done, next %s", stage.name, next_stage or "nothing",
             extra={"submission_id": submission_id})
    return next_stage


def _claim(pipeline: Pipeline, stage: Stage, submission_id: int) -> Submission | None:
    with session_scope(pipeline.database_url) as session:
        try:
            submission = lock_submission(session, submission_id)
        except Problem:  # no such submission: nothing to do
            return None
        if submission.next_stage != stage.name:
            return None  # done already, or not due: a duplicate or stale message
        outbox.consume(session, submission_id, stage.name)
        if submission.attempts >= stage.retry.max_attempts:
            _give_up(session, submission, f"{stage.name} was attempted "
                     f"{submission.attempts} times without finishing (the worker stopped or "
                     "failed each time); giving up")
            return None
        submission.attempts += 1
        submission.progress = max(submission.progress, stage.progress[0])
        if stage.running is not None and submission.status != stage.running:
            record_status(session, submission, stage.running)
        session.add(submission)
    return submission


def _complete(pipeline: Pipeline, stage: Stage, submission_id: int, result: object
              ) -> str | None:
    with session_scope(pipeline.database_url) as session:
        submission = lock_submission(session, submission_id)
        if submission.next_stage != stage.name:
            return None  # a duplicate finished it first; its result stands
        status = stage.complete(session, submission, result)
        ended = status if status is not None else SubmissionStatus(submission.status)
        if ended != submission.status:
            record_status(session, submission, ended)
        after = following(stage) if status == stage.succeeded else None
        submission.next_stage = after.name if after else None
        submission.progress = max(submission.progress, stage.progress[1])
        submission.attempts = 0
        submission.failure_reason = None
        session.add(submission)
        if after is not None:
            session.add(outbox.Outbox(submission_id=submission_id, stage=after.name))
        return submission.next_stage


def fail(pipeline: Pipeline, stage_name: str, submission_id: int, error: BaseException) -> None:
    """Record a permanent failure of ``stage_name`` with its reason, unless the submission has
    moved on meanwhile (a duplicate succeeded)."""
    reason = f"{type(error).__name__}: {error}"
    log.error("%s failed for good: %s", stage_name, reason,
              extra={"submission_id": submission_id})
    with session_scope(pipeline.database_url) as session:
        try:
            submission = lock_submission(session, submission_id)
        except Problem:
            return
        if submission.next_stage == stage_name:
            _give_up(session, submission, reason)


def _give_up(session: Session, submission: Submission, reason: str) -> None:
    submission.failure_reason = reason[:1000]
    submission.next_stage = None
    record_status(session, submission, SubmissionStatus.FAILED)
    record(session, actor="system", action=Action.SUBMISSION_FAILED,
           target=f"submission/{submission.id}", detail={"reason": reason[:200]})
