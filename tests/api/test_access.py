"""Who may call what: each endpoint's stated callers succeed, everyone else is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from exchange.auth.principal import Role

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture
def kaz_submission(kaz, upload, valid_csv) -> int:
    response = upload(kaz, valid_csv)
    assert response.status_code == 202
    return int(response.json()["id"])


def _paths(submission_id: int) -> list[str]:
    base = f"/api/v1/submissions/{submission_id}"
    return [base, f"{base}/revisions", f"{base}/report", f"{base}/file"]


def test_anonymous_gets_401_everywhere(client: TestClient, kaz_submission: int, upload,
                                       valid_csv) -> None:
    assert upload(None, valid_csv).status_code == 401
    for path in ["/api/v1/submissions", *_paths(kaz_submission)]:
        assert client.get(path).status_code == 401, path


def test_submitter_cannot_submit_for_another_state(kaz, upload, example) -> None:
    from tests.api.conftest import csv_bytes

    kgz_file = csv_bytes(example.with_columns(example["REF_AREA"].str.replace("KAZ", "KGZ")))
    response = upload(kaz, kgz_file, ref_area="KGZ")
    assert response.status_code == 403
    assert response.json()["type"].endswith("/forbidden")


def test_submitter_cannot_see_another_states_submissions(client: TestClient, kaz_submission,
                                                         kgz) -> None:
    for path in _paths(kaz_submission):
        assert client.get(path, headers=kgz.headers).status_code == 404, path
    listing = client.get("/api/v1/submissions", headers=kgz.headers).json()
    assert listing["total"] == 0
    asked = client.get("/api/v1/submissions", params={"ref_area": "KAZ"}, headers=kgz.headers)
    assert asked.status_code == 403


def test_owner_sees_everything_of_its_own(client: TestClient, kaz_submission, kaz) -> None:
    for path in _paths(kaz_submission):
        assert client.get(path, headers=kaz.headers).status_code == 200, path


def test_analyst_sees_status_but_never_raw_files_or_reports(client: TestClient,
                                                            kaz_submission, analyst) -> None:
    base = f"/api/v1/submissions/{kaz_submission}"
    assert client.get(base, headers=analyst.headers).status_code == 200
    assert client.get(f"{base}/revisions", headers=analyst.headers).status_code == 200
    assert client.get("/api/v1/submissions", headers=analyst.headers).json()["total"] == 1
    assert client.get(f"{base}/file", headers=analyst.headers).status_code == 403
    assert client.get(f"{base}/report", headers=analyst.headers).status_code == 403


def test_analyst_cannot_submit(analyst, upload, valid_csv) -> None:
    assert upload(analyst, valid_csv).status_code == 403


def test_admin_may_submit_for_any_state_and_read_everything(client: TestClient, admin, upload,
                                                            example) -> None:
    from tests.api.conftest import csv_bytes

    kgz_file = csv_bytes(example.with_columns(example["REF_AREA"].str.replace("KAZ", "KGZ")))
    created = upload(admin, kgz_file, ref_area="KGZ")
    assert created.status_code == 202
    for path in _paths(created.json()["id"]):
        assert client.get(path, headers=admin.headers).status_code == 200, path


def test_coordinator_reads_its_state_but_cannot_upload(client: TestClient, account,
                                                       kaz_submission, upload, valid_csv
                                                       ) -> None:
    coordinator = account(Role.COORDINATOR, "KAZ")
    assert upload(coordinator, valid_csv).status_code == 403
    assert client.get(f"/api/v1/submissions/{kaz_submission}/report",
                      headers=coordinator.headers).status_code == 200


def test_unknown_submission_is_404_problem(client: TestClient, admin) -> None:
    response = client.get("/api/v1/submissions/999999", headers=admin.headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("submission_id", ["0", "-1", str(2**63), "abc"])
def test_out_of_range_ids_are_422_not_500(client: TestClient, admin, submission_id) -> None:
    response = client.get(f"/api/v1/submissions/{submission_id}", headers=admin.headers)
    assert response.status_code == 422
