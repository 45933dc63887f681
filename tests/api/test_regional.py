"""Harmonized observations and regional tables after processing (inline processing here; the
worker tests run the same stages in Celery). Regional tables sum participants whose current
harmonized revision their National Coordinator signed off."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlmodel import select

from exchange.core.db import session_scope
from exchange.harmonization.models import Observation
from exchange.regional.models import RegionalCoverage, RegionalObservation
from tests.api.conftest import csv_bytes


def _as(example: pl.DataFrame, ref_area: str, **replace: str) -> pl.DataFrame:
    frame = example.with_columns(pl.lit(ref_area).alias("REF_AREA"))
    for column, value in replace.items():
        frame = frame.with_columns(pl.lit(value).alias(column))
    return frame


def _sum(settings, model, **where) -> int:
    with session_scope(settings.resolved_database_url, writes=False) as session:
        query = select(sa.func.coalesce(sa.func.sum(model.value), 0))
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(session.exec(query).one())


def _sign_off(client, coordinator, ref_area: str = "KAZ", period: str = "2026-Q3"):
    response = client.post(f"/api/v1/datasets/{ref_area}/{period}/signoff",
                           headers=coordinator.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_regional_table_sums_signed_off_participants_and_reports_coverage(
        client, account, upload, example, settings) -> None:
    kaz, kgz = account("submitter", "KAZ"), account("submitter", "KGZ")
    assert upload(kaz, csv_bytes(_as(example, "KAZ"))).status_code == 202
    assert upload(kgz, csv_bytes(_as(example, "KGZ", OBS_STATUS="P")), ref_area="KGZ"
                  ).status_code == 202
    one_state = int(example["OBS_VALUE"].cast(pl.Int64).sum())
    assert _sum(settings, Observation, ref_area="KAZ", derived=False) == one_state
    # Both report the same bands, so the region has every band, the derived ones too.
    with_derived = _sum(settings, Observation, ref_area="KAZ")
    assert with_derived > one_state
    # Harmonized but not signed off: expected, not summed.
    assert _sum(settings, RegionalObservation, region="CENTRAL_ASIA") == 0

    signed = _sign_off(client, account("coordinator", "KAZ"))
    assert signed["decision"] == "signed_off" and signed["revision"] == 1
    assert set(signed["regions_rebuilt"]) == {"CENTRAL_ASIA", "ALMATY_PROCESS",
                                              "WIDER_CENTRAL_ASIA"}
    assert _sum(settings, RegionalObservation, region="CENTRAL_ASIA") == with_derived
    with session_scope(settings.resolved_database_url, writes=False) as session:
        coverage = session.get(RegionalCoverage, ("CENTRAL_ASIA", "2026-Q3"))
    assert coverage.included == ["KAZ"] and coverage.awaiting_signoff == ["KGZ"]
    assert coverage.missing == ["TJK", "TKM", "UZB"]

    _sign_off(client, account("coordinator", "KGZ"), "KGZ")
    assert _sum(settings, RegionalObservation, region="CENTRAL_ASIA") == 2 * with_derived
    with session_scope(settings.resolved_database_url, writes=False) as session:
        coverage = session.get(RegionalCoverage, ("CENTRAL_ASIA", "2026-Q3"))
        wider = session.get(RegionalCoverage, ("WIDER_CENTRAL_ASIA", "2026-Q3"))
        ecowas = session.get(RegionalCoverage, ("ECOWAS", "2026-Q3"))
        states = session.exec(select(RegionalObservation.states).where(
            RegionalObservation.region == "CENTRAL_ASIA")).all()
    assert coverage.included == ["KAZ", "KGZ"] and coverage.awaiting_signoff == []
    assert coverage.provisional == ["KGZ"]
    assert coverage.missing == ["TJK", "TKM", "UZB"]
    assert wider.included == ["KAZ", "KGZ"]
    assert wider.missing == ["AFG", "AZE", "IRN", "RUS", "TJK", "TKM", "TUR"]
    assert ecowas is None  # no member of ECOWAS reported: nothing was rebuilt
    assert set(states) == {2}


def test_a_new_revision_replaces_the_states_observations_and_needs_a_new_sign_off(
        client, kaz, account, upload, example, settings) -> None:
    coordinator = account("coordinator", "KAZ")
    upload(kaz, csv_bytes(example))
    _sign_off(client, coordinator)
    total = int(example["OBS_VALUE"].cast(pl.Int64).sum())
    assert _sum(settings, RegionalObservation, region="CENTRAL_ASIA") == _sum(
        settings, Observation, ref_area="KAZ")

    doubled = example.with_columns((pl.col("OBS_VALUE").cast(pl.Int64) * 2).cast(pl.Utf8))
    second = upload(kaz, csv_bytes(doubled)).json()
    assert second["revision"] == 2
    assert _sum(settings, Observation, ref_area="KAZ", derived=False) == 2 * total
    with session_scope(settings.resolved_database_url, writes=False) as session:
        revisions = set(session.exec(select(Observation.revision)).all())
        coverage = session.get(RegionalCoverage, ("CENTRAL_ASIA", "2026-Q3"))
    assert revisions == {2}
    # Revision 1's sign-off does not carry over to revision 2.
    assert coverage.included == [] and coverage.awaiting_signoff == ["KAZ"]
    assert _sum(settings, RegionalObservation, region="CENTRAL_ASIA") == 0

    assert _sign_off(client, coordinator)["revision"] == 2
    assert _sum(settings, RegionalObservation, region="CENTRAL_ASIA") == _sum(
        settings, Observation, ref_area="KAZ")


def test_missing_totals_are_derived_and_marked(client, kaz, upload, example, settings) -> None:
    # Women and girls at risk have F rows only: with M absent (not reported, not zero), their
    # sex total cannot be derived, so they are left out of this test.
    example = example.filter(pl.col("SPEC_NEED") != "WGR")
    without_sex_totals = example.filter(pl.col("SEX") != "_T")
    upload(kaz, csv_bytes(without_sex_totals))
    with session_scope(settings.resolved_database_url, writes=False) as session:
        derived = session.exec(select(sa.func.count()).select_from(Observation).where(
            Observation.derived.is_(True), Observation.sex == "_T",
            Observation.age.in_(example["AGE"].unique().to_list()))).one()
    assert derived == example.filter(pl.col("SEX") == "_T").height
    file_ages = example["AGE"].unique().to_list()
    with session_scope(settings.resolved_database_url, writes=False) as session:
        total = session.exec(select(sa.func.sum(Observation.value)).where(
            Observation.sex == "_T", Observation.age.in_(file_ages))).one()
    assert total == int(example.filter(pl.col("SEX") == "_T")["OBS_VALUE"].cast(pl.Int64).sum())


def test_regional_tables_use_the_age_bands_every_state_reports(client, account, upload,
                                                               settings) -> None:
    """KAZ reports UNHCR bands, KGZ Eurostat's: the region meets on under-18 / 18+ / total."""
    from standards import load_standard
    from standards.example import example_frame

    standard = load_standard()
    kaz, kgz = account("submitter", "KAZ"), account("submitter", "KGZ")
    upload(kaz, csv_bytes(example_frame(standard, "KAZ", "2026-Q3", citizenships=1)))
    upload(kgz, csv_bytes(example_frame(standard, "KGZ", "2026-Q3", citizenships=1,
                                        bands="eurostat")), ref_area="KGZ")
    _sign_off(client, account("coordinator", "KAZ"))
    _sign_off(client, account("coordinator", "KGZ"), "KGZ")
    with session_scope(settings.resolved_database_url, writes=False) as session:
        coverage = session.get(RegionalCoverage, ("CENTRAL_ASIA", "2026-Q3"))
        ages = set(session.exec(select(RegionalObservation.age).where(
            RegionalObservation.region == "CENTRAL_ASIA")).all())
    assert coverage.included == ["KAZ", "KGZ"]
    assert coverage.age_bands == ["Y_LT18", "Y_GE18", "_U", "_T"]
    assert ages == {"Y_LT18", "Y_GE18", "_U", "_T"}
