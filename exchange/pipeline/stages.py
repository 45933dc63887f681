"""The pipeline, declared once: every runner, the sweeper, the operator overview and the
status reporting read this table.

A stage runs on a subject (a submission, or a release) and is due when the subject's
``next_stage`` names it. Running it has three steps:
*claim* (a short writing transaction: check it is still due, count the attempt, enter the
``running`` status), *work* (the heavy part, outside any writing transaction) and *complete*
(a short writing transaction: record the result, move to the stage's status, make the next
stage due with an outbox row). A stage whose ``complete`` returns a status other than
``succeeded`` (a rejection) ends the pipeline. Adding a stage is adding one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from exchange.core.storage import FileStore
from exchange.harmonization.service import harmonized_rows, replace_observations
from exchange.indicators import service as indicators
from exchange.pipeline.subjects import RELEASE, SUBMISSION, Subject
from exchange.publication import service as publication
from exchange.publication.status import ReleaseStatus
from exchange.regional.service import mark_regions_stale, rebuild_regional
from exchange.submissions import validation
from exchange.submissions.models import Submission
from exchange.submissions.status import SubmissionStatus
from standards.validation.limits import ReadLimits

# Errors worth another attempt: the database or its connection hiccuped, or a duplicate
# delivery raced this one to the same row (the next attempt finds the stage done).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, sa.exc.IntegrityError)


@dataclass(frozen=True)
class RetryPolicy:
    """How often a stage is tried before its submission ends ``failed``. Every delivery
    counts, including one whose worker died, so a file that kills workers cannot loop."""

    max_attempts: int = 5
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 120.0
    transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS

    def delay(self, attempt: int) -> float:
        return min(self.backoff_seconds * 2 ** max(attempt - 1, 0), self.backoff_max_seconds)


@dataclass(frozen=True)
class StageContext:
    store: FileStore
    limits: ReadLimits
    database_url: str = ""  # for work that reads the database (in its own read transaction)
    release_coverage_share: float = 0.0  # see Settings.release_coverage_share
    release_threads: int = 0  # see Settings.release_threads


Work = Callable[[StageContext, Any], Any]
Complete = Callable[[Session, Any, Any], Any]


@dataclass(frozen=True)
class Stage:
    name: str
    running: Any  # the subject's status while the stage runs (None: status unchanged)
    succeeded: Any  # after success (None: status unchanged); another status ends the pipeline
    progress: tuple[int, int]  # percent at claim and at completion
    work: Work
    complete: Complete
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    subject: Subject = SUBMISSION
    # The subject's status when this stage is given up; None: the subject's ``failed``.
    given_up: Any = None


def _validate_work(context: StageContext, submission: Submission) -> Any:
    return validation.validate_stored(context.store, submission, context.limits)


def _harmonize_work(context: StageContext, submission: Submission) -> Any:
    return harmonized_rows(context.store, submission, context.limits)


def _harmonize_complete(session: Session, submission: Submission, rows: Any
                        ) -> SubmissionStatus:
    if replace_observations(session, submission, rows):
        mark_regions_stale(session, submission.ref_area, submission.period)
    return SubmissionStatus.HARMONIZED


def _aggregate_complete(session: Session, submission: Submission, share: float) -> None:
    rebuilt = rebuild_regional(session, submission.ref_area, submission.period)
    # Enough of a region signed off: the next release of the period is queued (the workers'
    # sweeper relays it).
    publication.release_if_covered(session, period=submission.period, regions=rebuilt,
                                   share=share)


STAGES: tuple[Stage, ...] = (
    Stage(validation.STAGE, running=SubmissionStatus.VALIDATING,
          succeeded=SubmissionStatus.VALIDATED, progress=(10, 40),
          work=_validate_work, complete=validation.record_verdict),
    Stage("harmonize", running=SubmissionStatus.HARMONIZING,
          succeeded=SubmissionStatus.HARMONIZED, progress=(50, 90),
          work=_harmonize_work, complete=_harmonize_complete),
    Stage("aggregate", running=None, succeeded=None, progress=(90, 100),
          work=lambda context, _submission: context.release_coverage_share,
          complete=_aggregate_complete),
    # A release of a period: its tables gathered and protected (disclosure control), then
    # published with their audit, or refused when the audit finds a cell under-protected.
    Stage(publication.STAGE, running=ReleaseStatus.BUILDING,
          succeeded=ReleaseStatus.PUBLISHED, progress=(10, 90),
          work=lambda context, release: publication.build(
              context.database_url, release, threads=context.release_threads),
          complete=publication.complete, subject=RELEASE,
          retry=RetryPolicy(max_attempts=3)),
    # The indicators of a published release (a refused one never gets here: only success
    # makes the next stage due). A stage of its own rather than part of ``release``: it
    # reads the cells as stored, exactly what the public reads, so an indicator is a function
    # of published values by construction, not of the solver's frame; and a failure here is
    # retried on its own and never withdraws a release whose audit already passed (given up,
    # the release stays published, with the reason, and its period's indicators stay those
    # of the previous vintage).
    Stage(indicators.STAGE, running=None, succeeded=None, progress=(90, 100),
          work=lambda context, release: indicators.compute(context.database_url, release),
          complete=indicators.store, subject=RELEASE, retry=RetryPolicy(max_attempts=3),
          given_up=ReleaseStatus.PUBLISHED),
)
BY_NAME = {stage.name: stage for stage in STAGES}


def following(stage: Stage) -> Stage | None:
    """The next stage of the same subject in the table, if any."""
    later = STAGES[[s.name for s in STAGES].index(stage.name) + 1:]
    return next((s for s in later if s.subject is stage.subject), None)

