"""What a stage runs on: a submission (validate, harmonize, aggregate) or a release (build).
Both carry the same lifecycle columns (``next_stage``, ``attempts``, ``progress``, ``status``,
``failure_reason``, ``updated_at``), so one runner, one outbox and one sweeper serve both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from exchange.audit.service import Action
from exchange.core.columns import utcnow
from exchange.publication.models import Release
from exchange.publication.status import ReleaseStatus
from exchange.submissions.lifecycle import record_status
from exchange.submissions.models import Submission
from exchange.submissions.status import SubmissionStatus


def _set_release_status(session: Session, release: Any, status: str) -> None:
    release.status = status
    release.updated_at = utcnow()
    session.add(release)


@dataclass(frozen=True)
class Subject:
    name: str
    model: Any  # a table model with the lifecycle columns
    failed: str  # the status of a subject whose stage was given up
    failed_action: Action
    outbox_column: str  # the outbox's reference to it
    record_status: Callable[[Session, Any, Any], None]

    @property
    def log_key(self) -> str:
        """The field its id goes under in log lines (``submission_id``, ``release_id``)."""
        return f"{self.name}_id"

    def lock(self, session: Session, subject_id: int) -> Any | None:
        """The row, locked for this transaction: a duplicate delivery of the same task waits
        here, then sees the first one's result and does nothing."""
        return session.exec(select(self.model).where(self.model.id == subject_id)
                            .with_for_update()).first()


SUBMISSION = Subject("submission", Submission, SubmissionStatus.FAILED,
                     Action.SUBMISSION_FAILED, "submission_id", record_status)
RELEASE = Subject("release", Release, ReleaseStatus.FAILED, Action.RELEASE_FAILED,
                  "release_id", _set_release_status)
SUBJECTS = (SUBMISSION, RELEASE)
