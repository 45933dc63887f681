"""Harmonize a validated submission into ``observation`` (the current revision per
state-quarter) and rebuild the regional tables it feeds. Called by the workers; each step is
idempotent, so a redelivered or duplicated task changes nothing the second time."""

from __future__ import annotations

import io
from collections.abc import Callable

import polars as pl
import sqlalchemy as sa
from sqlmodel import Session, select

from exchange import audit
from exchange.models import (
    Dataset,
    Observation,
    RegionalCoverage,
    RegionalObservation,
    Submission,
    SubmissionStatus,
    utcnow,
)
from exchange.storage import FileStore
from exchange.submissions import lock_submission, record_status
from standards import load_standard
from standards.harmonize import derive_totals, load_harmonized

Progress = Callable[[int], None]
COLUMNS = {"REF_AREA": "ref_area", "TIME_PERIOD": "period", "POP_GROUP": "pop_group",
           "MEASURE": "measure", "CITIZENSHIP": "citizenship", "SEX": "sex", "AGE": "age",
           "OBS_VALUE": "value", "OBS_STATUS": "obs_status", "DERIVED": "derived"}


def harmonize_submission(session: Session, store: FileStore, submission_id: int,
                         progress: Progress = lambda _p: None) -> Submission:
    """Map, derive totals and replace the state-quarter's observations with this revision's."""
    submission = lock_submission(session, submission_id)
    if submission.status not in (SubmissionStatus.VALIDATED, SubmissionStatus.HARMONIZING):
        return submission
    dataset = session.exec(select(Dataset).where(Dataset.id == submission.dataset_id)
                           .with_for_update()).one()
    if submission.status == SubmissionStatus.VALIDATED:
        record_status(session, submission, SubmissionStatus.HARMONIZING)
    if dataset.harmonized_revision > submission.revision:
        # A newer revision is already current; this one stays in the history only.
        record_status(session, submission, SubmissionStatus.HARMONIZED)
        return submission
    standard = load_standard()
    frame, _notes = load_harmonized(store.path(submission.storage_key),
                                    file_format=submission.file_format,
                                    standard_version=submission.standard_version,
                                    standard=standard)
    progress(60)
    frame = derive_totals(frame, standard)
    progress(70)
    rows = frame.rename(COLUMNS).with_columns(
        pl.lit(dataset.id).alias("dataset_id"), pl.lit(submission.id).alias("submission_id"),
        pl.lit(submission.revision).alias("revision"))
    session.execute(sa.delete(Observation).where(Observation.ref_area == dataset.ref_area,
                                                 Observation.period == dataset.period))
    insert_observations(session, rows)
    progress(90)
    dataset.harmonized_revision = submission.revision
    session.add(dataset)
    mark_regions_stale(session, submission.ref_area, submission.period)
    record_status(session, submission, SubmissionStatus.HARMONIZED)
    audit.record(session, "system", "submission.harmonized", f"submission/{submission.id}",
                 {"observations": rows.height,
                  "derived": int(rows["derived"].sum()) if rows.height else 0})
    return submission


OBSERVATION_COLUMNS = ["dataset_id", "submission_id", "revision", "ref_area", "period",
                       "pop_group", "measure", "citizenship", "sex", "age", "value",
                       "obs_status", "derived"]


def insert_observations(session: Session, rows: pl.DataFrame) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany elsewhere, inside the session's transaction."""
    rows = rows.select(OBSERVATION_COLUMNS)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        buffer = io.BytesIO()
        rows.write_csv(buffer, include_header=False, null_value="\\N")
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
                f"COPY observation ({', '.join(OBSERVATION_COLUMNS)}) FROM STDIN "
                "WITH (FORMAT csv, NULL '\\N')") as copy:
            copy.write(buffer.getvalue())
        return
    if rows.height:
        session.execute(sa.insert(Observation), rows.to_dicts())


def mark_regions_stale(session: Session, ref_area: str, period: str) -> None:
    for region in load_standard().regions_of(ref_area):
        _ensure_coverage(session, region, period)
        session.execute(sa.update(RegionalCoverage).where(
            RegionalCoverage.region == region, RegionalCoverage.period == period)
            .values(stale=True))


def rebuild_regional(session: Session, ref_area: str, period: str) -> list[str]:
    """Recompute every stale regional table that includes ``ref_area`` for ``period``.

    Each region's rows are replaced as a whole under a lock on its coverage row, so two workers
    rebuilding the same region never interleave, and one that finds it fresh does nothing.
    Returns the regions rebuilt.
    """
    standard = load_standard()
    rebuilt = []
    for region in standard.regions_of(ref_area):
        members = sorted(standard.region_members(region))
        _ensure_coverage(session, region, period)
        locked = session.exec(select(RegionalCoverage).where(
            RegionalCoverage.region == region, RegionalCoverage.period == period)
            .with_for_update()).one()
        if not locked.stale:
            continue
        session.execute(sa.delete(RegionalObservation).where(
            RegionalObservation.region == region, RegionalObservation.period == period))
        o = Observation.__table__.c
        summed = (
            sa.select(sa.literal(region), o.period, o.pop_group, o.measure, o.citizenship, o.sex,
                      o.age, sa.func.sum(o.value), sa.func.count())  # one row per state and key
            .where(o.period == period, o.ref_area.in_(members), o.value.is_not(None))
            .group_by(o.period, o.pop_group, o.measure, o.citizenship, o.sex, o.age)
        )
        r = RegionalObservation.__table__.c
        session.execute(sa.insert(RegionalObservation).from_select(
            [r.region, r.period, r.pop_group, r.measure, r.citizenship, r.sex, r.age, r.value,
             r.states], summed))
        included = sorted(session.execute(
            sa.select(o.ref_area).distinct().where(o.period == period,
                                                   o.ref_area.in_(members))).scalars())
        provisional = sorted(session.execute(
            sa.select(o.ref_area).distinct().where(o.period == period, o.obs_status == "P",
                                                   o.ref_area.in_(members))).scalars())
        coverage = locked
        coverage.included = included
        coverage.provisional = provisional
        coverage.missing = [m for m in members if m not in included]
        coverage.stale = False
        coverage.updated_at = utcnow()
        session.add(coverage)
        rebuilt.append(region)
    return rebuilt


def _ensure_coverage(session: Session, region: str, period: str) -> None:
    if session.get(RegionalCoverage, (region, period)) is None:
        try:
            with session.begin_nested():
                session.add(RegionalCoverage(region=region, period=period))
        except sa.exc.IntegrityError:
            pass  # created concurrently
