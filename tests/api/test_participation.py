"""Participation is voluntary (001 lines 212-214): each region keeps the member states that take
part and the first quarter each reports; coverage expects those only, and only from then on.
The admin changes participants (API and `mmx regions participants`); every change is audited
and rebuilds the region's tables."""

from __future__ import annotations

import re

import polars as pl
import pytest
import sqlalchemy as sa
from sqlmodel import select

from exchange.audit.models import AuditEntry
from exchange.audit.service import Action
from exchange.core.config import get_settings
from exchange.core.db import session_scope
from exchange.regional.models import Participant, RegionalCoverage
from mmx.main import cli as mmx
from tests.api.conftest import csv_bytes

PARTICIPANTS = "/api/v1/regions/{}/participants"


def _as(example: pl.DataFrame, ref_area: str) -> bytes:
    return csv_bytes(example.with_columns(pl.lit(ref_area).alias("REF_AREA")))


def _coverage(client, who, region: str, period: str = "2026-Q3") -> dict:
    response = client.get(f"/api/v1/regions/{region}/coverage", params={"period": period},
                          headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _actions(settings) -> list[tuple[str, str, str]]:
    with session_scope(settings.resolved_database_url, writes=False) as session:
        return [(e.actor, e.action, e.target) for e in session.exec(
            select(AuditEntry).where(AuditEntry.action.startswith("region."))  # type: ignore[attr-defined]
            .order_by(AuditEntry.id)).all()]


def test_every_member_participates_by_default_from_the_configured_quarter(
        client, analyst, settings) -> None:
    listed = client.get(PARTICIPANTS.format("ALMATY_PROCESS"), headers=analyst.headers)
    assert listed.status_code == 200
    assert [(p["ref_area"], p["first_period"]) for p in listed.json()] == [
        (area, settings.participation_from) for area in ("KAZ", "KGZ", "TJK", "TKM")]
    # Nothing reported yet: every participant is missing, nothing is stale.
    assert _coverage(client, analyst, "ALMATY_PROCESS") == {
        "region": "ALMATY_PROCESS", "period": "2026-Q3",
        "expected": ["KAZ", "KGZ", "TJK", "TKM"], "included": [], "provisional": [],
        "awaiting_signoff": [], "missing": ["KAZ", "KGZ", "TJK", "TKM"], "stale": False,
        "updated_at": None}
    registered = [a for a in _actions(settings) if a[1] == Action.REGION_REGISTERED]
    assert ("system", Action.REGION_REGISTERED, "region/WIDER_CENTRAL_ASIA") in registered


def test_coverage_counts_participants_from_their_first_quarter_only(
        client, admin, analyst, kaz, upload, example, settings) -> None:
    upload(kaz, _as(example, "KAZ"))
    assert _coverage(client, analyst, "CENTRAL_ASIA")["missing"] == ["KGZ", "TJK", "TKM", "UZB"]

    removed = client.delete(PARTICIPANTS.format("CENTRAL_ASIA") + "/UZB", headers=admin.headers)
    assert removed.status_code == 204
    later = client.put(PARTICIPANTS.format("CENTRAL_ASIA") + "/TJK",
                       json={"first_period": "2027-Q1"}, headers=admin.headers)
    assert later.status_code == 200 and later.json()["first_period"] == "2027-Q1"

    coverage = _coverage(client, analyst, "CENTRAL_ASIA")
    assert coverage["expected"] == ["KAZ", "KGZ", "TKM"]
    assert coverage["missing"] == ["KGZ", "TKM"] and coverage["awaiting_signoff"] == ["KAZ"]
    assert "TJK" in _coverage(client, analyst, "CENTRAL_ASIA", "2027-Q1")["missing"]
    # Emergency weeks count from their quarter (ISO week 1 of 2027 is in 2027-Q1).
    assert "TJK" not in _coverage(client, analyst, "CENTRAL_ASIA", "2026-W52")["expected"]
    assert "TJK" in _coverage(client, analyst, "CENTRAL_ASIA", "2027-W01")["expected"]
    assert client.put(PARTICIPANTS.format("CENTRAL_ASIA") + "/TJK",
                      json={"first_period": "2027-W01"}, headers=admin.headers
                      ).status_code == 422
    assert client.delete(PARTICIPANTS.format("CENTRAL_ASIA") + "/UZB",
                         headers=admin.headers).status_code == 404
    assert _actions(settings)[-2:] == [
        (admin.client_id, Action.PARTICIPANT_REMOVED, "region/CENTRAL_ASIA/participants/UZB"),
        (admin.client_id, Action.PARTICIPANT_SET, "region/CENTRAL_ASIA/participants/TJK")]


def test_a_state_that_does_not_take_part_is_not_summed(
        client, account, admin, analyst, upload, example) -> None:
    assert client.delete(PARTICIPANTS.format("CENTRAL_ASIA") + "/KGZ",
                         headers=admin.headers).status_code == 204
    upload(account("submitter", "KGZ"), _as(example, "KGZ"), ref_area="KGZ")
    signed = client.post("/api/v1/datasets/KGZ/2026-Q3/signoff",
                         headers=account("coordinator", "KGZ").headers)
    assert signed.status_code == 200
    central = _coverage(client, analyst, "CENTRAL_ASIA")
    assert "KGZ" not in central["expected"] and central["included"] == []
    assert _coverage(client, analyst, "ALMATY_PROCESS")["included"] == ["KGZ"]

    # Taking part again rebuilds the region's existing tables at once.
    back = client.put(PARTICIPANTS.format("CENTRAL_ASIA") + "/KGZ",
                      json={"first_period": "2026-Q1"}, headers=admin.headers)
    assert back.status_code == 200
    assert _coverage(client, analyst, "CENTRAL_ASIA")["included"] == ["KGZ"]


def test_only_members_can_take_part(client, admin) -> None:
    # China was invited to the Almaty conference but did not take part (000 lines 86-92).
    refused = client.put(PARTICIPANTS.format("WIDER_CENTRAL_ASIA") + "/CHN",
                         json={"first_period": "2026-Q1"}, headers=admin.headers)
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/not-a-member")
    assert client.put(PARTICIPANTS.format("WIDER_CENTRAL_ASIA") + "/AFG",
                      json={"first_period": "2026-Q5"}, headers=admin.headers
                      ).status_code == 422
    assert client.get(PARTICIPANTS.format("NOWHERE"), headers=admin.headers
                      ).status_code == 422


def test_a_coordinator_sees_the_regions_of_its_state_only(client, account) -> None:
    kaz = account("coordinator", "KAZ")
    assert client.get(PARTICIPANTS.format("WIDER_CENTRAL_ASIA"), headers=kaz.headers
                      ).status_code == 200
    for url in (PARTICIPANTS.format("ECOWAS"), "/api/v1/regions/ECOWAS/coverage?period=2026-Q3"):
        refused = client.get(url, headers=kaz.headers)
        assert refused.status_code == 403
        assert "regions of KAZ only, not ECOWAS" in refused.json()["detail"]


@pytest.fixture
def cli_env(settings, client, monkeypatch) -> dict[str, str]:
    """The admin's commands on the machine: the same database as the app's."""
    env = {"MMX_DATA_DIR": str(settings.data_dir),
           "MMX_DATABASE_URL": settings.resolved_database_url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def test_admin_cli_manages_participants(cli, cli_env, settings, client, analyst) -> None:
    listed = cli.invoke(mmx, ["regions", "participants", "list", "almaty_process"])
    assert listed.exit_code == 0, listed.output
    assert re.findall(r"^(\w{3})\tfrom (\S+)$", listed.stdout, re.M) == [
        (a, settings.participation_from) for a in ("KAZ", "KGZ", "TJK", "TKM")]

    removed = cli.invoke(mmx, ["regions", "participants", "remove", "ALMATY_PROCESS", "TKM"])
    assert removed.exit_code == 0, removed.output
    moved = cli.invoke(mmx, ["regions", "participants", "set", "ALMATY_PROCESS", "TJK",
                             "--from", "2027-Q1"])
    assert moved.exit_code == 0, moved.output
    assert _coverage(client, analyst, "ALMATY_PROCESS")["expected"] == ["KAZ", "KGZ"]
    coverage = cli.invoke(mmx, ["regions", "coverage", "ALMATY_PROCESS", "2026-Q3"])
    assert coverage.exit_code == 0
    assert re.search(r"^missing:\s+KAZ KGZ$", coverage.stdout, re.M), coverage.stdout

    for args in (["set", "ALMATY_PROCESS", "UZB", "--from", "2026-Q1"],  # not a member
                 ["set", "ALMATY_PROCESS", "KAZ", "--from", "2026"],  # not a quarter
                 ["remove", "ALMATY_PROCESS", "TKM"],  # not a participant any more
                 ["list", "NOWHERE"]):
        refused = cli.invoke(mmx, ["regions", "participants", *args])
        assert refused.exit_code == 2, (args, refused.output)
    assert [a[:2] for a in _actions(settings)[-2:]] == [
        ("cli", Action.PARTICIPANT_REMOVED), ("cli", Action.PARTICIPANT_SET)]


def test_upgrade_prunes_former_members_and_rebuilds_stale_tables(
        cli, cli_env, settings, client, account, analyst, upload, example) -> None:
    """An installation seeded when China was listed in the wider region (before 000's
    attendance list was read exactly) loses that participant at the next `mmx db upgrade`,
    and tables left stale (as migration 0005 leaves them all) are rebuilt."""
    upload(account("submitter", "KAZ"), _as(example, "KAZ"))
    with session_scope(settings.resolved_database_url) as session:
        session.add(Participant(region="WIDER_CENTRAL_ASIA", ref_area="CHN",
                                first_period="2012-Q3"))
        session.execute(sa.update(RegionalCoverage).values(stale=True, awaiting_signoff=[]))
    assert _coverage(client, analyst, "WIDER_CENTRAL_ASIA")["stale"] is True

    upgraded = cli.invoke(mmx, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "0 new regional participant(s)" in upgraded.stdout
    assert "3 regional table(s) rebuilt" in upgraded.stdout
    wider = _coverage(client, analyst, "WIDER_CENTRAL_ASIA")
    assert wider["stale"] is False and wider["awaiting_signoff"] == ["KAZ"]
    assert "CHN" not in wider["expected"]
    assert ("system", Action.PARTICIPANT_REMOVED,
            "region/WIDER_CENTRAL_ASIA/participants/CHN") in _actions(settings)
