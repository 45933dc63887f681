"""What the upload endpoint refuses, and how it recognises repeats without duplicating."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import select

from exchange.core.config import Settings
from exchange.core.db import session_scope
from exchange.submissions.models import Submission


def _count(settings: Settings) -> int:
    with session_scope(settings.resolved_database_url) as session:
        return len(session.exec(select(Submission)).all())


def _stored_files(settings: Settings) -> list[str]:
    raw = settings.resolved_file_store / "raw"
    return sorted(p.name for p in raw.rglob("*") if p.is_file()) if raw.exists() else []


def test_identical_reupload_is_recognised_by_hash(kaz, upload, valid_csv, settings) -> None:
    first = upload(kaz, valid_csv)
    again = upload(kaz, valid_csv)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert _count(settings) == 1


def test_idempotency_key_replays_and_refuses_other_content(kaz, upload, valid_csv, example,
                                                           settings) -> None:
    from tests.api.conftest import csv_bytes
    from tests.conftest import corrupt

    key = {"Idempotency-Key": "kaz-2026-q3-attempt-1"}
    first = upload(kaz, valid_csv, headers=key)
    retry = upload(kaz, valid_csv, headers=key)
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    other = upload(kaz, csv_bytes(corrupt(example, 0, "OBS_STATUS", "E")), headers=key)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert _count(settings) == 1


def test_oversize_upload_is_413_and_nothing_is_kept(kaz, upload, settings) -> None:
    header = b"REF_AREA,TIME_PERIOD,POP_GROUP,MEASURE,CITIZENSHIP,SEX,AGE,OBS_VALUE\n"
    big = header + b"KAZ,2026-Q3,REF,STOCK,AFG,F,Y0T4,1\n" * 200_000  # > 5 MiB limit
    response = upload(kaz, big)
    assert response.status_code == 413
    assert response.json()["type"].endswith("/too-large")
    assert _count(settings) == 0 and _stored_files(settings) == []


def test_wrong_content_type_is_415(kaz, upload, valid_csv, settings) -> None:
    response = upload(kaz, valid_csv, content_type="image/png")
    assert response.status_code == 415
    assert _count(settings) == 0


def test_malformed_multipart_is_a_problem(client: TestClient, kaz) -> None:
    response = client.post(
        "/api/v1/submissions", content=b"--xyz\r\nnot really multipart",
        headers={**kaz.headers, "Content-Type": "multipart/form-data; boundary=xyz"})
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"


def test_missing_fields_are_422_with_locations(kaz, upload, valid_csv, client) -> None:
    response = client.post("/api/v1/submissions", data={"ref_area": "KAZ"},
                           files={"file": ("a.csv", valid_csv, "text/csv")},
                           headers=kaz.headers)
    assert response.status_code == 422
    assert ["body", "period"] in [e["location"] for e in response.json()["errors"]]


def test_bad_declared_period_and_state_are_refused(kaz, upload, valid_csv) -> None:
    assert upload(kaz, valid_csv, period="2026Q3").status_code == 422
    assert upload(kaz, valid_csv, ref_area="XXX").status_code == 422
    assert upload(kaz, valid_csv, standard_version="9.9.9").status_code == 422


def test_empty_file_is_refused(kaz, upload, settings) -> None:
    response = upload(kaz, b"")
    assert response.status_code == 422
    assert _count(settings) == 0


def test_personal_identifier_columns_are_refused_and_not_stored(kaz, upload, settings) -> None:
    content = ("REF_AREA,TIME_PERIOD,ФИО,Passport No,OBS_VALUE\n"
               "KAZ,2026-Q3,Иванов Иван,N1234567,1\n").encode()
    response = upload(kaz, content)
    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("/individual-level-data")
    assert {c["column"] for c in body["columns"]} == {"ФИО", "Passport No"}
    assert _count(settings) == 0 and _stored_files(settings) == []


def test_a_file_that_is_garbage_is_accepted_then_rejected_with_a_reason(
        client: TestClient, kaz, upload) -> None:
    """Unusable content is still stored (nothing is lost) and gets a report saying why."""
    created = upload(kaz, bytes(range(256)) * 100)
    assert created.status_code == 202
    submission_id = created.json()["id"]
    assert client.get(f"/api/v1/submissions/{submission_id}", headers=kaz.headers
                      ).json()["status"] == "rejected"
    report = client.get(f"/api/v1/submissions/{submission_id}/report", headers=kaz.headers)
    assert report.json()["usable"] is False
