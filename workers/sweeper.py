"""The sweeper thread every worker runs (see ``exchange.pipeline.sweep`` for what it does)."""

from __future__ import annotations

import logging
import threading

from celery.signals import worker_ready

from exchange.core.config import Settings, get_settings
from exchange.pipeline.sweep import sweep
from workers.queue import CeleryQueue

log = logging.getLogger("mmx.sweeper")
_started = threading.Event()


def start_background_sweeper(settings: Settings) -> None:
    """One daemon thread per worker process, sweeping every ``sweep_interval_seconds``."""
    if _started.is_set():
        return
    _started.set()
    queue = CeleryQueue(settings)
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                sweep(settings.resolved_database_url, queue, settings.stuck_after_seconds)
            except Exception:
                log.exception("sweep failed")
            if stop.wait(settings.sweep_interval_seconds):
                return

    threading.Thread(target=loop, name="mmx-sweeper", daemon=True).start()


@worker_ready.connect
def _start(**_kwargs) -> None:  # type: ignore[no-untyped-def]
    start_background_sweeper(get_settings())
