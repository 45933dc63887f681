"""The operator's overview (``mmx status`` without an id): queue depth, unsent outbox rows,
submissions per status and work that stayed due too long."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from exchange.core import outbox
from exchange.core.columns import utcnow
from exchange.core.db import session_scope
from exchange.core.queue import TaskQueue
from exchange.submissions.models import Submission


@dataclass
class Overview:
    queue_depth: int | None
    queue_health: str
    outbox_pending: int
    stuck: list[tuple[int, str, str, str]] = field(default_factory=list)  # id, status, stage, since
    by_status: dict[str, int] = field(default_factory=dict)


def overview(database_url: str, queue: TaskQueue, stuck_after_seconds: float) -> Overview:
    cutoff = utcnow() - timedelta(seconds=stuck_after_seconds)
    with session_scope(database_url, writes=False) as session:
        counts = dict(session.exec(select(Submission.status, sa.func.count())
                                   .group_by(Submission.status)).all())
        stuck = session.exec(select(Submission).where(
            Submission.next_stage.is_not(None),  # type: ignore[union-attr]
            Submission.updated_at < cutoff).order_by(Submission.updated_at)).all()
    return Overview(
        queue_depth=queue.depth(), queue_health=queue.health(),
        outbox_pending=outbox.pending_count(database_url),
        stuck=[(s.id or 0, s.status, s.next_stage or "", s.updated_at.isoformat())
               for s in stuck],
        by_status={str(k): int(v) for k, v in counts.items()})
