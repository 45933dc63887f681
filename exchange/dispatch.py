"""How accepted submissions reach processing. The API only ever calls ``dispatch``.

``QueueDispatcher`` (the default) relays the outbox to Celery workers; ``InProcessDispatcher``
runs the same pipeline in the API process after the response is sent. Routes do not change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from fastapi import BackgroundTasks

from exchange.config import Settings
from exchange.pipeline import process_submission


class Dispatcher(Protocol):
    def dispatch(self, submission_id: int, background: BackgroundTasks) -> None: ...

    def health(self) -> str: ...


class QueueDispatcher:
    """Hands the submission's outbox entry to Celery after the response. If the broker is
    down, the entry stays unsent and the workers' sweeper delivers it later."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def dispatch(self, submission_id: int, background: BackgroundTasks) -> None:
        from workers.sweeper import relay_outbox

        background.add_task(relay_outbox, self.settings, [submission_id])

    def health(self) -> str:
        from workers.celery_app import producer_for

        try:
            with producer_for(self.settings).connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:
            return f"error: broker unreachable ({type(exc).__name__})"
        return "ok (queue)"


class InProcessDispatcher:
    """Runs every stage in the API process after the response (``MMX_PROCESSING=inline``)."""

    def __init__(self, database_url: str, store_root: Path) -> None:
        self.database_url = database_url
        self.store_root = store_root

    def dispatch(self, submission_id: int, background: BackgroundTasks) -> None:
        background.add_task(process_submission, self.database_url, self.store_root,
                            submission_id)

    def health(self) -> str:
        return "ok (in-process)"
