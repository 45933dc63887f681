"""The audit log records who did what, and any edit to it is detected."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select
from typer.testing import CliRunner

from exchange.audit.models import AuditEntry
from exchange.audit.service import verify_chain
from exchange.core.config import Settings
from exchange.core.db import get_engine, session_scope


def _actions(settings: Settings) -> list[tuple[str, str]]:
    with session_scope(settings.resolved_database_url) as session:
        return [(e.actor, e.action) for e in
                session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]


def test_uploads_logins_and_restricted_reads_are_logged(client, kaz, upload, valid_csv,
                                                        settings) -> None:
    submission_id = upload(kaz, valid_csv).json()["id"]
    client.get(f"/api/v1/submissions/{submission_id}/report", headers=kaz.headers)
    client.get(f"/api/v1/submissions/{submission_id}/file", headers=kaz.headers)
    client.post("/api/v1/auth/token", data={"client_id": kaz.client_id, "client_secret": "no"})

    actions = _actions(settings)
    for expected in [("cli", "client.created"), (kaz.client_id, "auth.login"),
                     (kaz.client_id, "submission.created"), ("system", "submission.validated"),
                     (kaz.client_id, "report.read"), (kaz.client_id, "raw_file.read"),
                     (kaz.client_id, "auth.login_failed")]:
        assert expected in actions, expected


def test_chain_verifies_then_detects_an_edited_entry(kaz, upload, valid_csv, settings) -> None:
    upload(kaz, valid_csv)
    url = settings.resolved_database_url
    with session_scope(url) as session:
        assert verify_chain(session).ok
        victim = session.exec(select(AuditEntry).where(
            AuditEntry.action == "submission.created")).one()
    with get_engine(url).begin() as conn:
        conn.execute(sa.update(AuditEntry.__table__).where(AuditEntry.id == victim.id)
                     .values(actor="someone-else"))
    with session_scope(url) as session:
        result = verify_chain(session)
    assert not result.ok
    assert result.first_bad_id == victim.id


def test_chain_detects_a_deleted_entry_and_a_truncated_tail(kaz, upload, valid_csv,
                                                            settings) -> None:
    upload(kaz, valid_csv)
    url = settings.resolved_database_url
    with session_scope(url) as session:
        ids = [e.id for e in session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]
    with get_engine(url).begin() as conn:
        conn.execute(sa.delete(AuditEntry.__table__).where(AuditEntry.id == ids[1]))
    with session_scope(url) as session:
        assert verify_chain(session).first_bad_id == ids[2]
    with get_engine(url).begin() as conn:
        conn.execute(sa.delete(AuditEntry.__table__).where(AuditEntry.id >= ids[1]))
    with session_scope(url) as session:
        result = verify_chain(session)
    assert not result.ok and "removed" in result.reason


def test_mmx_audit_verify_exit_codes(kaz, upload, valid_csv, settings, monkeypatch) -> None:
    from exchange.core.config import get_settings
    from mmx.main import cli as app

    upload(kaz, valid_csv)
    monkeypatch.setenv("MMX_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MMX_DATABASE_URL", settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        ok = CliRunner().invoke(app, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert "intact" in ok.output
        with get_engine(settings.resolved_database_url).begin() as conn:
            conn.execute(sa.update(AuditEntry.__table__).where(AuditEntry.id == 1)
                         .values(action="nothing.to.see"))
        bad = CliRunner().invoke(app, ["audit", "verify"])
        assert bad.exit_code == 1
        assert "TAMPERED at entry 1" in bad.output
    finally:
        get_settings.cache_clear()
