"""Liveness and readiness probes."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from exchange.auth.policy import who_may
from exchange.web.deps import Context, ReadDB
from exchange.web.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health,
            description="The process is up.\n\n" + who_may(None))
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}},
            description="Ready to accept uploads: the database answers, the file store takes "
            "files, and the task queue (with its worker, when embedded) is usable. 503 names "
            "what is not.\n\n" + who_may(None))
def readyz(context: Context, session: ReadDB) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except sa.exc.SQLAlchemyError as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    checks["storage"] = context.store.health()
    checks["queue"] = context.queue.health()
    ready = all(v.startswith("ok") for v in checks.values())
    body = Health(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
