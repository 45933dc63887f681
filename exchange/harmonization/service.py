"""Harmonize a validated submission: its rows in standard codes with derived totals
(``harmonized_rows``, no database), then the state-quarter's observations replaced by them in
one short transaction (``replace_observations``)."""

from __future__ import annotations

import io

import polars as pl
import sqlalchemy as sa
from sqlmodel import Session, select

from exchange.audit.service import Action, record
from exchange.core.storage import FileStore
from exchange.harmonization.models import Observation
from exchange.submissions.models import Dataset, Submission
from standards import load_standard
from standards.harmonize import derive_totals, load_harmonized
from standards.validation.limits import ReadLimits


def _columns() -> dict[str, str]:
    """The standard's columns -> the observation table's (declared once, in the DSD)."""
    standard = load_standard()
    return {**{d.id: d.column for d in standard.dimensions}, standard.measure: "value",
            **{a.id: a.column for a in standard.attributes}, "DERIVED": "derived"}


COLUMNS = _columns()
OBSERVATION_COLUMNS = ["dataset_id", "submission_id", "revision", *COLUMNS.values()]


def harmonized_rows(store: FileStore, submission: Submission, limits: ReadLimits
                    ) -> pl.DataFrame:
    """The submission's rows mapped to standard codes, missing totals derived."""
    standard = load_standard()
    frame, _notes = load_harmonized(store.path(submission.storage_key),
                                    file_format=submission.file_format,
                                    standard_version=submission.standard_version,
                                    standard=standard, limits=limits)
    return derive_totals(frame, standard).rename(COLUMNS)


def replace_observations(session: Session, submission: Submission, rows: pl.DataFrame) -> bool:
    """Make ``rows`` the state-quarter's observations, unless a newer revision is current
    already (then this one stays in the history only). True when the rows were loaded."""
    dataset = session.exec(select(Dataset).where(Dataset.id == submission.dataset_id)
                           .with_for_update()).one()
    if dataset.harmonized_revision > submission.revision:
        return False
    rows = rows.with_columns(
        pl.lit(dataset.id).alias("dataset_id"), pl.lit(submission.id).alias("submission_id"),
        pl.lit(submission.revision).alias("revision"))
    session.execute(sa.delete(Observation).where(Observation.ref_area == dataset.ref_area,
                                                 Observation.period == dataset.period))
    insert_observations(session, rows)
    dataset.harmonized_revision = submission.revision
    session.add(dataset)
    record(session, actor="system", action=Action.SUBMISSION_HARMONIZED,
           target=f"submission/{submission.id}",
           detail={"observations": rows.height,
                   "derived": int(rows["derived"].sum()) if rows.height else 0})
    return True


def insert_observations(session: Session, rows: pl.DataFrame) -> None:
    """Bulk insert inside the session's transaction: COPY on PostgreSQL, the driver's
    ``executemany`` of plain tuples elsewhere (the ORM's per-row dictionaries cost 4x more)."""
    rows = rows.select(OBSERVATION_COLUMNS)
    if not rows.height:
        return
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        buffer = io.BytesIO()
        rows.write_csv(buffer, include_header=False, null_value="\\N")
        with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
                f"COPY observation ({', '.join(OBSERVATION_COLUMNS)}) FROM STDIN "
                "WITH (FORMAT csv, NULL '\\N')") as copy:
            copy.write(buffer.getvalue())
        return
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            f"INSERT INTO observation ({', '.join(OBSERVATION_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(OBSERVATION_COLUMNS))})", rows.iter_rows())
    finally:
        cursor.close()


def observations(session: Session, *, ref_area: str, period: str) -> pl.DataFrame:
    """A state-period's harmonized observations (unprotected: for the roles that may see
    them), in the standard's column names."""
    names = {column: name for name, column in COLUMNS.items()}
    columns = [c for c in OBSERVATION_COLUMNS if c not in ("dataset_id", "submission_id")]
    table = Observation.__table__.c
    rows = session.execute(sa.select(*(table[c] for c in columns)).where(
        table.ref_area == ref_area, table.period == period).order_by(table.id)).all()
    schema = {names.get(c, c.upper()): (pl.Int64 if c in ("value", "revision") else
                                        pl.Boolean if c == "derived" else pl.String)
              for c in columns}
    return pl.DataFrame(rows, schema=schema, orient="row")
