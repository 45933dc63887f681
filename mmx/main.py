"""``mmx``: the exchange's commands plus those that start processes (``serve``, ``worker``),
and the application factory uvicorn runs. Here, and only here, the task queue is chosen:
Celery (``workers``) by default, in-process with ``MMX_PROCESSING=inline``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from exchange.cli.main import build

if TYPE_CHECKING:
    from fastapi import FastAPI

    from exchange.core.config import Settings
    from exchange.core.queue import TaskQueue

# Set by ``mmx serve`` for the API process(es) it starts, so readiness can watch the worker.
EMBEDDED_WORKER_PID = "MMX_EMBEDDED_WORKER_PID"


class EmbeddedWorker:
    """The queue of the embedded default: usable only while ``mmx serve``'s worker lives."""

    def __init__(self, queue: TaskQueue, pid: int) -> None:
        self.queue = queue
        self.pid = pid

    def send(self, stage: str, submission_id: int) -> None:
        self.queue.send(stage, submission_id)

    def health(self) -> str:
        if not _alive(self.pid):
            return f"error: the embedded worker (pid {self.pid}) is not running"
        return self.queue.health().replace("ok (queue)", "ok (queue, embedded worker)")

    def depth(self) -> int | None:
        return self.queue.depth()


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def queue_for(settings: Settings) -> TaskQueue:
    if settings.processing == "inline":
        from exchange.api.app import inline_queue

        return inline_queue(settings)
    from workers.queue import CeleryQueue

    queue = CeleryQueue(settings)
    pid = os.environ.get(EMBEDDED_WORKER_PID)
    return EmbeddedWorker(queue, int(pid)) if pid else queue


def create_app() -> FastAPI:
    """The API with the configured queue (uvicorn's factory, once per API process).

    The standard, its SDMX catalogue and the database engine (with its driver: importing
    psycopg alone is ~200 ms) are made here, not in a first request, then everything alive is
    set aside from the garbage collector (``gc.freeze``): hundreds of thousands of objects
    that live as long as the process, whose scanning made every full collection a ~200 ms
    pause inside a request (measured on SDMX data queries: one request in five took 300 ms
    instead of 90)."""
    import gc

    from exchange.api.app import create_app as create
    from exchange.core.config import get_settings
    from exchange.core.db import get_engine
    from standards.sdmx.catalogue import load_catalogue

    settings = get_settings()
    app = create(settings, queue=queue_for(settings))
    load_catalogue()
    get_engine(settings.resolved_database_url)
    gc.freeze()
    return app


cli = build(queue_for)


@cli.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="API processes.")] = 1,
    with_worker: Annotated[bool, typer.Option(
        help="Also start one Celery worker process (the embedded default).")] = True,
) -> None:
    """Run the API (uvicorn) and, by default, a Celery worker beside it.

    With no configuration: SQLite database, file store and SQLite-backed task queue under ./var,
    no server needed; the embedded database is upgraded at start. In production run
    `mmx db upgrade` once, then `mmx serve --no-with-worker` and `mmx worker` apart.
    """
    from exchange.cli.admin_cmd import database_url, upgrade
    from exchange.core.config import get_settings
    from exchange.core.db import is_embedded
    from mmx import server

    settings = get_settings()
    if is_embedded(settings.resolved_database_url):
        upgrade()
    else:
        database_url()  # refuses a schema that `mmx db upgrade` has not brought current
    # uvicorn restores this handler when it has shut down and raises the signal again: exiting
    # through SystemExit lets the block below stop the worker instead of orphaning it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    worker = None
    if with_worker and settings.processing == "queue":
        worker = subprocess.Popen([sys.executable, "-m", "mmx.main", "worker",
                                   "--concurrency", "1", "--pool", "solo"])
        os.environ[EMBEDDED_WORKER_PID] = str(worker.pid)
    try:
        server.run("mmx.main:create_app", host=host, port=port, workers=workers,
                   log_level="info", h11_max_incomplete_event_size=settings.max_header_bytes)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)


@cli.command("worker")
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Task processes.")] = 2,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork or solo.")] = "prefork",
) -> None:
    """Run a Celery worker (one task per pipeline stage) with its sweeper thread."""
    from exchange.cli.admin_cmd import database_url
    from workers.celery_app import QUEUE, app

    database_url()
    app.worker_main(["worker", f"--concurrency={concurrency}", f"--pool={pool}",
                     "--loglevel=INFO", "-Q", QUEUE, "--without-gossip", "--without-mingle",
                     "--without-heartbeat"])


if __name__ == "__main__":  # pragma: no cover
    cli()
