"""The pipeline, declared once: every runner, the sweeper, the operator overview and the
status reporting read this table.

A stage is due when the submission's ``next_stage`` names it. Running it has three steps:
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


Work = Callable[[StageContext, Submission], Any]
Complete = Callable[[Session, Submission, Any], SubmissionStatus | None]


@dataclass(frozen=True)
class Stage:
    name: str
    running: SubmissionStatus | None  # shown while the stage runs (None: status unchanged)
    succeeded: SubmissionStatus | None  # after success (None: status unchanged)
    progress: tuple[int, int]  # percent at claim and at completion
    work: Work
    complete: Complete
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def _validate_work(context: StageContext, submission: Submission) -> Any:
    return validation.validate_stored(context.store, submission, context.limits)


def _harmonize_work(context: StageContext, submission: Submission) -> Any:
    return harmonized_rows(context.store, submission, context.limits)


def _harmonize_complete(session: Session, submission: Submission, rows: Any
                        ) -> SubmissionStatus:
    if replace_observations(session, submission, rows):
        mark_regions_stale(session, submission.ref_area, submission.period)
    return SubmissionStatus.HARMONIZED


def _aggregate_complete(session: Session, submission: Submission, _nothing: Any) -> None:
    rebuild_regional(session, submission.ref_area, submission.period)


STAGES: tuple[Stage, ...] = (
    Stage(validation.STAGE, running=SubmissionStatus.VALIDATING,
          succeeded=SubmissionStatus.VALIDATED, progress=(10, 40),
          work=_validate_work, complete=validation.record_verdict),
    Stage("harmonize", running=SubmissionStatus.HARMONIZING,
          succeeded=SubmissionStatus.HARMONIZED, progress=(50, 90),
          work=_harmonize_work, complete=_harmonize_complete),
    Stage("aggregate", running=None, succeeded=None, progress=(90, 100),
          work=lambda _context, _submission: None, complete=_aggregate_complete),
)
BY_NAME = {stage.name: stage for stage in STAGES}


def following(stage: Stage) -> Stage | None:
    index = [s.name for s in STAGES].index(stage.name)
    return BY_NAME[STAGES[index + 1].name] if index + 1 < len(STAGES) else None

