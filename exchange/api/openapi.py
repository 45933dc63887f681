"""The OpenAPI document: every error documented as what it is (RFC 9457
``application/problem+json``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from exchange.web.deps import ERROR_DESCRIPTIONS
from exchange.web.schemas import ProblemDetail

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}}


def install(app: FastAPI) -> None:
    """Document, for every operation, the errors the whole app can give it: 401/403/429 where a
    token is checked, 413 where a body is read, 400 where a body cannot be parsed at all
    (malformed multipart, JSON that is not UTF-8), 422 where anything is parsed; all as problem
    details."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version,
                              description=app.description, routes=app.routes)
            for operations in doc["paths"].values():
                for method, operation in operations.items():
                    _problems(method, operation)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            schemas["ProblemDetail"] = ProblemDetail.model_json_schema(
                ref_template="#/components/schemas/{model}")
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


def _problems(method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    statuses: set[int] = set()
    if operation.get("security"):
        statuses |= {401, 403, 429}
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add(422)
    if operation.get("requestBody"):
        statuses.add(400)
    if method in ("post", "put", "patch"):
        statuses.add(413)
    for status in statuses:
        responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
    for status, response in responses.items():
        if int(status) >= 400:
            response["content"] = dict(PROBLEM)
