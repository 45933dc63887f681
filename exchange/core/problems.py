"""Errors that reach a caller, shaped as RFC 9457 problem details.

Services raise :class:`Problem`; the API renders it as ``application/problem+json`` and the CLI
prints its title and detail. The ``type`` URI names the kind of problem, documented in the README.
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://mmx.example.org/problems/"


class Problem(Exception):
    """The one error type services raise for callers; ``headers`` travel with the response
    (e.g. ``Retry-After`` on 429)."""

    def __init__(self, status: int, slug: str, title: str, detail: str = "",
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": PROBLEM_BASE + self.slug, "title": self.title,
                                "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


def unauthorized(detail: str = "A valid bearer token is required.") -> Problem:
    return Problem(401, "unauthorized", "Unauthorized", detail)


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "Forbidden", detail)


def not_found(what: str) -> Problem:
    return Problem(404, "not-found", "Not found", f"{what} does not exist.")
