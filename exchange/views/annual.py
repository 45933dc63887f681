"""Annual figures in the shape of UNHCR's Refugee Data Finder, read from the quarters.

The derivation (stocks: the fourth quarter; flows: the sum of four; any suppressed or missing
input empties the year) and the UNHCR shape are pure, in ``standards.annual`` and
``standards.unhcr``; this module chooses the quarterly cells and reads them.

Two bases:

- ``protected`` (anyone, the default): the published, disclosure-controlled cells of the
  latest release of each quarter the caller may see (areas: the states that consented to
  national publication, and the regions). A year built only from published values (and empty
  wherever one of them is suppressed) reveals nothing its quarters do not.
- ``harmonized`` (``VIEW_HARMONIZED``: the task force for every state, an agency or
  coordinator for its own): the current harmonized observations of each state, unprotected,
  for analysis inside the exchange.

Only the cells UNHCR's tables have a counterpart for are read: all specific needs together
(SPEC_NEED ``_T``), every origin or destination together (COUNTERPART_AREA ``_T``, or ``_Z``
for a measure without one), the population types, sexes, ages and measures of
``standards/data/unhcr.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import polars as pl
import sqlalchemy as sa
from sqlmodel import Session

from exchange.auth import policy
from exchange.auth.principal import Principal
from exchange.core.problems import unauthorized
from exchange.harmonization.models import Observation
from exchange.publication.models import ReleaseCell
from exchange.publication.service import latest_releases
from standards import load_standard
from standards.annual import derive_annual, measure_kinds, quarters_of
from standards.unhcr import load_unhcr, to_unhcr

COLUMNS = ("CITIZENSHIP", "POP_GROUP", "MEASURE", "SEX", "AGE")


class Basis(StrEnum):
    PROTECTED = "protected"  # published cells of releases
    HARMONIZED = "harmonized"  # unprotected harmonized observations


@dataclass(frozen=True)
class QuarterSource:
    """Where a quarter's figures came from: a release (protected), or the harmonized data."""

    period: str
    release_id: int | None = None
    release_number: int | None = None
    # Region -> the states its table in the release sums.
    coverage: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class AnnualTable:
    year: int
    basis: Basis
    source: str
    quarters: list[QuarterSource]
    rows: pl.DataFrame  # UNHCR's shape (standards.unhcr.to_unhcr)


def annual_table(session: Session, *, principal: Principal | None, year: int, basis: Basis,
                 area: str | None = None) -> AnnualTable:
    """The year's figures in UNHCR's shape, on the basis asked for. The harmonized basis
    needs ``VIEW_HARMONIZED`` (401 without a token, 403 for a role without it) and is limited
    to the caller's state when its scope is its own state."""
    if basis == Basis.HARMONIZED:
        if principal is None:
            raise unauthorized("Harmonized (unprotected) figures need a token; published "
                               "figures do not.")
        only = policy.states_visible(principal, policy.Permission.VIEW_HARMONIZED)
        if only is not None and area is not None and area != only:
            policy.require_state(principal, policy.Permission.VIEW_HARMONIZED, area)
        cells, sources = _harmonized(session, year, area or only)
    else:
        cells, sources = _protected(session, principal, year, area)
    standard = load_standard()
    kinds = measure_kinds({c.id: c.properties for c in standard.codelists["CL_MEASURE"].codes})
    annual = derive_annual(cells, year=year, kinds=kinds)
    shape = load_unhcr()
    return AnnualTable(year=year, basis=basis, source=shape.source, quarters=sources,
                       rows=to_unhcr(annual, shape))


def _filters(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    """The cells UNHCR's tables have a counterpart for (see the module docstring)."""
    shape = load_unhcr()
    codes = load_standard().codelists["CL_MEASURE"].codes
    with_counterpart = [c.id for c in codes if c.id in shape.measures
                        and c.properties.get("counterpart", "none") != "none"]
    c = table.c
    return [c.freq == "Q", c.spec_need == "_T",
            c.measure.in_(list(shape.measures)),
            c.pop_group.in_(list(shape.population_types)),
            c.sex.in_([*shape.sex, "_T"]), c.age.in_(list(shape.age)),
            sa.or_(sa.and_(c.measure.in_(with_counterpart), c.counterpart_area == "_T"),
                   sa.and_(c.measure.not_in(with_counterpart), c.counterpart_area == "_Z"))]


SCHEMA = {"AREA": pl.String, **dict.fromkeys(COLUMNS, pl.String), "TIME_PERIOD": pl.String,
          "OBS_VALUE": pl.Int64, "CONF_STATUS": pl.String}


def _protected(session: Session, principal: Principal | None, year: int, area: str | None
               ) -> tuple[pl.DataFrame, list[QuarterSource]]:
    see_embargoed = policy.sees_embargoed(principal)
    periods = quarters_of(year)
    latest = {r.period: r for r in latest_releases(session, see_embargoed=see_embargoed,
                                                   periods=periods)}
    sources = [QuarterSource(p, latest[p].id, latest[p].number, {
        region: list(entry.get("states", [])) for region, entry in latest[p].coverage.items()})
        if p in latest else QuarterSource(p) for p in periods]
    c = ReleaseCell.__table__.c
    rows: list[sa.Row[tuple[object, ...]]] = []
    for period, release in latest.items():
        query = sa.select(c.area, *(c[k.lower()] for k in COLUMNS), sa.literal(period),
                          c.value, c.conf_status).where(c.release_id == release.id,
                                                        *_filters(ReleaseCell.__table__))
        if area is not None:
            query = query.where(c.area == area)
        rows.extend(session.execute(query).all())
    return pl.DataFrame(rows, schema=SCHEMA, orient="row"), sources


def _harmonized(session: Session, year: int, area: str | None
                ) -> tuple[pl.DataFrame, list[QuarterSource]]:
    periods = quarters_of(year)
    o = Observation.__table__.c
    query = sa.select(o.ref_area, *(o[k.lower()] for k in COLUMNS), o.period, o.value,
                      sa.null()).where(o.period.in_(periods), *_filters(Observation.__table__))
    if area is not None:
        query = query.where(o.ref_area == area)
    frame = pl.DataFrame(session.execute(query).all(), schema=SCHEMA, orient="row")
    return frame, [QuarterSource(p) for p in periods]
