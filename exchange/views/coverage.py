"""The coverage matrix: for each participating state and quarter, how far its data got, how
good it is and how it was revised. It reads the tables of the other domains (datasets and
submissions, harmonized observations, participants, releases) and writes nothing.

How a cell's state is derived, from the *latest revision* (the newest upload) of the
state-quarter, taking the furthest step that revision reached:

- ``missing``: no upload for the state-quarter at all.
- ``received``: the latest revision was received and is, or was, being processed (received,
  validating, validated, harmonizing) or its processing broke (failed).
- ``rejected``: validation refused the latest revision. An earlier harmonized revision may
  still be the one in use (``harmonized_revision`` says which); the cell shows the newest
  upload's fate, because that is what the agency has to act on.
- ``harmonized``: the latest revision is harmonized, and not (or no longer) signed off by the
  state's National Coordinator (undecided, sent back or withdrawn).
- ``signed_off``: the latest revision is harmonized and signed off.
- ``released``: signed off, and a published release of the quarter that the caller may see
  covers the state (the state is among the states of one of its regions) and was requested at
  or after that sign-off. A release requested after the sign-off was built from the tables
  the sign-off rebuilt, so it holds this revision; one requested earlier may not, so it does
  not count (the cell then says ``signed_off``, never more than is known). A revision whose
  sign-off was withdrawn or sent back after a release shows ``harmonized``: the decision's
  time is all that is kept, and the release itself is in the release list.

Quality flags count the observations of the state-quarter's current harmonized revision by
OBS_STATUS (E estimated, P provisional, B break in series); they describe the harmonized data,
which may be an earlier revision than the latest (see ``harmonized_revision``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, select

from exchange.auth import policy
from exchange.auth.principal import Principal
from exchange.core.problems import Problem
from exchange.harmonization.models import Observation
from exchange.publication.models import Release
from exchange.publication.service import visible
from exchange.publication.status import ReleaseStatus
from exchange.regional.models import Participant
from exchange.regional.service import QUARTER_PATTERN, require_region
from exchange.submissions.models import Dataset, Submission
from exchange.submissions.status import ReviewDecision, SubmissionStatus
from standards import load_standard

DEFAULT_QUARTERS = 8
MAX_QUARTERS = 40
# OBS_STATUS codes counted as quality flags (SDMX cross-domain: E estimated, P provisional,
# B break in series) -> the name of the count.
FLAGS = {"E": "estimated", "P": "provisional", "B": "breaks"}


class CellState(StrEnum):
    """How far a state-quarter's latest revision got, in order (see the module docstring)."""

    MISSING = "missing"
    RECEIVED = "received"
    REJECTED = "rejected"
    HARMONIZED = "harmonized"
    SIGNED_OFF = "signed_off"
    RELEASED = "released"


@dataclass(frozen=True)
class RevisionEntry:
    revision: int
    submission_id: int
    status: str
    review: str | None
    received_at: datetime
    updated_at: datetime
    reviewed_at: datetime | None


@dataclass(frozen=True)
class Cell:
    ref_area: str
    period: str
    # A participant from this quarter on (in the region asked for, or in any region).
    expected: bool
    state: CellState
    latest_revision: int = 0
    harmonized_revision: int = 0
    flags: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLAGS.values(), 0))
    revisions: list[RevisionEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Matrix:
    region: str | None
    periods: list[str]
    states: list[str]
    cells: list[Cell]


def coverage_matrix(session: Session, *, principal: Principal, region: str | None,
                    start_period: str | None, end_period: str | None) -> Matrix:
    """The state x quarter matrix of ``region``'s participants, or without a region of every
    participating state the caller may see (a coordinator: those of its state's regions)."""
    first = _participants(session, principal, region)
    states = sorted(first)
    periods = _periods(session, states, start_period, end_period)
    datasets = {(d.ref_area, d.period): d for d in session.exec(select(Dataset).where(
        Dataset.ref_area.in_(states), Dataset.period.in_(periods))).all()}  # type: ignore[attr-defined]
    revisions = _revisions(session, [d.id for d in datasets.values() if d.id is not None])
    flags = _flags(session, states, periods)
    released = _releases(session, principal, periods)
    cells = []
    for state in states:
        for period in periods:
            dataset = datasets.get((state, period))
            history = revisions.get(dataset.id, []) if dataset else []
            cells.append(Cell(
                ref_area=state, period=period, expected=first[state] <= period,
                state=_state(history, released.get(period, []), state),
                latest_revision=dataset.latest_revision if dataset else 0,
                harmonized_revision=dataset.harmonized_revision if dataset else 0,
                flags={name: flags.get((state, period, code), 0)
                       for code, name in FLAGS.items()},
                revisions=history))
    return Matrix(region=region, periods=periods, states=states, cells=cells)


def _state(history: list[RevisionEntry], releases: list[tuple[datetime, set[str]]],
           ref_area: str) -> CellState:
    if not history:
        return CellState.MISSING
    latest = history[-1]
    if latest.status == SubmissionStatus.REJECTED:
        return CellState.REJECTED
    if latest.status != SubmissionStatus.HARMONIZED:
        return CellState.RECEIVED
    if latest.review != ReviewDecision.SIGNED_OFF or latest.reviewed_at is None:
        return CellState.HARMONIZED
    signed = latest.reviewed_at
    if any(ref_area in covered and requested >= signed for requested, covered in releases):
        return CellState.RELEASED
    return CellState.SIGNED_OFF


def _participants(session: Session, principal: Principal, region: str | None
                  ) -> dict[str, str]:
    """State -> the first quarter it takes part from (the earliest over the regions)."""
    if region is not None:
        require_region(principal, policy.Permission.VIEW_COVERAGE, region)
        regions: list[str] | None = [region]
    else:
        own = policy.states_visible(principal, policy.Permission.VIEW_COVERAGE)
        regions = None if own is None else list(load_standard().regions_of(own))
    query = select(Participant.ref_area, sa.func.min(Participant.first_period)).group_by(
        Participant.ref_area)
    if regions is not None:
        query = query.where(Participant.region.in_(regions))  # type: ignore[attr-defined]
    return {ref_area: first for ref_area, first in session.exec(query).all()}


def _periods(session: Session, states: list[str], start: str | None, end: str | None
             ) -> list[str]:
    """The quarters asked for: ``start`` to ``end``; only ``end``: the eight ending there;
    only ``start``: from there to the last quarter with data; neither: the last eight
    quarters in which any of ``states`` has data."""
    for given in (start, end):
        if given is not None and not re.fullmatch(QUARTER_PATTERN, given):
            raise Problem(422, "not-a-quarter", "Not a quarter",
                          f"{given!r} is not a quarter (YYYY-Qn).")
    with_data = sorted(p for p in session.exec(select(Dataset.period).distinct().where(
        Dataset.ref_area.in_(states))).all()  # type: ignore[attr-defined]
        if re.fullmatch(QUARTER_PATTERN, p))
    if start is None and end is None:
        return with_data[-DEFAULT_QUARTERS:]
    if start is None:
        assert end is not None
        return _quarter_range(_shift(end, 1 - DEFAULT_QUARTERS), end)
    end = end or max([start, *with_data[-1:]])
    if end < start:
        raise Problem(422, "period-range", "Empty period range",
                      f"endPeriod {end} is before startPeriod {start}.")
    if _index(end) - _index(start) >= MAX_QUARTERS:
        raise Problem(422, "period-range", "Period range too long",
                      f"{start} to {end} is {_index(end) - _index(start) + 1} quarters; ask "
                      f"for at most {MAX_QUARTERS}.")
    return _quarter_range(start, end)


def _index(quarter: str) -> int:
    return int(quarter[:4]) * 4 + int(quarter[-1]) - 1


def _quarter(index: int) -> str:
    return f"{index // 4:04d}-Q{index % 4 + 1}"


def _shift(quarter: str, by: int) -> str:
    return _quarter(max(0, _index(quarter) + by))


def _quarter_range(start: str, end: str) -> list[str]:
    return [_quarter(i) for i in range(_index(start), _index(end) + 1)]


def _revisions(session: Session, dataset_ids: list[int]) -> dict[int, list[RevisionEntry]]:
    out: dict[int, list[RevisionEntry]] = {}
    for s in session.exec(select(Submission).where(
            Submission.dataset_id.in_(dataset_ids))  # type: ignore[attr-defined]
            .order_by(Submission.dataset_id, Submission.revision)).all():
        out.setdefault(s.dataset_id, []).append(RevisionEntry(
            revision=s.revision, submission_id=s.id or 0, status=s.status, review=s.review,
            received_at=s.created_at, updated_at=s.updated_at, reviewed_at=s.reviewed_at))
    return out


def _flags(session: Session, states: list[str], periods: list[str]
           ) -> dict[tuple[str, str, str], int]:
    o = Observation.__table__.c
    rows = session.execute(
        sa.select(o.ref_area, o.period, o.obs_status, sa.func.count())
        .where(o.ref_area.in_(states), o.period.in_(periods), o.obs_status.in_(list(FLAGS)))
        .group_by(o.ref_area, o.period, o.obs_status)).all()
    return {(a, p, s): int(n) for a, p, s, n in rows}


def _releases(session: Session, principal: Principal, periods: list[str]
              ) -> dict[str, list[tuple[datetime, set[str]]]]:
    """Period -> (requested at, states covered) of each published release the caller may
    see."""
    see_embargoed = policy.sees_embargoed(principal)
    out: dict[str, list[tuple[datetime, set[str]]]] = {}
    for release in session.exec(select(Release).where(
            Release.period.in_(periods),  # type: ignore[attr-defined]
            Release.status == ReleaseStatus.PUBLISHED)).all():
        if not visible(release, see_embargoed=see_embargoed):
            continue
        covered = {s for entry in (release.coverage or {}).values()
                   for s in entry.get("states", [])}
        out.setdefault(release.period, []).append((release.created_at, covered))
    return out
