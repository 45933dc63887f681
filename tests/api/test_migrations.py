"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from exchange.core.db import alembic_config, get_engine, migrate
from exchange.migrations.tables import METADATA


def test_migrations_match_the_models(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)  # idempotent
    with get_engine(database_url).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), METADATA) == []


def test_upgrading_a_populated_database_keeps_its_rows(database_url: str) -> None:
    """0005 on a database with states, clients and regional tables: SQLite's enforced foreign
    keys forbid recreating `state`, so the consent column is added in place, with its default
    and its check; every regional table is left stale for `mmx db upgrade` to rebuild."""
    command.upgrade(alembic_config(database_url), "0003")
    with get_engine(database_url).begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO state (ref_area, name, created_at) VALUES ('KAZ', 'Kazakhstan', "
            "CURRENT_TIMESTAMP)"))
        connection.execute(sa.text(
            "INSERT INTO api_client (id, name, role, ref_area, secret_hash, active, created_at) "
            "VALUES ('kaz-1', 'KAZ', 'submitter', 'KAZ', 'x', true, CURRENT_TIMESTAMP)"))
        connection.execute(sa.text(
            "INSERT INTO regional_coverage (region, period, included, provisional, missing, "
            "stale, updated_at) VALUES ('CENTRAL_ASIA', '2026-Q3', '[]', '[]', '[]', false, "
            "CURRENT_TIMESTAMP)"))
    migrate(database_url)
    with get_engine(database_url).connect() as connection:
        assert connection.execute(sa.text("SELECT publication_consent FROM state")).scalar() \
            == "regional_only"
        assert connection.execute(sa.text("SELECT stale FROM regional_coverage")).scalar()
        with pytest.raises(sa.exc.IntegrityError):
            connection.execute(sa.text("UPDATE state SET publication_consent = 'everything'"))
