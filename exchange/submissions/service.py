"""Reading submissions back: what each caller may see, listings, revisions, history, reports
and raw files. Every decision about who sees what is asked of ``exchange.auth.policy``."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from exchange.audit.service import Action, record
from exchange.auth import policy
from exchange.auth.principal import Principal
from exchange.core.problems import forbidden, not_found
from exchange.core.storage import FileStore
from exchange.submissions.models import StatusChange, Submission, ValidationReport
from standards.validation import Report


def get_visible(session: Session, principal: Principal, submission_id: int) -> Submission:
    """A submission the principal may see. Others' submissions are reported as missing, not
    forbidden, so ids do not reveal what other states uploaded."""
    submission = session.get(Submission, submission_id)
    if submission is None or not policy.allows(principal, policy.Permission.VIEW_SUBMISSIONS,
                                               submission.ref_area):
        raise not_found(f"Submission {submission_id}")
    return submission


def list_submissions(session: Session, principal: Principal, *, ref_area: str | None,
                     period: str | None, status: str | None, limit: int, offset: int
                     ) -> tuple[list[Submission], int]:
    only = policy.states_visible(principal, policy.Permission.VIEW_SUBMISSIONS)
    if only is not None:
        if ref_area is not None and ref_area != only:
            raise forbidden(f"This client sees {only} only, not {ref_area}.")
        ref_area = only
    conditions = []
    if ref_area is not None:
        conditions.append(Submission.ref_area == ref_area)
    if period is not None:
        conditions.append(Submission.period == period)
    if status is not None:
        conditions.append(Submission.status == status)
    total = session.exec(select(sa.func.count()).select_from(Submission).where(*conditions)).one()
    items = session.exec(select(Submission).where(*conditions)
                         .order_by(Submission.id.desc())  # type: ignore[union-attr]
                         .limit(limit).offset(offset)).all()
    return list(items), int(total)


def revisions(session: Session, submission: Submission) -> list[Submission]:
    return list(session.exec(select(Submission).where(
        Submission.dataset_id == submission.dataset_id).order_by(Submission.revision)).all())


def history(session: Session, submission: Submission) -> list[StatusChange]:
    return list(session.exec(select(StatusChange).where(
        StatusChange.submission_id == submission.id).order_by(StatusChange.id)).all())


def read_report(session: Session, principal: Principal, submission: Submission) -> Report | None:
    """The validation report (None before validation); the read is audited."""
    policy.require_state(principal, policy.Permission.READ_RAW, submission.ref_area)
    row = session.exec(select(ValidationReport).where(
        ValidationReport.submission_id == submission.id)).first()
    if row is None:
        return None
    record(session, actor=principal.client_id, action=Action.REPORT_READ,
           target=f"submission/{submission.id}")
    return Report.from_dict(row.report)


def open_raw_file(session: Session, store: FileStore, principal: Principal,
                  submission: Submission) -> Path:
    policy.require_state(principal, policy.Permission.READ_RAW, submission.ref_area)
    record(session, actor=principal.client_id, action=Action.RAW_FILE_READ,
           target=f"submission/{submission.id}")
    return store.path(submission.storage_key)
