"""Who may call what, walked over every route of the OpenAPI document with every role and a
foreign state. The expected answers are written out here, as the specification; the app
decides them through ``exchange.auth.policy``. A route added without an entry fails the test."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from exchange.api.committed import openapi_document
from exchange.auth.principal import Role
from tests.conftest import PERIOD

CALLERS = ["anonymous", "kaz_submitter", "kgz_submitter", "kaz_coordinator",
           "kgz_coordinator", "analyst", "admin"]
OK = {200, 201, 202, 204}
# Expected status per caller, in CALLERS order, for a submission, dataset or state of KAZ and
# a region of which KAZ and KGZ are members (CENTRAL_ASIA).
ADMIN_ONLY = (401, 403, 403, 403, 403, 403, OK)
OWN_STATE_VIEW = (401, OK, 404, OK, 404, OK, OK)
OWN_STATE_RAW = (401, OK, 404, OK, 404, 403, OK)
OWN_COORDINATOR_ONLY = (401, 403, 403, OK, 403, 403, 403)
OWN_STATE_CONSENT = (401, OK, 403, OK, 403, OK, OK)
REGION_VIEW = (401, 403, 403, OK, OK, OK, OK)
# Asked for KAZ: a foreign state's agency or coordinator is refused (403: the state is named
# in the query, so refusing reveals nothing).
OWN_STATE_HARMONIZED = (401, OK, 403, OK, 403, OK, OK)
DATASET = "/api/v1/datasets/{ref_area}/{period}"
PARTICIPANT = "/api/v1/regions/{region}/participants/{ref_area}"
EXPECTED: dict[tuple[str, str], tuple[int | set[int], ...] | None] = {
    ("post", "/api/v1/auth/token"): None,  # credentials, not roles: see test_auth.py
    ("get", "/api/v1/clients"): ADMIN_ONLY,
    ("post", "/api/v1/clients"): ADMIN_ONLY,
    ("post", "/api/v1/clients/{client_id}/disable"): ADMIN_ONLY,
    ("post", "/api/v1/submissions"): (401, OK, 403, 403, 403, 403, OK),
    ("get", "/api/v1/submissions"): (401, OK, OK, OK, OK, OK, OK),
    ("get", "/api/v1/submissions/{submission_id}"): OWN_STATE_VIEW,
    ("get", "/api/v1/submissions/{submission_id}/revisions"): OWN_STATE_VIEW,
    ("get", "/api/v1/submissions/{submission_id}/report"): OWN_STATE_RAW,
    ("get", "/api/v1/submissions/{submission_id}/file"): OWN_STATE_RAW,
    # In this order: the sign-off the DELETE withdraws is the POST's.
    ("post", DATASET + "/signoff"): OWN_COORDINATOR_ONLY,
    ("delete", DATASET + "/signoff"): OWN_COORDINATOR_ONLY,
    ("post", DATASET + "/sendback"): OWN_COORDINATOR_ONLY,
    ("get", "/api/v1/states/{ref_area}/consent"): OWN_STATE_CONSENT,
    ("put", "/api/v1/states/{ref_area}/consent"): OWN_COORDINATOR_ONLY,
    ("get", "/api/v1/regions/{region}/participants"): REGION_VIEW,
    ("get", "/api/v1/regions/{region}/coverage"): REGION_VIEW,
    ("put", PARTICIPANT): ADMIN_ONLY,
    ("delete", PARTICIPANT): ADMIN_ONLY,
    ("get", "/api/v1/observations"): OWN_STATE_HARMONIZED,
    # The admin's request is accepted, or refused for want of signed-off data (409), by then.
    ("post", "/api/v1/releases"): (401, 403, 403, 403, 403, 403, OK | {409}),
    ("get", "/api/v1/releases"): (OK,) * 7,
    ("get", "/api/v1/releases/{release_id}"): (OK,) * 7,
    ("get", "/api/v1/releases/{release_id}/cells"): (OK,) * 7,
    ("get", "/api/v1/releases/{release_id}/audit"): ADMIN_ONLY,
    ("get", "/api/v1/release-calendar"): (401, 403, 403, 403, 403, OK, OK),
    ("post", "/api/v1/release-calendar"): ADMIN_ONLY,
    # SDMX structures describe published data and hold none: public.
    ("get", "/sdmx/{resource}/{agency_id}/{resource_id}/{version}"): (OK,) * 7,
    ("get", "/sdmx/structure/{resource}/{agency_id}/{resource_id}/{version}"): (OK,) * 7,
    ("get", "/sdmx/schema/{context}/{agency_id}/{resource_id}/{version}"): (OK,) * 7,
    # Asked for CENTRAL_ASIA: a coordinator of a member state sees it, agencies never.
    ("get", "/api/v1/coverage"): REGION_VIEW,
    # Published figures: anyone (the harmonized basis is walked in test_views.py).
    ("get", "/api/v1/annual/{year}"): (OK,) * 7,
    # Released data is public; who reads harmonized data (release=harmonized) and embargoed
    # releases is walked in test_sdmx_data.py.
    ("get", "/sdmx/data/{flow}"): (OK,) * 7,
    ("get", "/sdmx/data/{flow}/{key}"): (OK,) * 7,
    ("get", "/sdmx/data/{flow}/{key}/{provider}"): (OK,) * 7,
    ("get", "/sdmx/availableconstraint/{flow}"): (OK,) * 7,
    ("get", "/sdmx/availableconstraint/{flow}/{key}"): (OK,) * 7,
    ("get", "/sdmx/availableconstraint/{flow}/{key}/{provider}"): (OK,) * 7,
    ("get", "/sdmx/availableconstraint/{flow}/{key}/{provider}/{componentID}"): (OK,) * 7,
    # Public: definitions, and the values of published releases (embargoed ones only for
    # ``see_embargoed``: the filtering is tested in test_indicators.py).
    ("get", "/api/v1/indicators"): (OK,) * 7,
    ("get", "/api/v1/indicators/values"): (OK,) * 7,
    ("get", "/healthz"): (OK,) * 7,
    ("get", "/readyz"): (OK,) * 7,
}


def test_every_route_has_an_expectation() -> None:
    routes = {(method, path) for path, operations in openapi_document()["paths"].items()
              for method in operations}
    assert routes == set(EXPECTED)


def test_every_role_and_foreign_state_gets_the_specified_answer(
        client: TestClient, account, upload, valid_csv, settings) -> None:
    accounts = {
        "kaz_submitter": account(Role.SUBMITTER, "KAZ"),
        "kgz_submitter": account(Role.SUBMITTER, "KGZ"),
        "kaz_coordinator": account(Role.COORDINATOR, "KAZ"),
        "kgz_coordinator": account(Role.COORDINATOR, "KGZ"),
        "analyst": account(Role.ANALYST), "admin": account(Role.ADMIN)}
    submission_id = upload(accounts["kaz_submitter"], valid_csv).json()["id"]
    victim = account(Role.SUBMITTER, "UZB")  # a client the disable route may act on
    release_id = _published_release(settings)
    wrong = []
    for (method, path), expected in EXPECTED.items():
        if expected is None:
            continue
        url = path.format(submission_id=submission_id, client_id=victim.client_id,
                          ref_area="KAZ", period=PERIOD, region="CENTRAL_ASIA",
                          release_id=release_id, resource="dataflow", context="dataflow",
                          agency_id="MMX", resource_id="DF_MIXED_MOVEMENTS_Q",
                          version="latest", year=2025, flow="DF_MIXED_MOVEMENTS_Q",
                          key="all", provider="all", componentID="all")
        for caller, want in zip(CALLERS, expected, strict=True):
            headers = accounts[caller].headers if caller in accounts else {}
            kwargs = _body(method, path)
            got = client.request(method.upper(), url, headers=headers, **kwargs).status_code
            if got not in (want if isinstance(want, set) else {want}):
                wrong.append(f"{method.upper()} {path} as {caller}: {got}, expected {want}")
    assert wrong == []


def _published_release(settings) -> int:
    """A published release (one regional cell) for the read routes: who may read is what is
    tested."""
    from exchange.core.columns import utcnow
    from exchange.core.db import session_scope
    from exchange.publication.models import Release, ReleaseCell

    with session_scope(settings.resolved_database_url) as session:
        release = Release(period="2025-Q4", number=1, status="published", trigger="admin",
                          requested_by="test", standard_version="2.0.0", published_at=utcnow())
        session.add(release)
        session.flush()
        session.add(ReleaseCell(release_id=release.id, area="CENTRAL_ASIA", period="2025-Q4",
                                pop_group="REF", measure="NATZ", citizenship="AFG", sex="_T",
                                age="_T", value=12, conf_status="F"))
        return int(release.id or 0)


def _body(method: str, path: str) -> dict:
    from tests.conftest import COUNTRY

    if (method, path) == ("post", "/api/v1/submissions"):
        from standards import load_standard
        from standards.example import example_frame
        from tests.api.conftest import csv_bytes

        content = csv_bytes(example_frame(load_standard(), COUNTRY, PERIOD, citizenships=1))
        return {"data": {"ref_area": COUNTRY, "period": PERIOD},
                "files": {"file": ("kaz.csv", content, "text/csv")}}
    if (method, path) == ("post", "/api/v1/clients"):
        return {"data": {"role": "analyst", "name": "policy test"}}
    if (method, path) == ("post", DATASET + "/sendback"):
        return {"json": {"reason": "policy test"}}
    if (method, path) == ("put", "/api/v1/states/{ref_area}/consent"):
        return {"json": {"publication_consent": "national"}}
    if (method, path) == ("put", PARTICIPANT):
        return {"json": {"first_period": "2026-Q1"}}
    if path == "/api/v1/coverage":
        return {"params": {"region": "CENTRAL_ASIA"}}
    if path.endswith("/coverage"):
        return {"params": {"period": PERIOD}}
    if (method, path) == ("post", "/api/v1/releases"):
        return {"json": {"period": PERIOD}}
    if (method, path) == ("post", "/api/v1/release-calendar"):
        return {"json": {"period": PERIOD, "due_at": "2099-01-01T00:00:00Z"}}
    if path == "/api/v1/observations":
        return {"params": {"ref_area": "KAZ", "period": PERIOD}}
    return {}


def test_harmonized_annual_figures_follow_view_harmonized(client: TestClient, account
                                                          ) -> None:
    """``/api/v1/annual/{year}`` is public on its default (protected) basis; asking for the
    harmonized basis of KAZ is decided like ``/api/v1/observations`` of KAZ."""
    accounts = {
        "kaz_submitter": account(Role.SUBMITTER, "KAZ"),
        "kgz_submitter": account(Role.SUBMITTER, "KGZ"),
        "kaz_coordinator": account(Role.COORDINATOR, "KAZ"),
        "kgz_coordinator": account(Role.COORDINATOR, "KGZ"),
        "analyst": account(Role.ANALYST), "admin": account(Role.ADMIN)}
    got = tuple(client.get("/api/v1/annual/2026", params={"basis": "harmonized", "area": "KAZ"},
                           headers=accounts[c].headers if c in accounts else {}).status_code
                for c in CALLERS)
    assert got == tuple(200 if want == OK else want for want in OWN_STATE_HARMONIZED)


@pytest.mark.parametrize("role", [Role.SUBMITTER, Role.COORDINATOR, Role.ANALYST])
def test_a_disabled_clients_tokens_stop_working_at_once(client: TestClient, account, role
                                                        ) -> None:
    admin = account(Role.ADMIN)
    holder = account(role, "KAZ" if role != Role.ANALYST else None)
    assert client.get("/api/v1/submissions", headers=holder.headers).status_code == 200
    disabled = client.post(f"/api/v1/clients/{holder.client_id}/disable",
                           headers=admin.headers)
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert client.get("/api/v1/submissions", headers=holder.headers).status_code == 401
    again = client.post("/api/v1/auth/token", data={"client_id": holder.client_id,
                                                    "client_secret": holder.secret})
    assert again.status_code == 401
