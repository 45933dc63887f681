"""Operational overview for ``mmx status``: queue depth, stuck work, status counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from exchange.config import Settings
from exchange.db import session_scope
from exchange.models import Outbox, Submission, utcnow
from workers.celery_app import QUEUE, producer_for


@dataclass
class Overview:
    queue_depth: int | None
    queue_error: str | None
    outbox_pending: int
    stuck: list[tuple[int, str, str]] = field(default_factory=list)  # id, status, since
    by_status: dict[str, int] = field(default_factory=dict)


def queue_depth(settings: Settings) -> tuple[int | None, str | None]:
    try:
        with producer_for(settings).connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
            declared = connection.default_channel.queue_declare(queue=QUEUE, passive=True)
            return int(declared.message_count), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"


def overview(settings: Settings) -> Overview:
    depth, error = queue_depth(settings)
    cutoff = utcnow() - timedelta(seconds=settings.stuck_after_seconds)
    with session_scope(settings.resolved_database_url, writes=False) as session:
        pending = session.exec(select(sa.func.count()).select_from(Outbox).where(
            Outbox.dispatched_at.is_(None))).one()  # type: ignore[union-attr]
        counts = dict(session.exec(select(Submission.status, sa.func.count())
                                   .group_by(Submission.status)).all())
        stuck = session.exec(select(Submission).where(
            Submission.status.in_(["received", "validating", "validated", "harmonizing"]),  # type: ignore[attr-defined]
            Submission.updated_at < cutoff).order_by(Submission.updated_at)).all()
    return Overview(queue_depth=depth, queue_error=error, outbox_pending=int(pending),
                    stuck=[(s.id or 0, s.status, s.updated_at.isoformat()) for s in stuck],
                    by_status={str(k): int(v) for k, v in counts.items()})
