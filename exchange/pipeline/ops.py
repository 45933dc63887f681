"""The operator's overview (``mmx status`` without an id): queue depth, unsent outbox rows,
submissions per status and work that stayed due too long."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import select

from exchange.core import outbox
from exchange.core.db import session_scope
from exchange.core.queue import TaskQueue
from exchange.pipeline.sweep import stuck
from exchange.submissions.models import Submission


@dataclass
class Overview:
    queue_depth: int | None
    queue_health: str
    outbox_pending: int
    stuck: list[tuple[int, str, str, str]] = field(default_factory=list)  # id, status, stage, since
    by_status: dict[str, int] = field(default_factory=dict)


def overview(database_url: str, queue: TaskQueue, stuck_after_seconds: float) -> Overview:
    with session_scope(database_url, writes=False) as session:
        counts = dict(session.exec(select(Submission.status, sa.func.count())
                                   .group_by(Submission.status)).all())
        due = session.exec(select(Submission).where(stuck(stuck_after_seconds))
                           .order_by(Submission.updated_at)).all()
    return Overview(
        queue_depth=queue.depth(), queue_health=queue.health(),
        outbox_pending=outbox.pending_count(database_url),
        stuck=[(s.id or 0, s.status, s.next_stage or "", s.updated_at.isoformat())
               for s in due],
        by_status={str(k): int(v) for k, v in counts.items()})
