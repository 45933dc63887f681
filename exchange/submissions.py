"""Submission services: receive an upload, validate it, read it back. Routes and workers call
these; nothing here knows about HTTP requests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO

import sqlalchemy as sa
from sqlmodel import Session, select

from exchange import audit
from exchange.auth import Principal, Role
from exchange.models import (
    Dataset,
    Outbox,
    State,
    StatusChange,
    Submission,
    SubmissionStatus,
    ValidationReport,
    utcnow,
)
from exchange.problems import Problem, forbidden, not_found
from exchange.storage import FileStore, StoredFile, TooLarge
from standards import load_standard
from standards.mappings import known_versions
from standards.validation import (
    FileFormat,
    Report,
    UnusableInput,
    csv_header,
    identifier_columns,
    validate_file,
)

ACCEPTED_CONTENT_TYPES = frozenset({
    "text/csv", "application/csv", "text/plain", "application/octet-stream",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
})


@dataclass(frozen=True)
class UploadMeta:
    ref_area: str
    period: str
    standard_version: str
    filename: str
    content_type: str
    emergency: bool = False
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Received:
    submission: Submission
    created: bool  # False: an identical upload was recognised and nothing new was made


def _check_declared(session: Session, meta: UploadMeta) -> None:
    standard = load_standard()
    if meta.standard_version not in known_versions():
        raise Problem(422, "unknown-standard-version", "Unknown standard version",
                      f"Version {meta.standard_version!r} is not known; use one of "
                      f"{', '.join(known_versions())}.")
    if not re.fullmatch(standard.dimension["TIME_PERIOD"].pattern or "", meta.period):
        raise Problem(422, "invalid-period", "Invalid period",
                      f"{meta.period!r} is not a quarter; write YYYY-Qn, e.g. 2026-Q3.")
    if session.get(State, meta.ref_area) is None:
        raise Problem(422, "unknown-state", "Unknown reporting state",
                      f"{meta.ref_area!r} is not a state registered with the exchange.")
    if meta.content_type.split(";")[0].strip().lower() not in ACCEPTED_CONTENT_TYPES:
        raise Problem(415, "unsupported-media-type", "Unsupported media type",
                      f"Files of type {meta.content_type!r} are not accepted; upload CSV, "
                      "SDMX-CSV or XLSX.")


def _file_format(stored: StoredFile) -> FileFormat:
    if stored.head.startswith(b"PK\x03\x04"):
        return FileFormat.XLSX
    try:
        header, _ = csv_header(stored.head, stored.size)
    except UnusableInput:
        return FileFormat.CSV  # the validator will say precisely what is wrong with it
    first = header[0].strip().upper() if header else ""
    return FileFormat.SDMX_CSV if first == "DATAFLOW" else FileFormat.CSV


def _refuse_identifiers(stored: StoredFile, store: FileStore, session: Session) -> None:
    """Purpose limitation: a file whose header names personal identifiers is not kept at all."""
    try:
        header, _ = csv_header(stored.head, stored.size)
    except UnusableInput:
        return
    found = identifier_columns(header, load_standard())
    if not found:
        return
    shared = session.exec(select(Submission.id).where(Submission.storage_key == stored.key)).first()
    if shared is None:
        store.path(stored.key).unlink(missing_ok=True)
    raise Problem(
        422, "individual-level-data", "Individual-level data refused",
        "The file has columns that look like personal identifiers; it was not stored. "
        "The exchange accepts aggregate counts only.",
        columns=[{"column": c, "kind": k} for c, k in found],
    )


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


def receive_upload(session: Session, store: FileStore, principal: Principal, meta: UploadMeta,
                   source: BinaryIO, limit: int) -> Received:
    """Store the file and record the submission; both are durable when this commits."""
    if principal.role not in (Role.SUBMITTER, Role.ADMIN):
        raise forbidden(f"Role {principal.role} may not submit data.")
    if not principal.may_act_for(meta.ref_area):
        raise forbidden(f"This client submits for {principal.ref_area}, not {meta.ref_area}.")
    _check_declared(session, meta)
    try:
        stored = store.put(source, limit)
    except TooLarge as exc:
        raise Problem(413, "too-large", "Upload too large",
                      f"The file exceeds the limit of {exc.limit:,} bytes.") from exc
    if stored.size == 0:
        raise Problem(422, "empty-file", "Empty file", "The uploaded file is empty.")
    _refuse_identifiers(stored, store, session)

    if meta.idempotency_key:
        earlier = session.exec(select(Submission).where(
            Submission.client_id == principal.client_id,
            Submission.idempotency_key == meta.idempotency_key)).first()
        if earlier is not None:
            if earlier.sha256 != stored.sha256 or earlier.ref_area != meta.ref_area \
                    or earlier.period != meta.period:
                raise Problem(422, "idempotency-key-reused", "Idempotency-Key reused",
                              "This Idempotency-Key was used for a different upload.")
            return Received(earlier, created=False)
    same = session.exec(select(Submission).where(
        Submission.ref_area == meta.ref_area, Submission.period == meta.period,
        Submission.sha256 == stored.sha256)).first()
    if same is not None:
        audit.record(session, principal.client_id, audit.Action.SUBMISSION_REPLAYED,
                     f"submission/{same.id}", {"sha256": stored.sha256})
        return Received(same, created=False)

    dataset = _dataset_for_update(session, meta.ref_area, meta.period)
    dataset.latest_revision += 1
    session.add(dataset)
    submission = Submission(
        dataset_id=dataset.id, revision=dataset.latest_revision, ref_area=meta.ref_area,
        period=meta.period, standard_version=meta.standard_version, emergency=meta.emergency,
        sha256=stored.sha256, size_bytes=stored.size, file_format=_file_format(stored).value,
        filename=meta.filename[:255], storage_key=stored.key, client_id=principal.client_id,
        idempotency_key=meta.idempotency_key,
    )
    session.add(submission)
    record_status(session, submission, SubmissionStatus.RECEIVED)
    session.add(Outbox(submission_id=submission.id))
    audit.record(session, principal.client_id, audit.Action.SUBMISSION_CREATED,
                 f"submission/{submission.id}",
                 {"ref_area": meta.ref_area, "period": meta.period, "revision": submission.revision,
                  "sha256": stored.sha256, "size": stored.size, "emergency": meta.emergency})
    return Received(submission, created=True)


def _dataset_for_update(session: Session, ref_area: str, period: str) -> Dataset:
    """The state-quarter row, created if needed and locked so revision numbers never collide."""
    query = select(Dataset).where(Dataset.ref_area == ref_area, Dataset.period == period)
    dataset = session.exec(query.with_for_update()).first()
    if dataset is not None:
        return dataset
    try:
        with session.begin_nested():
            session.add(Dataset(ref_area=ref_area, period=period))
    except sa.exc.IntegrityError:
        pass  # another upload created it first; lock theirs
    return session.exec(query.with_for_update()).one()


def validate_submission(session: Session, store: FileStore, submission_id: int) -> Submission:
    """Run the standard's validation on a stored upload and record the verdict.

    Idempotent: a submission already past validation is returned unchanged, so a retried or
    duplicated task has no further effect.
    """
    submission = lock_submission(session, submission_id)
    if submission.status not in (SubmissionStatus.RECEIVED, SubmissionStatus.VALIDATING):
        return submission
    if submission.status == SubmissionStatus.RECEIVED:
        record_status(session, submission, SubmissionStatus.VALIDATING)
    report = validate_file(store.path(submission.storage_key), country=submission.ref_area,
                           period=submission.period, file_format=submission.file_format,
                           standard_version=submission.standard_version)
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
    record_status(session, submission,
                SubmissionStatus.VALIDATED if report.valid else SubmissionStatus.REJECTED)
    audit.record(session, "system", audit.Action.SUBMISSION_VALIDATED,
                 f"submission/{submission.id}",
                 {"valid": report.valid, "errors": report.error_count})
    return submission


# --- reading -------------------------------------------------------------------------------------

def get_visible(session: Session, principal: Principal, submission_id: int) -> Submission:
    """A submission the principal may see: its own state's (submitter, coordinator), any
    (analyst: status only, admin). Others' submissions are reported as missing, not forbidden,
    so ids do not reveal what other states uploaded."""
    submission = session.get(Submission, submission_id)
    if submission is None or not (principal.role == Role.ANALYST
                                  or principal.may_act_for(submission.ref_area)):
        raise not_found(f"Submission {submission_id}")
    return submission


def require_owner(principal: Principal, submission: Submission, what: str) -> None:
    """Raw files and validation reports hold unprotected values: owner state and admin only."""
    if not principal.may_act_for(submission.ref_area):
        raise forbidden(f"{what} of a submission is only for its state and the admin.")


def list_submissions(session: Session, principal: Principal, *, ref_area: str | None,
                     period: str | None, status: str | None, limit: int, offset: int
                     ) -> tuple[list[Submission], int]:
    if principal.role in (Role.SUBMITTER, Role.COORDINATOR):
        if ref_area is not None and ref_area != principal.ref_area:
            raise forbidden(f"This client sees {principal.ref_area} only, not {ref_area}.")
        ref_area = principal.ref_area
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
    require_owner(principal, submission, "The validation report")
    row = session.exec(select(ValidationReport).where(
        ValidationReport.submission_id == submission.id)).first()
    audit.record(session, principal.client_id, audit.Action.REPORT_READ,
                 f"submission/{submission.id}")
    return Report.from_dict(row.report) if row is not None else None


def open_raw_file(session: Session, store: FileStore, principal: Principal,
                  submission: Submission) -> str:
    require_owner(principal, submission, "The raw file")
    audit.record(session, principal.client_id, audit.Action.RAW_FILE_READ,
                 f"submission/{submission.id}")
    return str(store.path(submission.storage_key))
