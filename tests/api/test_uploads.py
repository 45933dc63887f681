"""What the upload endpoint refuses, and how it recognises repeats without duplicating."""

from __future__ import annotations

import pytest
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


def test_a_file_whose_header_cannot_be_read_is_refused_and_not_stored(kaz, upload,
                                                                     settings) -> None:
    """What cannot be read cannot be checked for personal identifiers, so it is not kept: the
    agency is told at once, with the reason (garbage, UTF-16, a broken workbook)."""
    for content in (bytes(range(256)) * 100, "REF_AREA,Passport\n".encode("utf-16"),
                    b"PK\x03\x04" + b"\x00" * 200):
        response = upload(kaz, content)
        assert response.status_code == 422, response.text
        assert response.json()["type"].endswith("/unusable-file")
        assert "not stored" in response.json()["detail"]
    assert _count(settings) == 0 and _stored_files(settings) == []


def _workbook(tmp_path, header: list[str], *, extra_sheet: list[str] | None = None) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    sheet.append(["KAZ", "2026-Q3", *(["1"] * (len(header) - 2))])
    if extra_sheet:
        workbook.create_sheet("notes").append(extra_sheet)
    path = tmp_path / "upload.xlsx"
    workbook.save(path)
    return path.read_bytes()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize("kind", ["csv", "sdmx-csv", "xlsx", "csv-header-over-8k",
                                  "csv-header-over-64k"])
def test_identifier_columns_are_refused_in_every_format_before_anything_is_kept(
        client, kaz, upload, settings, tmp_path, kind: str) -> None:
    padding = {"csv-header-over-8k": 9_000, "csv-header-over-64k": 70_000}.get(kind, 0)
    header = ["REF_AREA", "TIME_PERIOD", *[f"X{i}" for i in range(padding // 6)],
              "Passport number"]
    if kind == "xlsx":
        content, filename, media = _workbook(tmp_path, header), "kaz.xlsx", XLSX
    else:
        if kind == "sdmx-csv":
            header = ["DATAFLOW", *header]
        content = (",".join(header) + "\n" + ",".join(["A"] * len(header)) + "\n").encode()
        filename, media = "kaz.csv", "text/csv"
    assert len(content) > padding
    response = upload(kaz, content, filename=filename, content_type=media)
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/individual-level-data")
    assert [c["column"] for c in response.json()["columns"]] == ["Passport number"]
    assert _count(settings) == 0 and _stored_files(settings) == []
    incoming = settings.resolved_file_store / "incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []


def test_a_workbook_with_a_second_sheet_is_refused(kaz, upload, settings, tmp_path) -> None:
    """Only one sheet is read and checked; another could hold a list of persons."""
    content = _workbook(tmp_path, ["REF_AREA", "TIME_PERIOD", "OBS_VALUE"],
                        extra_sheet=["Name", "Date of birth"])
    response = upload(kaz, content, filename="kaz.xlsx", content_type=XLSX)
    assert response.status_code == 422
    assert "2 sheets" in response.json()["detail"]
    assert _count(settings) == 0 and _stored_files(settings) == []


def test_a_huge_value_in_a_code_column_is_refused_by_row_and_column(
        client, kaz, upload, example) -> None:
    """A 4 MB 'code' once kept a worker busy for minutes (the nearest-code hint compared it with
    every code). It is now refused when read, naming its row and column, and never quoted."""
    from tests.api.conftest import csv_bytes
    from tests.conftest import corrupt

    created = upload(kaz, csv_bytes(corrupt(example, 5, "CITIZENSHIP", "A" * 4_000_000)))
    assert created.status_code == 202
    submission_id = created.json()["id"]
    status = client.get(f"/api/v1/submissions/{submission_id}", headers=kaz.headers).json()
    assert status["status"] == "rejected"
    report = client.get(f"/api/v1/submissions/{submission_id}/report", headers=kaz.headers)
    issue = report.json()["errors"][0]
    assert (issue["row"], issue["column"]) == (7, "CITIZENSHIP")
    assert len(report.text) < 10_000  # the value is not echoed back
