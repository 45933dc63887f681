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


def test_upgrading_a_database_with_harmonized_data_requeues_it_in_the_new_shape(
        database_url: str) -> None:
    """From 0002 with a state, a client, a harmonized submission and its observations: every
    step that rebuilds a table others point at (0003's state, 0004's dataset and submission)
    keeps the rows and the references; 0004 empties the derived observations and queues the
    harmonized revision to be harmonized again in the 2.0.0 shape."""
    command.upgrade(alembic_config(database_url), "0002")
    with get_engine(database_url).begin() as connection:
        run = connection.execute
        run(sa.text("INSERT INTO state (ref_area, name, publication_consent, created_at) "
                    "VALUES ('KAZ', 'Kazakhstan', 'regional_only', CURRENT_TIMESTAMP)"))
        run(sa.text("INSERT INTO api_client (id, name, role, ref_area, secret_hash, active, "
                    "created_at) VALUES ('kaz-1', 'KAZ', 'submitter', 'KAZ', 'x', true, "
                    "CURRENT_TIMESTAMP)"))
        run(sa.text("INSERT INTO dataset (id, ref_area, period, latest_revision, "
                    "harmonized_revision, created_at) VALUES (1, 'KAZ', '2026-Q3', 1, 1, "
                    "CURRENT_TIMESTAMP)"))
        run(sa.text(
            "INSERT INTO submission (id, dataset_id, revision, ref_area, period, "
            "standard_version, emergency, sha256, size_bytes, file_format, filename, "
            "storage_key, status, client_id, progress, attempts, created_at, updated_at) "
            "VALUES (1, 1, 1, 'KAZ', '2026-Q3', '1.0.0', false, 'ab', 10, 'csv', 'k.csv', "
            "'ab', 'harmonized', 'kaz-1', 100, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        run(sa.text(
            "INSERT INTO observation (dataset_id, submission_id, revision, ref_area, period, "
            "pop_group, measure, citizenship, sex, age, value, derived) VALUES "
            "(1, 1, 1, 'KAZ', '2026-Q3', 'VOT', 'INFLOW', 'AFG', '_T', '_T', 3, false)"))
    migrate(database_url)
    with get_engine(database_url).connect() as connection:
        one = connection.execute
        assert one(sa.text("SELECT count(*) FROM observation")).scalar() == 0
        assert one(sa.text("SELECT status, next_stage, standard_version, rounding_base "
                           "FROM submission")).one() == ("validated", "harmonize", "1.0.0",
                                                         None)
        assert one(sa.text("SELECT harmonized_revision FROM dataset")).scalar() == 0
        assert one(sa.text("SELECT ref_area FROM api_client")).scalar() == "KAZ"


def test_releases_published_before_indicators_get_theirs_queued(database_url: str) -> None:
    """0007 makes the ``indicators`` stage due for every release already published (with an
    outbox row the sweeper relays); queued, building or refused releases are left alone."""
    command.upgrade(alembic_config(database_url), "0006")
    with get_engine(database_url).begin() as connection:
        for number, status in ((1, "published"), (2, "refused")):
            connection.execute(sa.text(
                "INSERT INTO release (period, number, status, attempts, progress, trigger, "
                "requested_by, standard_version, coverage, created_at, updated_at) VALUES "
                f"('2026-Q3', {number}, '{status}', 0, 100, 'admin', 'admin-1', '2.0.0', "
                "'{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    migrate(database_url)
    with get_engine(database_url).connect() as connection:
        run = connection.execute
        assert run(sa.text("SELECT number, next_stage FROM release ORDER BY number")).all() \
            == [(1, "indicators"), (2, None)]
        assert run(sa.text("SELECT r.number, o.stage FROM outbox o JOIN release r ON "
                           "r.id = o.release_id")).all() == [(1, "indicators")]
