"""Probes, problem details for unknown routes, and the committed OpenAPI document."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from exchange.api.committed import COMMITTED, openapi_document


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "checks": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_committed_openapi_matches_the_app() -> None:
    """Regenerate with: mmx openapi -o openapi/openapi.json"""
    assert json.loads(COMMITTED.read_text(encoding="utf-8")) == openapi_document()


def test_openapi_enums_come_from_the_standard() -> None:
    from standards import load_standard

    document = openapi_document()
    ref_area = document["components"]["schemas"]["RefArea"]["enum"]
    assert ref_area == list(load_standard().codelists["CL_AREA"].ids)


def test_every_operation_says_who_may_call_it() -> None:
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            assert "Who may call" in operation.get("description", ""), f"{method} {path}"
