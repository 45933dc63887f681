"""Which releases are published, as every data request reads it: from a snapshot that is never
more than a second old, and new at once after a publication committed in this process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from exchange.core.db import get_engine
from exchange.publication import vintages
from exchange.publication.models import Release
from exchange.publication.status import ReleaseStatus, Trigger
from tests.conftest import wait_until

NOON = datetime(2026, 11, 27, 12, tzinfo=UTC)


def _release(period: str, number: int, status: ReleaseStatus = ReleaseStatus.PUBLISHED
             ) -> Release:
    return Release(period=period, number=number, status=status, trigger=Trigger.ADMIN,
                   requested_by="test", standard_version="2.0.0",
                   published_at=NOON if status == ReleaseStatus.PUBLISHED else None,
                   embargo_until=NOON + timedelta(hours=1))


@pytest.fixture
def engine(database_url: str) -> sa.Engine:
    engine = get_engine(database_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(_release("2026-Q1", 1))
        session.add(_release("2026-Q2", 1, ReleaseStatus.BUILDING))
        session.commit()
    return engine


def _statements(engine: sa.Engine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda _c, _cur, statement, *_: seen.append(statement))
    return seen


def test_a_snapshot_holds_only_published_releases_and_is_reused(engine) -> None:
    with Session(engine) as session:
        first = vintages.published(session)
    assert [(v.period, v.number) for v in first] == [("2026-Q1", 1)]
    assert first[0].public_at == NOON + timedelta(hours=1)  # the embargo, not publication
    seen = _statements(engine)
    with Session(engine) as session:
        assert vintages.published(session) == first
    assert seen == []  # no round trip: not even a connection checked out


def test_a_publication_committed_here_is_seen_at_once(engine) -> None:
    with Session(engine) as session:
        assert len(vintages.published(session)) == 1
    with Session(engine) as session:
        release = session.exec(sa.select(Release).where(Release.period == "2026-Q2")).scalar_one()
        release.status, release.published_at = ReleaseStatus.PUBLISHED, NOON
        vintages.forget_on_commit(session)
        with Session(engine) as reader:  # before the commit: not yet
            assert len(vintages.published(reader)) == 1
        session.commit()
    with Session(engine) as session:
        assert {v.period for v in vintages.published(session)} == {"2026-Q1", "2026-Q2"}


def test_a_publication_by_another_process_is_seen_within_the_snapshot_age(engine) -> None:
    with Session(engine) as session:
        assert len(vintages.published(session)) == 1
    with engine.begin() as connection:  # as a worker process would: no hook here
        connection.execute(sa.update(Release).where(Release.period == "2026-Q2").values(
            status=ReleaseStatus.PUBLISHED, published_at=NOON))
    published_by_other = datetime.now(UTC)

    def seen() -> bool:
        with Session(engine) as session:
            return len(vintages.published(session)) == 2

    wait_until(seen, timeout=5, message="the other process's release never appeared")
    lag = (datetime.now(UTC) - published_by_other).total_seconds()
    assert lag <= vintages.SNAPSHOT_SECONDS + 0.5
