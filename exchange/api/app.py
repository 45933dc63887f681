"""The FastAPI application factory. The caller passes the task queue: the program that starts
everything (``mmx.main``) gives the Celery queue, tests and demos the in-process one."""

from __future__ import annotations

from fastapi import FastAPI

from exchange.accounts import routes as accounts_routes
from exchange.accounts.service import is_active
from exchange.api import health, openapi
from exchange.api.headers import SecurityHeadersMiddleware
from exchange.api.limits import BodyLimitMiddleware
from exchange.auth.tokens import KeyRing
from exchange.coordination import routes as coordination_routes
from exchange.core.config import Settings
from exchange.core.queue import TaskQueue
from exchange.core.ratelimit import RateLimiter
from exchange.harmonization import routes as harmonization_routes
from exchange.indicators import routes as indicators_routes
from exchange.pipeline.inline import InlineQueue
from exchange.pipeline.runner import Pipeline
from exchange.publication import routes as publication_routes
from exchange.regional import routes as regional_routes
from exchange.sdmx import data_routes as sdmx_data_routes
from exchange.sdmx import structure_routes as sdmx_structure_routes
from exchange.submissions import routes as submissions_routes
from exchange.views import routes as views_routes
from exchange.web import errors
from exchange.web.deps import AppContext

DESCRIPTION = """
The open regional data exchange for mixed-movement statistics: national agencies upload
quarterly aggregate tables, the exchange validates them against the shared standard
(`MIXED_MOVEMENTS`), stores them and processes them in the background.

Every error is an RFC 9457 problem (`application/problem+json`). Every endpoint says who may
call it; authenticate with `POST /api/v1/auth/token` (client credentials) and send the token as
`Authorization: Bearer …`.
"""
# Multipart framing around the file: boundaries, part headers, the small form fields.
MULTIPART_OVERHEAD = 64 * 1024
# No form of the API has more than a handful of fields, one file, or a long field value.
FORM_LIMITS = {"max_fields": 16, "max_files": 1, "max_part_size": 64 * 1024}


def inline_queue(settings: Settings) -> InlineQueue:
    """The in-process queue (``MMX_PROCESSING=inline``): stages run in the API process."""
    return InlineQueue(Pipeline.from_settings(settings))


def create_app(settings: Settings, *, queue: TaskQueue) -> FastAPI:
    """The API over an already migrated database (``mmx db upgrade``; ``mmx serve`` does it
    for the embedded database)."""
    pipeline = Pipeline.from_settings(settings)
    app = FastAPI(title="Mixed-Movement Statistics Exchange", version="0.1.0",
                  description=DESCRIPTION, form_limits=FORM_LIMITS)
    app.state.context = AppContext(
        settings=settings, keyring=KeyRing.from_settings(settings), store=pipeline.store,
        database_url=pipeline.database_url, queue=queue, client_active=is_active,
        limiter=RateLimiter(settings.rate_limit_storage))
    errors.install(app)
    openapi.install(app)
    for module in (accounts_routes, submissions_routes, coordination_routes, regional_routes,
                   publication_routes, indicators_routes, harmonization_routes, views_routes,
                   sdmx_structure_routes, sdmx_data_routes, health):
        app.include_router(module.router)
    app.include_router(publication_routes.calendar_router)
    # The body limit counts bytes as they arrive, so an oversized chunked upload is refused
    # before it is spooled to disk, not after.
    app.add_middleware(BodyLimitMiddleware,
                       max_body_size=settings.max_upload_bytes + MULTIPART_OVERHEAD)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
