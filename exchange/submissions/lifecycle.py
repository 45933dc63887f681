"""Moving a submission through its statuses: the row lock every stage takes, and the history
every transition leaves."""

from __future__ import annotations

from sqlmodel import Session, select

from exchange.core.columns import utcnow
from exchange.core.problems import not_found
from exchange.submissions.models import StatusChange, Submission
from exchange.submissions.status import SubmissionStatus


def lock_submission(session: Session, submission_id: int) -> Submission:
    """The submission row, locked for this transaction: a duplicate delivery of the same task
    waits here, then sees the first one's result and does nothing."""
    submission = session.exec(select(Submission).where(Submission.id == submission_id)
                              .with_for_update()).first()
    if submission is None:
        raise not_found(f"Submission {submission_id}")
    return submission


def record_status(session: Session, submission: Submission, status: SubmissionStatus) -> None:
    """Move a submission to ``status`` and keep the transition, with its time, in the history."""
    submission.status = status
    submission.updated_at = utcnow()
    session.add(submission)
    session.flush()
    session.add(StatusChange(submission_id=submission.id, status=status))
