"""The published releases as plain rows: what choosing the vintage of a data answer needs.

Every SDMX data request chooses its releases, cached answers included. Reading the list from
the database each time was about half the cost of a cached answer (four round trips: the
pool's ping, BEGIN, the SELECT and the ROLLBACK that returns the connection), so each process
keeps a snapshot of it. That is safe because a published release is immutable and is never
unpublished: the list only grows, and a snapshot at most ``SNAPSHOT_SECONDS`` old can only
lack a release published within that second (released answers already tell caches they may
be up to 60 s old). A publication committed in this process drops the snapshot at once;
embargoes are compared with the clock on every request, not in the snapshot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from exchange.publication.models import Release
from exchange.publication.status import ReleaseStatus

# How old a snapshot of the published releases may be before it is read again.
SNAPSHOT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Vintage:
    """A published release, as far as choosing it goes."""

    id: int
    period: str
    number: int
    published_at: datetime | None
    created_at: datetime
    embargo_until: datetime | None

    @property
    def public_at(self) -> datetime:
        """When anonymous callers may read it: published, and past its embargo."""
        published = self.published_at or self.created_at
        return max(published, self.embargo_until) if self.embargo_until else published


# engine -> (monotonic time read, the published releases)
_snapshots: dict[sa.Engine, tuple[float, tuple[Vintage, ...]]] = {}


def published(session: Session) -> tuple[Vintage, ...]:
    """Every published release, from a snapshot at most ``SNAPSHOT_SECONDS`` old."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    snapshot = _snapshots.get(engine)
    now = time.monotonic()
    if snapshot is not None and now - snapshot[0] < SNAPSHOT_SECONDS:
        return snapshot[1]
    t = Release.__table__  # type: ignore[attr-defined]
    rows = session.execute(sa.select(
        t.c.id, t.c.period, t.c.number, t.c.published_at, t.c.created_at, t.c.embargo_until
    ).where(t.c.status == ReleaseStatus.PUBLISHED, t.c.published_at.is_not(None))).all()
    vintages = tuple(Vintage(*row) for row in rows)
    _snapshots[engine] = (now, vintages)
    return vintages


def forget_on_commit(session: Session) -> None:
    """Drop this process's snapshots once ``session`` commits (a release was published)."""
    sa.event.listen(session, "after_commit", lambda _session: _snapshots.clear(), once=True)
