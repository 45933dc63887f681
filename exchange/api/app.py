"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from exchange.accounts import ensure_states
from exchange.api import auth, errors, health, submissions
from exchange.api.deps import AppContext
from exchange.auth.tokens import KeyRing
from exchange.config import Settings, get_settings
from exchange.db import migrate, session_scope
from exchange.dispatch import Dispatcher, InProcessDispatcher, QueueDispatcher
from exchange.storage import FileStore

DESCRIPTION = """
The open regional data exchange for mixed-movement statistics: national agencies upload
quarterly aggregate tables, the exchange validates them against the shared standard
(`MIXED_MOVEMENTS`), stores them and processes them in the background.

Every error is an RFC 9457 problem (`application/problem+json`). Every endpoint says who may
call it; authenticate with `POST /api/v1/auth/token` (client credentials) and send the token as
`Authorization: Bearer …`.
"""


def create_app(settings: Settings | None = None, dispatcher: Dispatcher | None = None,
               migrate_db: bool = True) -> FastAPI:
    settings = settings or get_settings()
    url = settings.resolved_database_url
    if migrate_db:
        migrate(url)
        with session_scope(url) as session:
            ensure_states(session)
    store = FileStore(settings.resolved_file_store)
    app = FastAPI(title="Mixed-Movement Statistics Exchange", version="0.1.0",
                  description=DESCRIPTION)
    app.state.context = AppContext(settings=settings, keyring=KeyRing.from_settings(settings),
                                   store=store, database_url=url)
    if dispatcher is None:
        dispatcher = (QueueDispatcher(settings) if settings.processing == "queue"
                      else InProcessDispatcher(url, store.root))
    app.state.dispatcher = dispatcher
    errors.install(app)
    for module in (auth, submissions, health):
        app.include_router(module.router)
    return app
