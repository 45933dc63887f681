"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from exchange.core.db import get_engine, migrate
from exchange.migrations.tables import METADATA


def test_migrations_match_the_models(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)  # idempotent
    with get_engine(database_url).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), METADATA) == []
