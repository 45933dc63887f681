"""Property-based tests of the API against its own OpenAPI document (schemathesis), for
anonymous callers and for each role's token: no response is a 5xx, and every response has a
documented status, content type and a body matching its schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from exchange.accounts.service import create_client
from exchange.api.committed import openapi_document
from exchange.auth.principal import Principal, Role
from exchange.auth.tokens import KeyRing
from exchange.core.config import Settings
from exchange.core.db import session_scope
from tests.api.conftest import prepared_app
from tests.api.test_hardening import NoQueue, serve
from tests.conftest import SECRET

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
CALLERS = ["anonymous", "submitter", "coordinator", "analyst", "admin"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One app on SQLite, served by uvicorn, with a client per role; limits high enough not
    to answer 429."""
    data = Path(tmp_path_factory.mktemp("schemathesis"))
    config = Settings(data_dir=data / "var", jwt_secret=SECRET, processing="inline",
                      requests_per_minute=1_000_000, token_failures_per_minute=1_000_000,
                      max_upload_bytes=1024 * 1024)
    app = prepared_app(config, NoQueue())
    ring = KeyRing.from_settings(config)
    headers = {"anonymous": {}}
    with session_scope(config.resolved_database_url) as session:
        for role in CALLERS[1:]:
            area = "KAZ" if role in ("submitter", "coordinator") else None
            client, _ = create_client(session, role=Role(role), ref_area=area, name=role)
            token = ring.issue(Principal(client.id, Role(role), area))
            headers[role] = {"Authorization": f"Bearer {token}"}
    with serve(app) as url:
        yield {"url": url, "headers": headers}


# The committed document is the app's own (test_health_and_openapi.py checks they are equal).
schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_api_keeps_its_contract(case, world: dict) -> None:
    """Each generated request is sent, over real HTTP, as every caller in turn."""
    for caller in CALLERS:
        case.call_and_validate(base_url=world["url"], headers=world["headers"][caller],
                               checks=CHECKS)
