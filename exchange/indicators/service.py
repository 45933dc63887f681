"""Indicators of releases: computed for a published release by the ``indicators`` stage
(``compute`` reads the release's stored cells in a read transaction and evaluates them with
``standards.indicators``; ``store`` writes the values in the stage's short completing
transaction), and read back: the definitions, and the values of the latest vintage of each
period that the caller may see (published and past any embargo, unless the caller holds
``see_embargoed``). Functions take the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlmodel import Session, select

from exchange.core.columns import utcnow
from exchange.core.db import session_scope
from exchange.indicators.models import IndicatorValue
from exchange.publication import service as publication
from exchange.publication.models import Release, ReleaseCell
from exchange.publication.service import visible
from exchange.publication.status import ReleaseStatus
from standards import load_standard
from standards.indicators import Cell, Change, CoverageCount, evaluate, load_indicators
from standards.indicators import IndicatorValue as Computed
from standards.indicators.periods import earlier, frequency

STAGE = "indicators"
# The indicator DSD's components in its order (MMX_INDICATORS), as ``indicator_rows`` returns
# them; the breakdowns come from indicators.yaml.
DIMENSIONS = ("FREQ", "REF_AREA", "INDICATOR", *load_indicators().breakdown_ids, "TIME_PERIOD")
COMPONENTS = (*DIMENSIONS, "OBS_VALUE", "UNIT_MEASURE", "OBS_STATUS", "CONF_STATUS")
_COLUMNS = {d: {"REF_AREA": "area", "TIME_PERIOD": "period"}.get(d, d.lower())
            for d in DIMENSIONS}
_SCHEMA = {**dict.fromkeys(DIMENSIONS, pl.String), "OBS_VALUE": pl.Float64,
           "UNIT_MEASURE": pl.String, "OBS_STATUS": pl.String, "CONF_STATUS": pl.String}


# --- computing (the ``indicators`` stage) ------------------------------------------------------

def _cells(session: Session, release_id: int, measures: Collection[str] | None) -> list[Cell]:
    """A release's published cells as the evaluator takes them (only the measures some
    formula reads)."""
    dims = [d for d in load_standard().dimensions if d.id not in ("REF_AREA", "TIME_PERIOD")]
    c = ReleaseCell.__table__.c
    query = sa.select(c.area, *(c[d.column] for d in dims), c.value, c.conf_status).where(
        c.release_id == release_id)
    if measures is not None:
        query = query.where(c.measure.in_(sorted(measures)))
    return [Cell(area=row[0], dims={d.id: row[1 + n] for n, d in enumerate(dims)},
                 value=row[-2], conf_status=row[-1])
            for row in session.execute(query).all()]


def _earlier_release(session: Session, release: Release, period: str) -> Release | None:
    """The latest published release of an earlier ``period`` that may be used beside
    ``release``: never one still embargoed after ``release`` becomes public, or a change
    would give its values away before their time."""
    for candidate in session.exec(select(Release).where(
            Release.period == period, Release.status == ReleaseStatus.PUBLISHED)
            .order_by(Release.number.desc())).all():  # type: ignore[attr-defined]
        until = candidate.embargo_until
        if until is None or until <= utcnow() or (
                release.embargo_until is not None and until <= release.embargo_until):
            return candidate
    return None


def compute(database_url: str, release: Release) -> list[Computed]:
    """Every indicator of ``release`` from its published cells, the published cells of the
    earlier periods its changes compare with, and its coverage (in a read transaction; the
    evaluation itself is pure)."""
    definitions = load_indicators()
    measures = definitions.measures()
    freq = frequency(release.period)
    lags = {f.lag[freq] for f in (i.formula for i in definitions.indicators)
            if isinstance(f, Change) and freq in f.lag}
    with session_scope(database_url, writes=False) as session:
        cells = _cells(session, int(release.id or 0), measures)
        previous = {}
        for lag in sorted(lags):
            period = earlier(release.period, lag)
            found = _earlier_release(session, release, period)
            if found is not None:
                previous[period] = _cells(session, int(found.id or 0), measures)
    coverage = {region: CoverageCount(
        reporting=len(entry.get("states", [])),
        participants=len(entry.get("states", [])) + len(entry.get("missing", []))
        + len(entry.get("awaiting_signoff", [])))
        for region, entry in (release.coverage or {}).items()}
    return evaluate(release.period, cells, previous=previous, coverage=coverage,
                    definitions=definitions)


def store(session: Session, release: Release, values: list[Computed]) -> None:
    """Keep the release's indicator values (replacing any a duplicate delivery wrote)."""
    session.execute(sa.delete(IndicatorValue).where(
        IndicatorValue.release_id == release.id))  # type: ignore[arg-type]
    if values:
        session.execute(sa.insert(IndicatorValue), [
            {"release_id": release.id, "indicator": v.indicator, "freq": v.freq,
             "period": v.period, "area": v.area,
             **{dim.lower(): code for dim, code in v.breakdown.items()},
             "value": v.value, "unit_measure": v.unit, "obs_status": v.obs_status,
             "conf_status": v.conf_status, "suppressed_inputs": list(v.suppressed_inputs)}
            for v in values])


# --- reading -----------------------------------------------------------------------------------

def definitions(lang: str | None = None) -> list[dict[str, Any]]:
    """The indicators as declared: labels, definition, formula, unit, Regional Action Plan
    part and sources."""
    declared = load_indicators()
    parts = declared.part
    return [{"id": i.id, "name": dict(i.name), "description": dict(i.description),
             "formula": dict(i.declared), "unit": i.unit, "decimals": i.decimals,
             "breakdowns": list(declared.breakdowns_of(i)),
             "action_plan_part": i.part, "action_plan_part_name": dict(parts[i.part].name),
             "source": [{"file": s.file, "line": s.line, "quote": s.quote} for s in i.source]}
            for i in declared.indicators]


def indicators_done(session: Session) -> set[int]:
    """Published releases whose indicators are done (no stage is due): the ones both the JSON
    API and the SDMX flow read, so the two never disagree."""
    return set(session.exec(select(Release.id).where(
        Release.status == ReleaseStatus.PUBLISHED,
        Release.next_stage.is_(None))).all())  # type: ignore[union-attr, arg-type]


def latest_releases(session: Session, *, see_embargoed: bool,
                    periods: Collection[str] | None = None,
                    now: datetime | None = None) -> list[Release]:
    """The latest published release of each period the caller may see whose indicators are
    done (while a new vintage's indicators are computed, the previous vintage's are served)."""
    return publication.latest_releases(session, see_embargoed=see_embargoed,
                                       periods=periods or None, now=now, settled=True)


def indicator_values(session: Session, *, see_embargoed: bool,
                     release_ids: Collection[int] | None = None,
                     indicators: Collection[str] | None = None,
                     areas: Collection[str] | None = None,
                     periods: Collection[str] | None = None,
                     where: Mapping[str, Collection[str]] | None = None) -> pl.DataFrame:
    """Indicator values with their release: the DSD's components (``COMPONENTS``) plus
    ``SUPPRESSED_INPUTS`` (the keys of the suppressed cells that withheld a value) and
    ``RELEASE_ID``/``RELEASE_NUMBER``. Of the latest visible release of each period, or of
    ``release_ids`` (those the caller may see); ``where`` keeps the rows whose dimension (an
    id of ``DIMENSIONS``: an SDMX key's part) is one of the codes given."""
    if release_ids is None:
        releases = latest_releases(session, see_embargoed=see_embargoed, periods=periods)
    else:
        releases = [r for r in session.exec(select(Release).where(
            Release.id.in_(sorted(release_ids)))).all()  # type: ignore[union-attr]
            if r.status == ReleaseStatus.PUBLISHED and visible(r, see_embargoed=see_embargoed)]
    numbers = {r.id: r.number for r in releases}
    v = IndicatorValue.__table__.c
    breakdowns = [b.lower() for b in load_indicators().breakdown_ids]
    query = sa.select(v.freq, v.area, v.indicator, *(v[b] for b in breakdowns), v.period,
                      v.value, v.unit_measure, v.obs_status, v.conf_status,
                      v.suppressed_inputs, v.release_id).where(
        v.release_id.in_(sorted(numbers)))
    if indicators:
        query = query.where(v.indicator.in_(sorted(indicators)))
    if areas:
        query = query.where(v.area.in_(sorted(areas)))
    if periods:
        query = query.where(v.period.in_(sorted(periods)))
    for dimension, codes in (where or {}).items():
        if dimension not in DIMENSIONS:
            raise ValueError(f"{dimension} is not a dimension of the indicators: {DIMENSIONS}")
        query = query.where(v[_COLUMNS[dimension]].in_(sorted(codes)))
    rows = session.execute(query.order_by(v.period, v.release_id, v.id)).all()
    return pl.DataFrame(
        [(*row[:-1], numbers[row[-1]], row[-1]) for row in rows],
        schema={**_SCHEMA, "SUPPRESSED_INPUTS": pl.List(pl.String), "RELEASE_NUMBER": pl.Int64,
                "RELEASE_ID": pl.Int64}, orient="row").select(
        *COMPONENTS, "SUPPRESSED_INPUTS", "RELEASE_ID", "RELEASE_NUMBER")


def indicator_rows(session: Session, *, see_embargoed: bool = False,
                   release_ids: Collection[int] | None = None,
                   indicators: Collection[str] | None = None,
                   areas: Collection[str] | None = None,
                   periods: Collection[str] | None = None,
                   where: Mapping[str, Collection[str]] | None = None) -> pl.DataFrame:
    """The observations of DF_INDICATORS for SDMX writers: exactly the MMX_INDICATORS
    components in DSD order (``COMPONENTS``: FREQ, REF_AREA, INDICATOR, POP_GROUP, SPEC_NEED,
    MEASURE, CITIZENSHIP, TIME_PERIOD, OBS_VALUE, UNIT_MEASURE, OBS_STATUS, CONF_STATUS), of
    the latest release of each period the caller may see (or of ``release_ids``), filtered
    like ``indicator_values`` (``where``: an SDMX key as {dimension id: codes}). A withheld
    value has OBS_VALUE null and CONF_STATUS S."""
    return indicator_values(session, see_embargoed=see_embargoed, release_ids=release_ids,
                            indicators=indicators, areas=areas, periods=periods, where=where
                            ).select(*COMPONENTS)
