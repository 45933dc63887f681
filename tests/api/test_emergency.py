"""Emergency figures are a weekly series of their own (seed 001 lines 169 and 809): they live
beside the quarter, in datasets, revisions and regional tables of their own, and never replace
or change the quarterly figures, in either order of arrival."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlmodel import select

from exchange.core.db import session_scope
from exchange.harmonization.models import Observation
from exchange.regional.models import RegionalCoverage
from exchange.submissions.models import Dataset
from standards import load_standard
from standards.example import example_frame
from tests.api.conftest import csv_bytes

QUARTER, WEEK = "2026-Q3", "2026-W40"


def _weekly() -> bytes:
    return csv_bytes(example_frame(load_standard(), "KAZ", WEEK, citizenships=1, seed=7))


def _observations(settings, period: str) -> tuple[int, int]:
    """(rows, persons) of the state-period's harmonized observations."""
    with session_scope(settings.resolved_database_url, writes=False) as session:
        rows, total = session.exec(select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(Observation.value), 0)).where(
            Observation.ref_area == "KAZ", Observation.period == period)).one()
    return int(rows), int(total)


def _datasets(settings) -> dict[str, tuple[int, int]]:
    with session_scope(settings.resolved_database_url, writes=False) as session:
        return {d.period: (d.latest_revision, d.harmonized_revision)
                for d in session.exec(select(Dataset).where(Dataset.ref_area == "KAZ"))}


def test_a_weekly_upload_is_an_emergency_submission_of_its_own(client, kaz, upload) -> None:
    created = upload(kaz, _weekly(), period=WEEK)
    assert created.status_code == 202, created.text
    body = created.json()
    assert (body["period"], body["emergency"], body["revision"]) == (WEEK, True, 1)
    done = client.get(f"/api/v1/submissions/{body['id']}", headers=kaz.headers).json()
    assert done["status"] == "harmonized"


def test_the_emergency_flag_on_a_quarter_is_refused(client, kaz, upload, valid_csv) -> None:
    refused = upload(kaz, valid_csv, period=QUARTER, emergency="true")
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "weekly" in refused.json()["title"].lower()


def test_emergency_figures_after_the_quarter_leave_it_untouched(client, kaz, upload, valid_csv,
                                                                settings) -> None:
    assert upload(kaz, valid_csv, period=QUARTER).status_code == 202
    quarter_before = _observations(settings, QUARTER)
    assert upload(kaz, _weekly(), period=WEEK).status_code == 202
    assert _observations(settings, QUARTER) == quarter_before
    assert _observations(settings, WEEK)[0] > 0
    assert _datasets(settings) == {QUARTER: (1, 1), WEEK: (1, 1)}


def test_a_quarter_after_emergency_figures_leaves_them_untouched(client, kaz, upload, valid_csv,
                                                                 settings) -> None:
    assert upload(kaz, _weekly(), period=WEEK).status_code == 202
    week_before = _observations(settings, WEEK)
    assert upload(kaz, valid_csv, period=QUARTER).status_code == 202
    second_week = csv_bytes(example_frame(load_standard(), "KAZ", WEEK, citizenships=1, seed=8))
    assert upload(kaz, second_week, period=WEEK).json()["revision"] == 2
    assert _observations(settings, WEEK) != week_before  # the week's own revision replaced it
    quarter = _observations(settings, QUARTER)
    assert quarter[0] > 0
    assert _datasets(settings) == {QUARTER: (1, 1), WEEK: (2, 2)}


def test_emergency_weeks_have_regional_tables_of_their_own(client, kaz, upload, valid_csv,
                                                           settings) -> None:
    upload(kaz, valid_csv, period=QUARTER)
    upload(kaz, _weekly(), period=WEEK)
    with session_scope(settings.resolved_database_url, writes=False) as session:
        periods = set(session.exec(select(RegionalCoverage.period).where(
            RegionalCoverage.region == "CENTRAL_ASIA")).all())
    assert periods == {QUARTER, WEEK}


def test_a_week_in_a_quarterly_file_is_reported(client, kaz, upload, example) -> None:
    """A weekly period inside a file declared for a quarter is a declared-period mismatch."""
    frame = example.with_columns(pl.lit(WEEK).alias("TIME_PERIOD"), pl.lit("W").alias("FREQ"))
    body = upload(kaz, csv_bytes(frame), period=QUARTER).json()
    report = client.get(f"/api/v1/submissions/{body['id']}/report", headers=kaz.headers).json()
    assert {e["rule"] for e in report["errors"]} >= {"declared_match"}
