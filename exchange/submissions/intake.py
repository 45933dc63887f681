"""Receiving an upload: authorize, store, refuse personal identifiers, record the submission.

Slow work (streaming the file to disk, reading its header) happens before the first database
statement, so the request's transaction (on SQLite, the write lock) is held only for the few
rows it writes. Nothing with an identifier-like column is ever kept: the header is read from the
temporary file, and only a file that passes is moved into the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO

import sqlalchemy as sa
from sqlmodel import Session, select

from exchange.accounts.models import State
from exchange.audit.service import Action, record
from exchange.auth import policy
from exchange.auth.principal import Principal
from exchange.core.outbox import Outbox
from exchange.core.problems import Problem
from exchange.core.storage import FileStore, Incoming, StoredFile, TooLarge
from exchange.submissions.lifecycle import record_status
from exchange.submissions.models import Dataset, Submission
from exchange.submissions.status import SubmissionStatus
from exchange.submissions.validation import STAGE as FIRST_STAGE
from standards import load_standard
from standards.mappings import known_versions
from standards.validation import (
    FileFormat,
    ReadLimits,
    UnusableInput,
    identifier_columns,
    read_header,
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
    rounding_base: int | None = None


@dataclass(frozen=True)
class Received:
    submission: Submission
    created: bool  # False: an identical upload was recognised and nothing new was made


def receive_upload(session: Session, *, store: FileStore, principal: Principal,
                   meta: UploadMeta, source: BinaryIO, limit: int, limits: ReadLimits
                   ) -> Received:
    """Store the file and record the submission with its first stage in the outbox; all of it
    is durable when the caller's transaction commits."""
    policy.require_state(principal, policy.Permission.SUBMIT, meta.ref_area)
    _check_declared(meta)
    try:
        with store.receive(source, limit) as incoming:
            if incoming.size == 0:
                raise Problem(422, "empty-file", "Empty file", "The uploaded file is empty.")
            file_format = _refuse_identifiers(incoming, limits)
            stored = incoming.keep()
    except TooLarge as exc:
        raise Problem(413, "too-large", "Upload too large",
                      f"The file exceeds the limit of {exc.limit:,} bytes.") from exc
    # The transaction begins here.
    if session.get(State, meta.ref_area) is None:
        raise Problem(422, "unknown-state", "Unknown reporting state",
                      f"{meta.ref_area!r} is not a state registered with the exchange.")
    try:
        with session.begin_nested():
            return _record(session, principal, meta, stored, file_format)
    except sa.exc.IntegrityError:
        # A concurrent upload of the same file, or with the same Idempotency-Key, won the race;
        # its row is committed now, so the replay rules below find it.
        earlier = _earlier(session, principal, meta, stored)
        if earlier is None:
            raise
        return earlier


def _record(session: Session, principal: Principal, meta: UploadMeta, stored: StoredFile,
            file_format: FileFormat) -> Received:
    # The state-quarter lock orders concurrent uploads of one dataset; the checks for an
    # earlier identical upload run after it, and unique constraints back them.
    dataset = _dataset_for_update(session, meta.ref_area, meta.period)
    earlier = _earlier(session, principal, meta, stored)
    if earlier is not None:
        return earlier
    dataset.latest_revision += 1
    session.add(dataset)
    submission = Submission(
        dataset_id=dataset.id, revision=dataset.latest_revision, ref_area=meta.ref_area,
        period=meta.period, standard_version=meta.standard_version,
        emergency=is_emergency(meta.period), rounding_base=meta.rounding_base or None,
        sha256=stored.sha256, size_bytes=stored.size, file_format=file_format.value,
        filename=safe_filename(meta.filename), storage_key=stored.key,
        client_id=principal.client_id, idempotency_key=meta.idempotency_key,
        next_stage=FIRST_STAGE,
    )
    session.add(submission)
    record_status(session, submission, SubmissionStatus.RECEIVED)
    session.add(Outbox(submission_id=submission.id, stage=FIRST_STAGE))
    record(session, actor=principal.client_id, action=Action.SUBMISSION_CREATED,
           target=f"submission/{submission.id}",
           detail={"ref_area": meta.ref_area, "period": meta.period,
                   "revision": submission.revision, "sha256": stored.sha256,
                   "size": stored.size, "emergency": is_emergency(meta.period),
                   "rounding_base": meta.rounding_base or None})
    return Received(submission, created=True)


def _earlier(session: Session, principal: Principal, meta: UploadMeta, stored: StoredFile
             ) -> Received | None:
    """The submission this upload repeats (same Idempotency-Key, or same bytes for the same
    state-quarter), or None; 422 when the key was used for something else."""
    if meta.idempotency_key:
        keyed = session.exec(select(Submission).where(
            Submission.client_id == principal.client_id,
            Submission.idempotency_key == meta.idempotency_key)).first()
        if keyed is not None:
            if (keyed.sha256, keyed.ref_area, keyed.period) != (
                    stored.sha256, meta.ref_area, meta.period):
                raise Problem(422, "idempotency-key-reused", "Idempotency-Key reused",
                              "This Idempotency-Key was used for a different upload.")
            return Received(keyed, created=False)
    same = session.exec(select(Submission).where(
        Submission.ref_area == meta.ref_area, Submission.period == meta.period,
        Submission.sha256 == stored.sha256)).first()
    if same is None:
        return None
    record(session, actor=principal.client_id, action=Action.SUBMISSION_REPLAYED,
           target=f"submission/{same.id}", detail={"sha256": stored.sha256})
    return Received(same, created=False)


def is_emergency(period: str) -> bool:
    """A period of the emergency series (CL_FREQ ``series: emergency``): out-of-cycle figures
    live beside the quarter, in datasets of their own, never instead of it."""
    for code in load_standard().codelists["CL_FREQ"].codes:
        if re.fullmatch(str(code.properties.get("period_pattern") or "^$"), period):
            return code.properties.get("series") == "emergency"
    return False


def _check_declared(meta: UploadMeta) -> None:
    standard = load_standard()
    if meta.standard_version not in known_versions():
        raise Problem(422, "unknown-standard-version", "Unknown standard version",
                      f"Version {meta.standard_version!r} is not known; use one of "
                      f"{', '.join(known_versions())}.")
    if not re.fullmatch(standard.dimension["TIME_PERIOD"].pattern or "", meta.period):
        raise Problem(422, "invalid-period", "Invalid period",
                      f"{meta.period!r} is not a period; write a quarter YYYY-Qn (e.g. 2026-Q3) "
                      "or, for emergency figures, a week YYYY-Www (e.g. 2026-W48).")
    if meta.emergency and not is_emergency(meta.period):
        raise Problem(422, "emergency-period", "Emergency figures are weekly",
                      f"Emergency figures are a weekly series of their own beside the quarters "
                      f"(seed 001 lines 169, 809); {meta.period!r} is a quarter. Declare the "
                      "week, e.g. 2026-W48, or upload the quarter without the emergency flag.")
    if meta.content_type.split(";")[0].strip().lower() not in ACCEPTED_CONTENT_TYPES:
        raise Problem(415, "unsupported-media-type", "Unsupported media type",
                      f"Files of type {meta.content_type!r} are not accepted; upload CSV, "
                      "SDMX-CSV or XLSX.")


def _refuse_identifiers(incoming: Incoming, limits: ReadLimits) -> FileFormat:
    """Purpose limitation: only a file whose whole header (every format: a CSV header of any
    length, a workbook's one sheet) was read and holds no identifier-like column is kept.
    Returns the file's format."""
    try:
        file_format, header = read_header(incoming.path, limits=limits)
    except UnusableInput as exc:
        # What cannot be read cannot be checked for personal data: it is not kept either.
        raise Problem(422, "unusable-file", "Unusable file",
                      f"{exc.message} The file was not stored.",
                      **({"hint": exc.hint} if exc.hint else {})) from exc
    found = identifier_columns(header, load_standard())
    if found:
        raise Problem(
            422, "individual-level-data", "Individual-level data refused",
            "The file has columns that look like personal identifiers; it was not stored. "
            "The exchange accepts aggregate counts only.",
            columns=[{"column": c, "kind": k} for c, k in found],
        )
    return file_format


def safe_filename(name: str) -> str:
    """The upload's name as we keep and echo it: no directories, no control or quote
    characters (it goes into ``Content-Disposition``), at most 255 characters."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r'[\x00-\x1f\x7f"]', "", base).strip().lstrip(".")
    return cleaned[:255] or "upload"


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
