"""What a state's National Coordinator decides (001 lines ~625-666): whether a harmonized
quarter of its state goes into the regional tables (sign-off, withdrawal, send-back with a
reason for the agency) and what may be published of the state's figures (consent).

The decision is kept on the revision it concerns (``Submission.review``): the dataset's
current harmonized revision. A newer harmonized revision starts undecided, so it needs its own
sign-off, and until then the state is "awaiting sign-off" in the regional coverage.

Signing off, withdrawing, or sending back a signed-off revision changes what the regional
tables sum: the state's regions are marked stale and rebuilt *in the caller's transaction*,
with the same service call the pipeline's ``aggregate`` stage makes. The rebuild reads rows
already in the database (one INSERT ... SELECT per region), so it fits in a request; the
decision, the rebuilt tables and the audit entry commit together or not at all, and the
answer already reflects the new tables. Handing it to the queue instead would need a
submission-less task (the pipeline's stages belong to one upload each) and a second
transaction. Functions take the caller's session and never commit.
"""

from __future__ import annotations

import hashlib

from sqlmodel import Session, select

from exchange.accounts.models import PublicationConsent, State
from exchange.audit.service import Action, record
from exchange.auth import policy
from exchange.auth.principal import Principal
from exchange.core.columns import utcnow
from exchange.core.problems import Problem, not_found
from exchange.regional.service import mark_regions_stale, rebuild_regional
from exchange.submissions.models import Dataset, Submission
from exchange.submissions.status import ReviewDecision


def sign_off(session: Session, *, principal: Principal, ref_area: str, period: str,
             revision: int | None = None) -> tuple[Submission, list[str]]:
    """Sign off the state-quarter's current harmonized revision for regional use (``revision``,
    when given, must be it: what the coordinator looked at is what gets signed). Returns the
    revision and the regions rebuilt; signing off twice changes nothing."""
    policy.require_state(principal, policy.Permission.SIGN_OFF, ref_area)
    submission = _current_harmonized(session, ref_area, period, revision, "sign off")
    if submission.review == ReviewDecision.SIGNED_OFF:
        return submission, []
    _decide(submission, ReviewDecision.SIGNED_OFF, None)
    session.add(submission)
    record(session, actor=principal.client_id, action=Action.DATASET_SIGNED_OFF,
           target=_target(ref_area, period),
           detail={"revision": submission.revision, "submission_id": submission.id})
    return submission, _rebuild(session, ref_area, period)


def withdraw_sign_off(session: Session, *, principal: Principal, ref_area: str, period: str
                      ) -> tuple[Submission, list[str]]:
    """Take back the sign-off of the current harmonized revision: the regional tables stop
    summing the state for the quarter. 409 when it is not signed off."""
    policy.require_state(principal, policy.Permission.SIGN_OFF, ref_area)
    submission = _current_harmonized(session, ref_area, period, None, "withdraw a sign-off of")
    if submission.review != ReviewDecision.SIGNED_OFF:
        raise Problem(409, "not-signed-off", "Not signed off",
                      f"Revision {submission.revision} of {ref_area} {period} is not signed off.")
    _decide(submission, ReviewDecision.WITHDRAWN, None)
    session.add(submission)
    record(session, actor=principal.client_id, action=Action.SIGNOFF_WITHDRAWN,
           target=_target(ref_area, period),
           detail={"revision": submission.revision, "submission_id": submission.id})
    return submission, _rebuild(session, ref_area, period)


def send_back(session: Session, *, principal: Principal, ref_area: str, period: str,
              reason: str, revision: int | None = None) -> tuple[Submission, list[str]]:
    """Return the current harmonized revision to the state's agency with a reason, shown on
    that submission. A signed-off revision sent back leaves the regional tables.

    The audit entry keeps the reason's SHA-256 and length, not its text: the log can never be
    erased, and a free-text note may quote a small count or a name, which the submission row
    (readable only by the state and the admin) can be corrected for, but the log could not.
    """
    policy.require_state(principal, policy.Permission.SIGN_OFF, ref_area)
    submission = _current_harmonized(session, ref_area, period, revision, "send back")
    was_included = submission.review == ReviewDecision.SIGNED_OFF
    _decide(submission, ReviewDecision.SENT_BACK, reason)
    session.add(submission)
    record(session, actor=principal.client_id, action=Action.DATASET_SENT_BACK,
           target=_target(ref_area, period),
           detail={"revision": submission.revision, "submission_id": submission.id,
                   "reason_sha256": hashlib.sha256(reason.encode()).hexdigest(),
                   "reason_chars": len(reason)})
    return submission, _rebuild(session, ref_area, period) if was_included else []


def get_consent(session: Session, *, principal: Principal, ref_area: str) -> State:
    policy.require_state(principal, policy.Permission.VIEW_CONSENT, ref_area)
    state = session.get(State, ref_area)
    if state is None:
        raise not_found(f"State {ref_area}")
    return state


def set_consent(session: Session, *, principal: Principal, ref_area: str,
                consent: PublicationConsent) -> State:
    """Set what may be published of the state's figures: regional aggregates only, or national
    tables too. Audited when it changes. (Publication reads it; the regional tables do not
    depend on it, so nothing is rebuilt.)"""
    policy.require_state(principal, policy.Permission.SET_CONSENT, ref_area)
    state = session.exec(select(State).where(State.ref_area == ref_area)
                         .with_for_update()).first()
    if state is None:
        raise not_found(f"State {ref_area}")
    if state.publication_consent != consent:
        record(session, actor=principal.client_id, action=Action.CONSENT_SET,
               target=f"state/{ref_area}",
               detail={"from": state.publication_consent, "to": consent.value})
        state.publication_consent = consent.value
        session.add(state)
    return state


def _current_harmonized(session: Session, ref_area: str, period: str, revision: int | None,
                        verb: str) -> Submission:
    """The submission of the state-quarter's current harmonized revision, with the dataset row
    locked: a harmonization finishing meanwhile waits, so the decision cannot land on a
    revision that has just been replaced."""
    dataset = session.exec(select(Dataset).where(Dataset.ref_area == ref_area,
                                                 Dataset.period == period)
                           .with_for_update()).first()
    if dataset is None:
        raise not_found(f"Data of {ref_area} for {period}")
    if dataset.harmonized_revision == 0:
        raise Problem(409, "not-harmonized", "Not harmonized",
                      f"{ref_area} {period} has no harmonized revision to {verb} yet (latest "
                      f"revision {dataset.latest_revision} is still being processed or was "
                      "refused).")
    if revision is not None and revision != dataset.harmonized_revision:
        raise Problem(409, "revision-not-current", "Not the current harmonized revision",
                      f"Revision {revision} of {ref_area} {period} is not the current "
                      f"harmonized one ({dataset.harmonized_revision}).",
                      current_revision=dataset.harmonized_revision)
    return session.exec(select(Submission).where(
        Submission.dataset_id == dataset.id,
        Submission.revision == dataset.harmonized_revision)).one()


def _decide(submission: Submission, decision: ReviewDecision, reason: str | None) -> None:
    submission.review = decision.value
    submission.review_reason = reason
    submission.reviewed_at = utcnow()


def _rebuild(session: Session, ref_area: str, period: str) -> list[str]:
    mark_regions_stale(session, ref_area, period)
    return rebuild_regional(session, ref_area, period)


def _target(ref_area: str, period: str) -> str:
    return f"dataset/{ref_area}/{period}"
