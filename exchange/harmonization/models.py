"""Harmonized observations and the dimension columns they share with regional tables."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ObservationKey(SQLModel):
    """The dimensions shared by national and regional observations (REF_AREA aside)."""

    freq: str = Field(default="Q", max_length=1)
    period: str = Field(max_length=8)
    counterpart_area: str = Field(default="_Z", max_length=4)
    pop_group: str = Field(max_length=10)
    spec_need: str = Field(default="_T", max_length=10)
    measure: str = Field(max_length=20)
    citizenship: str = Field(max_length=4)
    sex: str = Field(max_length=2)
    age: str = Field(max_length=8)


class Observation(ObservationKey, table=True):
    """Harmonized observations of the current revision of each state-quarter.

    Derived data, rebuilt from the stored submission whenever needed: it carries its
    provenance (dataset, submission, revision) without foreign keys, because per-row foreign-key
    checks made bulk loading an order of magnitude slower.
    """

    # One index: the state-quarter, by which rows are replaced and regions are summed. More
    # indexes would each slow every bulk load.
    __table_args__ = (sa.Index("ix_observation_area_period", "ref_area", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int
    submission_id: int
    revision: int
    ref_area: str = Field(max_length=3)
    value: int | None = Field(default=None, sa_type=sa.BigInteger)
    obs_status: str | None = Field(default=None, max_length=1)
    unit_measure: str | None = Field(default=None, max_length=10)
    # C or N when the sender flagged the cell: it is never published (disclosure control).
    conf_status: str | None = Field(default=None, max_length=1)
    derived: bool = False
