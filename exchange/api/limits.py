"""Request-size limits, enforced while the request arrives: a declared ``Content-Length``
over the limit is refused before any byte is read, and a chunked body is counted as it streams
(starlette's ``RequestBodyLimitMiddleware``), so nothing oversized is ever spooled to disk."""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from exchange.core.problems import Problem


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.max_body_size = max_body_size
        self.app = RequestBodyLimitMiddleware(app, max_body_size=max_body_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body_size:
                await _too_large(scope, send, self.max_body_size)
                return
        await self.app(scope, receive, send)


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    problem = Problem(413, "too-large", "Upload too large",
                      f"The request exceeds the limit of {limit:,} bytes.")
    body = json.dumps(problem.body(instance=scope.get("path"))).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
