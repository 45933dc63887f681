"""A state's National Coordinator (001 lines ~625-666): signs off its state's harmonized
quarter for the regional tables, withdraws a sign-off, sends a quarter back to its agency with a
reason, sets the state's publication consent. Only for its own state; every decision audited."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest
import sqlalchemy as sa
from sqlmodel import select

from exchange.audit.models import AuditEntry
from exchange.audit.service import Action, verify_chain
from exchange.core.db import session_scope
from exchange.harmonization.models import Observation
from exchange.regional.models import RegionalObservation
from mmx.main import cli as mmx
from tests.api.conftest import csv_bytes
from tests.api.test_hardening import serve
from tests.conftest import corrupt

SIGNOFF = "/api/v1/datasets/KAZ/2026-Q3/signoff"
SENDBACK = "/api/v1/datasets/KAZ/2026-Q3/sendback"
CONSENT = "/api/v1/states/KAZ/consent"


@pytest.fixture
def kaz_coordinator(account):
    return account("coordinator", "KAZ")


@pytest.fixture
def harmonized(client, kaz, upload, valid_csv) -> dict:
    """KAZ 2026-Q3, revision 1, harmonized (inline processing)."""
    created = upload(kaz, valid_csv)
    assert created.status_code == 202, created.text
    current = client.get(f"/api/v1/submissions/{created.json()['id']}", headers=kaz.headers)
    assert current.json()["status"] == "harmonized"
    return current.json()


def _regional_sum(settings, region: str = "CENTRAL_ASIA") -> int:
    with session_scope(settings.resolved_database_url, writes=False) as session:
        return int(session.exec(select(sa.func.coalesce(sa.func.sum(RegionalObservation.value),
                                                        0))
                                .where(RegionalObservation.region == region)).one())


def _national_sum(settings, ref_area: str = "KAZ") -> int:
    """Every harmonized observation of the state, derived totals and bands included."""
    with session_scope(settings.resolved_database_url, writes=False) as session:
        return int(session.exec(select(sa.func.sum(Observation.value))
                                .where(Observation.ref_area == ref_area)).one())


def _audited(settings, action: str) -> list[AuditEntry]:
    with session_scope(settings.resolved_database_url, writes=False) as session:
        assert verify_chain(session).ok
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)
                                 .order_by(AuditEntry.id)).all())


def _coverage(client, who, period: str = "2026-Q3", region: str = "CENTRAL_ASIA") -> dict:
    response = client.get(f"/api/v1/regions/{region}/coverage", params={"period": period},
                          headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_withdrawing_a_sign_off_changes_the_aggregates(
        client, settings, kaz_coordinator, analyst, harmonized) -> None:
    total = _national_sum(settings)
    assert _regional_sum(settings) == 0
    assert _coverage(client, analyst)["awaiting_signoff"] == ["KAZ"]

    signed = client.post(SIGNOFF, headers=kaz_coordinator.headers)
    assert signed.status_code == 200, signed.text
    assert signed.json()["submission_id"] == harmonized["id"]
    assert _regional_sum(settings) == total
    assert _regional_sum(settings, "ALMATY_PROCESS") == total
    assert _coverage(client, analyst)["included"] == ["KAZ"]

    withdrawn = client.delete(SIGNOFF, headers=kaz_coordinator.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["decision"] == "withdrawn"
    assert _regional_sum(settings) == 0
    after = _coverage(client, analyst)
    assert after["included"] == [] and after["awaiting_signoff"] == ["KAZ"]
    assert after["stale"] is False

    again = client.delete(SIGNOFF, headers=kaz_coordinator.headers)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/not-signed-off")

    signed_off = _audited(settings, Action.DATASET_SIGNED_OFF)
    assert [(e.actor, e.target, e.detail["revision"]) for e in signed_off] == [
        (kaz_coordinator.client_id, "dataset/KAZ/2026-Q3", 1)]
    assert [e.actor for e in _audited(settings, Action.SIGNOFF_WITHDRAWN)] == [
        kaz_coordinator.client_id]


def test_signing_off_twice_changes_nothing(client, settings, kaz_coordinator,
                                           harmonized) -> None:
    assert client.post(SIGNOFF, headers=kaz_coordinator.headers).status_code == 200
    second = client.post(SIGNOFF, headers=kaz_coordinator.headers)
    assert second.status_code == 200 and second.json()["decision"] == "signed_off"
    assert second.json()["regions_rebuilt"] == []
    assert len(_audited(settings, Action.DATASET_SIGNED_OFF)) == 1


def test_another_states_coordinator_is_refused(client, account, harmonized) -> None:
    kgz = account("coordinator", "KGZ")
    for method, url, body in (("POST", SIGNOFF, None), ("DELETE", SIGNOFF, None),
                              ("POST", SENDBACK, {"reason": "not yours"}),
                              ("PUT", CONSENT, {"publication_consent": "national"})):
        response = client.request(method, url, json=body, headers=kgz.headers)
        assert response.status_code == 403, (method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert "KGZ only, not KAZ" in response.json()["detail"]


@pytest.mark.parametrize("role", ["submitter", "analyst", "admin"])
def test_only_a_coordinator_signs_off(client, account, harmonized, role) -> None:
    caller = account(role, "KAZ" if role == "submitter" else None)
    response = client.post(SIGNOFF, headers=caller.headers)
    assert response.status_code == 403
    assert f"Role {role} may not sign off" in response.json()["detail"]


def test_sign_off_of_a_not_harmonized_dataset_is_refused(
        client, settings, kaz, kaz_coordinator, upload, example) -> None:
    assert client.post(SIGNOFF, headers=kaz_coordinator.headers).status_code == 404
    rejected = upload(kaz, csv_bytes(corrupt(example, 3, "CITIZENSHIP", "AFX")))
    assert client.get(rejected.headers["location"], headers=kaz.headers
                      ).json()["status"] == "rejected"
    for method, url, body in (("POST", SIGNOFF, None), ("DELETE", SIGNOFF, None),
                              ("POST", SENDBACK, {"reason": "x"})):
        refused = client.request(method, url, json=body, headers=kaz_coordinator.headers)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/not-harmonized")
    assert _audited(settings, Action.DATASET_SIGNED_OFF) == []


def test_only_the_reviewed_revision_is_signed_off(
        client, kaz, kaz_coordinator, upload, example, harmonized) -> None:
    doubled = example.with_columns((pl.col("OBS_VALUE").cast(pl.Int64) * 2).cast(pl.Utf8))
    assert upload(kaz, csv_bytes(doubled)).json()["revision"] == 2
    stale = client.post(SIGNOFF, json={"revision": 1}, headers=kaz_coordinator.headers)
    assert stale.status_code == 409
    assert stale.json()["type"].endswith("/revision-not-current")
    assert stale.json()["current_revision"] == 2
    current = client.post(SIGNOFF, json={"revision": 2}, headers=kaz_coordinator.headers)
    assert current.status_code == 200 and current.json()["revision"] == 2


def test_a_sent_back_quarter_shows_its_reason_to_the_submitter(
        client, settings, kaz, kaz_coordinator, analyst, harmonized) -> None:
    client.post(SIGNOFF, headers=kaz_coordinator.headers)
    assert _regional_sum(settings) > 0
    reason = "Arrivals of Q3 lack the September figures of two border posts."
    sent = client.post(SENDBACK, json={"reason": reason}, headers=kaz_coordinator.headers)
    assert sent.status_code == 200, sent.text
    assert sent.json()["decision"] == "sent_back" and sent.json()["reason"] == reason
    assert sent.json()["regions_rebuilt"]  # it was signed off: the tables drop it
    assert _regional_sum(settings) == 0

    url = f"/api/v1/submissions/{harmonized['id']}"
    seen = client.get(url, headers=kaz.headers).json()
    assert seen["status"] == "harmonized"
    assert seen["review"]["decision"] == "sent_back" and seen["review"]["reason"] == reason
    listed = client.get("/api/v1/submissions", headers=kaz.headers).json()["items"][0]
    assert listed["review"]["reason"] == reason
    # The task force sees the decision; the reason may quote unprotected figures.
    assert client.get(url, headers=analyst.headers).json()["review"] == {
        "decision": "sent_back", "reason": None, "at": seen["review"]["at"]}
    # The audit log proves the reason without keeping its text.
    entry = _audited(settings, Action.DATASET_SENT_BACK)[0]
    assert entry.actor == kaz_coordinator.client_id
    assert entry.detail["reason_sha256"] == hashlib.sha256(reason.encode()).hexdigest()
    assert reason not in str(entry.detail)


def test_send_back_needs_a_reason(client, kaz_coordinator, harmonized) -> None:
    for body in ({}, {"reason": ""}, {"reason": "x" * 1001}):
        assert client.post(SENDBACK, json=body, headers=kaz_coordinator.headers
                           ).status_code == 422


def test_publication_consent_defaults_to_regional_only_and_is_the_coordinators(
        client, settings, kaz, kaz_coordinator, analyst) -> None:
    assert client.get(CONSENT, headers=kaz.headers).json() == {
        "ref_area": "KAZ", "publication_consent": "regional_only"}
    changed = client.put(CONSENT, json={"publication_consent": "national"},
                         headers=kaz_coordinator.headers)
    assert changed.status_code == 200, changed.text
    assert client.get(CONSENT, headers=analyst.headers).json()["publication_consent"] \
        == "national"
    unchanged = client.put(CONSENT, json={"publication_consent": "national"},
                           headers=kaz_coordinator.headers)
    assert unchanged.status_code == 200
    assert client.put(CONSENT, json={"publication_consent": "everything"},
                      headers=kaz_coordinator.headers).status_code == 422
    entries = _audited(settings, Action.CONSENT_SET)
    assert [(e.actor, e.target, e.detail) for e in entries] == [
        (kaz_coordinator.client_id, "state/KAZ", {"from": "regional_only", "to": "national"})]


def test_coordinator_cli_over_http(app, cli, settings, kaz, kaz_coordinator, harmonized
                                   ) -> None:
    """`mmx signoff`, `mmx sendback`, `mmx consent` talk to a served exchange; `mmx status`
    shows the agency the coordinator's decision."""
    with serve(app) as url:
        env = {"MMX_URL": url, "MMX_TOKEN": kaz_coordinator.token, "NO_COLOR": "1",
               "COLUMNS": "200"}
        signed = cli.invoke(mmx, ["signoff", "kaz", "2026-Q3", "--revision", "1"], env=env)
        assert signed.exit_code == 0, signed.output
        assert "KAZ 2026-Q3 revision 1" in signed.stdout and "signed off" in signed.stdout
        assert "CENTRAL_ASIA" in signed.stdout
        withdrawn = cli.invoke(mmx, ["signoff", "KAZ", "2026-Q3", "--withdraw"], env=env)
        assert withdrawn.exit_code == 0 and "withdrawn" in withdrawn.stdout
        refused = cli.invoke(mmx, ["signoff", "KAZ", "2026-Q3", "--withdraw"], env=env)
        assert refused.exit_code == 1 and "409" in refused.stderr
        foreign = cli.invoke(mmx, ["signoff", "KGZ", "2026-Q3"], env=env)
        assert foreign.exit_code == 1 and "403" in foreign.stderr
        sent = cli.invoke(mmx, ["sendback", "KAZ", "2026-Q3", "--reason", "Q3 lacks September."],
                          env=env)
        assert sent.exit_code == 0 and "sent back" in sent.stdout
        shown = cli.invoke(mmx, ["consent", "KAZ"], env=env)
        assert shown.stdout.strip() == "KAZ: publication consent regional_only"
        changed = cli.invoke(mmx, ["consent", "KAZ", "--set", "national"], env=env)
        assert changed.stdout.strip() == "KAZ: publication consent national"

        status = cli.invoke(mmx, ["status", str(harmonized["id"])],
                            env={**env, "MMX_TOKEN": kaz.token})
        assert status.exit_code == 0, status.output
        assert "National Coordinator: sent back — Q3 lacks September." in status.stdout
