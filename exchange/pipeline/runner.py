"""Running one stage of one subject (a submission or a release): claim, work, complete (see
``stages.py``). The in-process runner (``inline.py``) and the Celery tasks (``workers``) both
call ``run_stage`` and ``fail``; neither knows the order of stages.

Idempotent by construction: a stage runs only while the subject's ``next_stage`` names it,
so a redelivered, duplicated or stale message changes nothing, and status and progress never
move backwards. No writing transaction is open while a stage works.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from exchange.audit.service import record
from exchange.core import outbox
from exchange.core.config import Settings
from exchange.core.db import session_scope
from exchange.core.storage import FileStore
from exchange.pipeline.stages import BY_NAME, Stage, StageContext, following
from standards.validation.limits import DEFAULT_LIMITS, ReadLimits

log = logging.getLogger("mmx.pipeline")


@dataclass(frozen=True)
class Pipeline:
    """Where the pipeline's data lives: what every runner needs."""

    database_url: str
    store: FileStore
    limits: ReadLimits = DEFAULT_LIMITS
    release_coverage_share: float = 0.0
    release_threads: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        return cls(database_url=settings.resolved_database_url,
                   store=FileStore(settings.resolved_file_store), limits=settings.read_limits(),
                   release_coverage_share=settings.release_coverage_share,
                   release_threads=settings.release_threads)


def run_stage(pipeline: Pipeline, stage_name: str, subject_id: int) -> str | None:
    """Run ``stage_name`` if it is due; returns the stage due next (its outbox row is
    committed), or None. Errors propagate: the runner decides between retry and ``fail``."""
    stage = BY_NAME[stage_name]
    extra = {stage.subject.log_key: subject_id}
    subject = _claim(pipeline, stage, subject_id)
    if subject is None:
        return None
    log.info("%s: started (attempt %s)", stage.name, subject.attempts, extra=extra)
    result = stage.work(StageContext(store=pipeline.store, limits=pipeline.limits,
                                     database_url=pipeline.database_url,
                                     release_coverage_share=pipeline.release_coverage_share,
                                     release_threads=pipeline.release_threads),
                        subject)
    next_stage = _complete(pipeline, stage, subject_id, result)
    log.info("%s: done, next %s", stage.name, next_stage or "nothing", extra=extra)
    return next_stage


def _claim(pipeline: Pipeline, stage: Stage, subject_id: int) -> object | None:
    kind = stage.subject
    with session_scope(pipeline.database_url) as session:
        subject = kind.lock(session, subject_id)
        if subject is None or subject.next_stage != stage.name:
            return None  # gone, done already, or not due: a duplicate or stale message
        outbox.consume(session, kind.outbox_column, subject_id, stage.name)
        if subject.attempts >= stage.retry.max_attempts:
            _give_up(session, stage, subject, f"{stage.name} was attempted {subject.attempts} "
                     "times without finishing (the worker stopped or failed each time); "
                     "giving up")
            return None
        subject.attempts += 1
        subject.progress = max(subject.progress, stage.progress[0])
        if stage.running is not None and subject.status != stage.running:
            kind.record_status(session, subject, stage.running)
        session.add(subject)
    return subject


def _complete(pipeline: Pipeline, stage: Stage, subject_id: int, result: object
              ) -> str | None:
    kind = stage.subject
    with session_scope(pipeline.database_url) as session:
        subject = kind.lock(session, subject_id)
        if subject is None or subject.next_stage != stage.name:
            return None  # a duplicate finished it first; its result stands
        status = stage.complete(session, subject, result)
        ended = status if status is not None else subject.status
        if ended != subject.status:
            kind.record_status(session, subject, ended)
        after = following(stage) if status == stage.succeeded else None
        subject.next_stage = after.name if after else None
        subject.progress = max(subject.progress, stage.progress[1])
        subject.attempts = 0
        subject.failure_reason = None
        session.add(subject)
        if after is not None:
            session.add(outbox.Outbox(**{kind.outbox_column: subject_id}, stage=after.name))
        return str(subject.next_stage) if subject.next_stage else None


def fail(pipeline: Pipeline, stage_name: str, subject_id: int, error: BaseException) -> None:
    """Record a permanent failure of ``stage_name`` with its reason, unless the subject has
    moved on meanwhile (a duplicate succeeded)."""
    stage = BY_NAME[stage_name]
    kind = stage.subject
    reason = f"{type(error).__name__}: {error}"
    log.error("%s failed for good: %s", stage_name, reason, extra={kind.log_key: subject_id},
              exc_info=error)
    with session_scope(pipeline.database_url) as session:
        subject = kind.lock(session, subject_id)
        if subject is not None and subject.next_stage == stage_name:
            _give_up(session, stage, subject, reason)


def _give_up(session: Session, stage: Stage, subject: Any, reason: str) -> None:
    kind = stage.subject
    subject.failure_reason = reason[:1000]
    subject.next_stage = None
    status = stage.given_up if stage.given_up is not None else kind.failed
    if status != subject.status:
        kind.record_status(session, subject, status)
    record(session, actor="system", action=kind.failed_action,
           target=f"{kind.name}/{subject.id}", detail={"stage": stage.name,
                                                       "reason": reason[:200]})
