"""Submit -> status -> report, as a national agency would, over a real database."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from exchange.core.config import Settings
from exchange.core.db import session_scope
from exchange.core.storage import FileStore
from exchange.submissions.models import Submission
from tests.conftest import corrupt


def test_valid_upload_is_accepted_stored_and_validated(client, kaz, upload, valid_csv,
                                                       settings: Settings) -> None:
    response = upload(kaz, valid_csv)

    assert response.status_code == 202
    body = response.json()
    assert response.headers["location"] == f"/api/v1/submissions/{body['id']}"
    assert body["ref_area"] == "KAZ" and body["period"] == "2026-Q3" and body["revision"] == 1
    # The raw file is in the store, byte for byte, under the hash the API reports.
    with session_scope(settings.resolved_database_url) as session:
        row = session.get(Submission, body["id"])
        assert row is not None and row.sha256 == body["sha256"]
        assert FileStore(settings.resolved_file_store).path(row.storage_key).read_bytes() \
            == valid_csv

    status = client.get(f"/api/v1/submissions/{body['id']}", headers=kaz.headers).json()
    assert status["status"] == "harmonized"
    assert [h["status"] for h in status["history"]] == [
        "received", "validating", "validated", "harmonizing", "harmonized"]
    assert status["rows"] > 1000 and status["error_count"] == 0


def test_invalid_upload_is_rejected_with_a_report_per_row(client: TestClient, kaz, upload,
                                                          example) -> None:
    bad = corrupt(example, 9, "CITIZENSHIP", "AFX")
    from tests.api.conftest import csv_bytes

    created = upload(kaz, csv_bytes(bad)).json()
    status = client.get(f"/api/v1/submissions/{created['id']}", headers=kaz.headers).json()
    assert status["status"] == "rejected"

    report = client.get(f"/api/v1/submissions/{created['id']}/report", headers=kaz.headers)
    assert report.status_code == 200
    data = report.json()
    assert data["valid"] is False and data["submission_id"] == created["id"]
    error = next(e for e in data["errors"] if e["rule"] == "code_list")
    assert (error["row"], error["column"], error["value"]) == (11, "CITIZENSHIP", "AFX")
    assert error["hint"] == "Did you mean AFG?"


def test_report_as_csv_for_spreadsheets(client: TestClient, kaz, upload, example) -> None:
    from tests.api.conftest import csv_bytes

    created = upload(kaz, csv_bytes(corrupt(example, 0, "OBS_VALUE", "-3"))).json()
    for kwargs in ({"params": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}):
        headers = {**kaz.headers, **kwargs.get("headers", {})}
        response = client.get(f"/api/v1/submissions/{created['id']}/report",
                              params=kwargs.get("params"), headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert {"rule": "non_negative", "row": "2", "column": "OBS_VALUE"}.items() \
            <= rows[0].items()


def test_new_upload_for_the_same_quarter_is_a_new_revision(client, kaz, upload, example,
                                                           valid_csv) -> None:
    from tests.api.conftest import csv_bytes

    first = upload(kaz, valid_csv).json()
    second = upload(kaz, csv_bytes(corrupt(example, 0, "OBS_STATUS", "E"))).json()
    other_quarter = upload(kaz, csv_bytes(example.with_columns(
        example["TIME_PERIOD"].str.replace("Q3", "Q4"))), period="2026-Q4").json()

    assert (first["revision"], second["revision"], other_quarter["revision"]) == (1, 2, 1)
    revisions = client.get(f"/api/v1/submissions/{second['id']}/revisions",
                           headers=kaz.headers).json()
    assert [(r["id"], r["revision"]) for r in revisions] == [(first["id"], 1), (second["id"], 2)]


def test_listing_filters_by_period_and_status(client, kaz, upload, example, valid_csv) -> None:
    from tests.api.conftest import csv_bytes

    upload(kaz, valid_csv)
    upload(kaz, csv_bytes(corrupt(example, 0, "SEX", "Q")))
    everything = client.get("/api/v1/submissions", headers=kaz.headers).json()
    assert everything["total"] == 2
    rejected = client.get("/api/v1/submissions", params={"status": "rejected"},
                          headers=kaz.headers).json()
    assert [s["status"] for s in rejected["items"]] == ["rejected"]
    assert client.get("/api/v1/submissions", params={"period": "2025-Q1"},
                      headers=kaz.headers).json()["total"] == 0


def test_original_file_downloads_byte_for_byte(client, kaz, upload, valid_csv) -> None:
    created = upload(kaz, valid_csv).json()
    response = client.get(f"/api/v1/submissions/{created['id']}/file", headers=kaz.headers)
    assert response.status_code == 200
    assert response.content == valid_csv


def test_xlsx_and_sdmx_csv_uploads_are_recognised(client, kaz, upload, example, tmp_path) -> None:
    import openpyxl

    from standards import load_standard
    from standards.example import with_dataflow
    from tests.api.conftest import csv_bytes

    sdmx = upload(kaz, csv_bytes(with_dataflow(example, load_standard()))).json()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(example.columns)
    for row in example.head(200).iter_rows():
        sheet.append([int(v) if c == "OBS_VALUE" else v for c, v in zip(example.columns, row,
                                                                             strict=True)])
    path = tmp_path / "kaz.xlsx"
    workbook.save(path)
    xlsx = upload(kaz, path.read_bytes(), filename="kaz.xlsx",
                  content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                  ).json()
    assert (sdmx["file_format"], xlsx["file_format"]) == ("sdmx-csv", "xlsx")
    assert client.get(f"/api/v1/submissions/{sdmx['id']}", headers=kaz.headers
                      ).json()["status"] == "harmonized"
    assert client.get(f"/api/v1/submissions/{xlsx['id']}", headers=kaz.headers
                      ).json()["status"] in ("harmonized", "rejected")


def test_report_csv_cannot_carry_a_formula_into_a_spreadsheet(client: TestClient, kaz, upload,
                                                              example) -> None:
    from tests.api.conftest import csv_bytes

    bad = corrupt(corrupt(example, 0, "CITIZENSHIP", "=cmd|' /C calc'!A0"), 1, "SEX",
                  "@HYPERLINK(x)")
    created = upload(kaz, csv_bytes(bad)).json()
    response = client.get(f"/api/v1/submissions/{created['id']}/report",
                          params={"format": "csv"}, headers=kaz.headers)
    values = [row["value"] for row in csv.DictReader(io.StringIO(response.text))
              if row["value"]]
    assert "'=cmd|' /C calc'!A0" in values and "'@HYPERLINK(x)" in values
    assert not any(v[0] in "=+@\t\r" for v in values)
