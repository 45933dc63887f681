"""The validation stage: the standard's one engine run on a stored upload, and its verdict
recorded. The engine runs outside any writing transaction (``validate_stored``); recording the
verdict is a short one (``record_verdict``)."""

from __future__ import annotations

from sqlmodel import Session, select

from exchange.audit.service import Action, record
from exchange.core.storage import FileStore
from exchange.submissions.models import Submission, ValidationReport
from exchange.submissions.status import SubmissionStatus
from standards.validation import Report, validate_file
from standards.validation.limits import ReadLimits

STAGE = "validate"


def validate_stored(store: FileStore, submission: Submission, limits: ReadLimits) -> Report:
    return validate_file(store.path(submission.storage_key), country=submission.ref_area,
                         period=submission.period, file_format=submission.file_format,
                         standard_version=submission.standard_version, limits=limits,
                         rounding=submission.rounding_base or 0)


def record_verdict(session: Session, submission: Submission, report: Report
                   ) -> SubmissionStatus:
    """Keep the report (replacing one a crashed attempt left) and return the verdict."""
    existing = session.exec(select(ValidationReport).where(
        ValidationReport.submission_id == submission.id)).first()
    if existing is not None:
        session.delete(existing)
        session.flush()
    session.add(ValidationReport(submission_id=submission.id, valid=report.valid,
                                 usable=report.usable, error_count=report.error_count,
                                 report=report.as_dict()))
    submission.rows = report.rows
    submission.error_count = report.error_count
    session.add(submission)
    record(session, actor="system", action=Action.SUBMISSION_VALIDATED,
           target=f"submission/{submission.id}",
           detail={"valid": report.valid, "errors": report.error_count})
    return SubmissionStatus.VALIDATED if report.valid else SubmissionStatus.REJECTED
