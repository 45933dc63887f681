"""The append-only, tamper-evident audit log of who did what.

Each entry's hash is SHA-256 over its content and the previous entry's hash, so changing,
deleting or reordering any entry breaks every hash after it; ``verify_chain`` finds the first
break. Entries are written in the caller's transaction, so an action and its record commit or
roll back together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from exchange.audit.models import AuditEntry, AuditHead
from exchange.core.columns import utcnow

GENESIS = "0" * 64


class Action:
    """Action names used in the log (strings, so the log stays readable by anyone)."""

    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    CLIENT_CREATED = "client.created"
    SUBMISSION_CREATED = "submission.created"
    SUBMISSION_REPLAYED = "submission.replayed"
    SUBMISSION_VALIDATED = "submission.validated"
    REPORT_READ = "report.read"
    RAW_FILE_READ = "raw_file.read"
    SUBMISSION_HARMONIZED = "submission.harmonized"
    SUBMISSION_FAILED = "submission.failed"
    CLIENT_DISABLED = "client.disabled"
    REGION_REGISTERED = "region.registered"  # with its default participants
    PARTICIPANT_SET = "region.participant_set"
    PARTICIPANT_REMOVED = "region.participant_removed"
    DATASET_SIGNED_OFF = "dataset.signed_off"
    DATASET_SENT_BACK = "dataset.sent_back"
    SIGNOFF_WITHDRAWN = "dataset.signoff_withdrawn"
    CONSENT_SET = "state.consent_set"
    RELEASE_REQUESTED = "release.requested"
    RELEASE_SCHEDULED = "release.scheduled"
    RELEASE_PUBLISHED = "release.published"
    RELEASE_REFUSED = "release.refused"  # the audit found a cell under-protected
    RELEASE_FAILED = "release.failed"
    RELEASE_AUDIT_READ = "release.audit_read"


def _digest(prev_hash: str, at: datetime, actor: str, action: str, target: str,
            detail: dict[str, Any]) -> str:
    payload = json.dumps(
        {"prev": prev_hash, "at": at.astimezone(UTC).isoformat(), "actor": actor, "action": action,
         "target": target, "detail": detail},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(session: Session, *, actor: str, action: str, target: str = "",
           detail: dict[str, Any] | None = None) -> AuditEntry:
    """Append an entry. Updating the head row first takes the write lock that orders appends."""
    session.execute(sa.update(AuditHead).where(AuditHead.id == 1)
                    .values(seq=AuditHead.seq + 1))
    head = session.execute(select(AuditHead.last_hash).where(AuditHead.id == 1)).scalar_one()
    at = utcnow()
    detail = detail or {}
    digest = _digest(head, at, actor, action, target, detail)
    entry = AuditEntry(at=at, actor=actor, action=action, target=target, detail=detail,
                       prev_hash=head, hash=digest)
    session.add(entry)
    session.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(last_hash=digest))
    return entry


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    ok: bool
    first_bad_id: int | None = None
    reason: str = ""


def verify_entries(entries: Iterable[AuditEntry], head_hash: str | None = None) -> ChainCheck:
    prev = GENESIS
    count = 0
    for entry in entries:
        count += 1
        if entry.prev_hash != prev:
            return ChainCheck(count, False, entry.id, "prev_hash does not match the entry before")
        expected = _digest(entry.prev_hash, entry.at, entry.actor, entry.action, entry.target,
                           entry.detail)
        if entry.hash != expected:
            return ChainCheck(count, False, entry.id, "content does not match its hash")
        prev = entry.hash
    if head_hash is not None and head_hash != prev:
        return ChainCheck(count, False, None, "entries after the last one were removed")
    return ChainCheck(count, True)


def verify_chain(session: Session) -> ChainCheck:
    entries = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()  # type: ignore[arg-type]
    head = session.execute(select(AuditHead.last_hash).where(AuditHead.id == 1)).scalar_one()
    return verify_entries(entries, head)
