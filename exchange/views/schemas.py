"""Bodies of the views endpoints (JSON); the CSV forms are flat tables of the same content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, create_model

from exchange.views.annual import AnnualTable, Basis
from exchange.views.coverage import Cell, CellState, Matrix, RevisionEntry
from standards.unhcr import load_unhcr


class RevisionOut(BaseModel):
    revision: int
    submission_id: int
    status: str = Field(description="The submission's status (received ... harmonized, "
                        "rejected, failed).")
    review: str | None = Field(description="The National Coordinator's decision on it: "
                               "signed_off, sent_back, withdrawn; null: none.")
    received_at: datetime
    updated_at: datetime
    reviewed_at: datetime | None

    @classmethod
    def of(cls, r: RevisionEntry) -> RevisionOut:
        return cls(revision=r.revision, submission_id=r.submission_id, status=r.status,
                   review=r.review, received_at=r.received_at, updated_at=r.updated_at,
                   reviewed_at=r.reviewed_at)


class QualityFlags(BaseModel):
    """Observations of the current harmonized revision by OBS_STATUS."""

    estimated: int = Field(description="OBS_STATUS E.")
    provisional: int = Field(description="OBS_STATUS P.")
    breaks: int = Field(description="OBS_STATUS B (break in series).")


class CellOut(BaseModel):
    ref_area: str
    period: str
    expected: bool = Field(description="The state takes part from this quarter on.")
    state: CellState = Field(description="How far the latest revision got: missing, received, "
                             "rejected, harmonized, signed_off, released.")
    latest_revision: int
    harmonized_revision: int = Field(description="The revision in the harmonized data (0: "
                                     "none); may be older than the latest.")
    flags: QualityFlags
    revisions: list[RevisionOut]

    @classmethod
    def of(cls, c: Cell) -> CellOut:
        return cls(ref_area=c.ref_area, period=c.period, expected=c.expected, state=c.state,
                   latest_revision=c.latest_revision, harmonized_revision=c.harmonized_revision,
                   flags=QualityFlags(**c.flags),
                   revisions=[RevisionOut.of(r) for r in c.revisions])


class MatrixOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {
        "region": "CENTRAL_ASIA", "periods": ["2026-Q2", "2026-Q3"],
        "states": ["KAZ", "KGZ"],
        "cells": [{"ref_area": "KAZ", "period": "2026-Q3", "expected": True,
                   "state": "signed_off", "latest_revision": 2, "harmonized_revision": 2,
                   "flags": {"estimated": 120, "provisional": 0, "breaks": 0},
                   "revisions": [{"revision": 1, "submission_id": 41, "status": "rejected",
                                  "review": None, "received_at": "2026-10-20T08:00:00Z",
                                  "updated_at": "2026-10-20T08:00:03Z",
                                  "reviewed_at": None}]}]}})

    region: str | None
    periods: list[str]
    states: list[str]
    cells: list[CellOut]

    @classmethod
    def of(cls, m: Matrix) -> MatrixOut:
        return cls(region=m.region, periods=m.periods, states=m.states,
                   cells=[CellOut.of(c) for c in m.cells])


def matrix_frame(m: Matrix) -> pl.DataFrame:
    """The matrix as a flat table: one row per cell, its revisions in one column
    (``"1 rejected 2026-10-20T08:00:00+00:00; 2 harmonized signed_off ..."``)."""
    def history(c: Cell) -> str:
        return "; ".join(" ".join(filter(None, [str(r.revision), r.status, r.review,
                                                r.received_at.isoformat()]))
                         for r in c.revisions)

    return pl.DataFrame(
        [(c.ref_area, c.period, c.expected, c.state.value, c.latest_revision,
          c.harmonized_revision, *c.flags.values(), history(c)) for c in m.cells],
        schema={"REF_AREA": pl.String, "TIME_PERIOD": pl.String, "EXPECTED": pl.Boolean,
                "STATE": pl.String, "LATEST_REVISION": pl.Int64,
                "HARMONIZED_REVISION": pl.Int64, "ESTIMATED": pl.Int64,
                "PROVISIONAL": pl.Int64, "BREAKS": pl.Int64, "REVISIONS": pl.String},
        orient="row")


class QuarterOut(BaseModel):
    period: str
    release_id: int | None = Field(description="The release the quarter's figures come from "
                                   "(protected basis); null: none visible, or harmonized.")
    release_number: int | None
    coverage: dict[str, list[str]] = Field(
        default_factory=dict, description="Region -> the states its table in that release "
        "sums: a region's year adds up quarters that may cover different states.")


def _row_model() -> type[BaseModel]:
    """One row of the annual export, its demographic columns generated from
    ``standards/data/unhcr.yaml`` (f_0_4 ... m_total, total)."""
    index: dict[str, Any] = {
        "year": (int, ...), "coo_iso": (str, Field(description="Country of origin: "
                                                   "CITIZENSHIP.")),
        "coa_iso": (str, Field(description="Country of asylum: the reporting state, or a "
                               "region for its total.")),
        "pop_type": (str, Field(description="UNHCR population type.")),
        "measure": (str, Field(description="Our MEASURE (stock: year end; flow: the year).")),
        "unhcr_table": (str, Field(description="The Refugee Data Finder table it compares "
                                   "with."))}
    values: dict[str, Any] = {c: (int | None, None) for c in load_unhcr().value_columns}
    return create_model(  # type: ignore[call-overload, no-any-return]
        "AnnualRow", **index, **values,
        flags=(str | None, Field(None, description="Each empty column and why: "
                                 "`f_0_4: 2026-Q2 suppressed (A)`, `2026-Q3 missing`, "
                                 "`not reported`.")))


AnnualRow = _row_model()


class AnnualOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {
        "year": 2026, "basis": "protected",
        "source": "UNHCR Refugee Data Finder (https://www.unhcr.org/refugee-statistics/)",
        "quarters": [{"period": "2026-Q4", "release_id": 7, "release_number": 1,
                      "coverage": {"CENTRAL_ASIA": ["KAZ", "KGZ"]}}],
        "rows": [{"year": 2026, "coo_iso": "AFG", "coa_iso": "KAZ", "pop_type": "REF",
                  "measure": "STOCK", "unhcr_table": "demographics", "f_0_4": 35,
                  "f_total": 410, "m_60": None, "total": 880,
                  "flags": "m_60: 2026-Q4 suppressed (A)"}]}})

    year: int
    basis: Basis
    source: str = Field(description="The UNHCR tables the columns follow.")
    quarters: list[QuarterOut]
    rows: list[AnnualRow]  # type: ignore[valid-type]

    @classmethod
    def of(cls, t: AnnualTable) -> AnnualOut:
        return cls(year=t.year, basis=t.basis, source=t.source,
                   quarters=[QuarterOut(period=q.period, release_id=q.release_id,
                                        release_number=q.release_number,
                                        coverage=q.coverage)
                             for q in t.quarters],
                   rows=[AnnualRow(**row) for row in t.rows.to_dicts()])
