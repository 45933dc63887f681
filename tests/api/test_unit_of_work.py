"""One transaction per request: what a request writes, and its audit entry, commit together
once the route has answered, or not at all."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from exchange.accounts.models import ApiClient
from exchange.audit.models import AuditEntry
from exchange.auth.principal import Role
from exchange.core.db import session_scope
from exchange.core.outbox import Outbox
from exchange.submissions.models import Submission


def _count(settings, model, **where) -> int:
    with session_scope(settings.resolved_database_url, writes=False) as session:
        query = select(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return len(session.exec(query).all())


def test_a_created_client_and_its_audit_entry_commit_together(client, account, settings
                                                               ) -> None:
    admin = account(Role.ADMIN)
    created = client.post("/api/v1/clients", data={"role": "analyst", "name": "task force"},
                          headers=admin.headers)
    assert created.status_code == 201
    assert created.headers["x-client-secret"]
    assert _count(settings, ApiClient, id=created.json()["id"]) == 1
    assert _count(settings, AuditEntry, action="client.created",
                  target=f"client/{created.json()['id']}") == 1


def test_a_handler_failing_after_writing_leaves_neither_row_nor_audit_entry(
        app, account, settings, monkeypatch) -> None:
    admin = account(Role.ADMIN)
    clients_before = _count(settings, ApiClient)
    audit_before = _count(settings, AuditEntry, action="client.created")

    def broken(_client):
        raise RuntimeError("the response could not be built")

    monkeypatch.setattr("exchange.accounts.routes.ClientPublic.of", broken)
    with TestClient(app, raise_server_exceptions=False) as http:
        response = http.post("/api/v1/clients", data={"role": "analyst", "name": "x"},
                             headers=admin.headers)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert _count(settings, ApiClient) == clients_before
    assert _count(settings, AuditEntry, action="client.created") == audit_before


def test_an_upload_whose_answer_fails_keeps_no_submission_outbox_or_audit_entry(
        app, kaz, valid_csv, settings, monkeypatch) -> None:
    def broken(*_args, **_kwargs):
        raise RuntimeError("the response could not be built")

    monkeypatch.setattr("exchange.submissions.routes.SubmissionOut.of", broken)
    with TestClient(app, raise_server_exceptions=False) as http:
        response = http.post("/api/v1/submissions", data={"ref_area": "KAZ",
                                                          "period": "2026-Q3"},
                             files={"file": ("k.csv", valid_csv, "text/csv")},
                             headers=kaz.headers)
    assert response.status_code == 500
    assert (_count(settings, Submission), _count(settings, Outbox),
            _count(settings, AuditEntry, action="submission.created")) == (0, 0, 0)


@pytest.mark.parametrize("secret", ["wrong", None])
def test_a_refused_login_is_answered_and_still_audited(client, kaz, settings, secret) -> None:
    data = {"client_id": kaz.client_id if secret else "nobody-000000",
            "client_secret": secret or "anything"}
    assert client.post("/api/v1/auth/token", data=data).status_code == 401
    assert _count(settings, AuditEntry, action="auth.login_failed") == 1
