"""Liveness and readiness probes."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from exchange.api.deps import ReadDB
from exchange.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up. **Who may call:** anyone."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(request: Request, session: ReadDB) -> JSONResponse:
    """Database reachable and the task queue usable. **Who may call:** anyone."""
    checks: dict[str, str] = {}
    try:
        session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except sa.exc.SQLAlchemyError as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    checks["queue"] = request.app.state.dispatcher.health()
    ready = all(v == "ok" or v.startswith("ok") for v in checks.values())
    body = Health(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
