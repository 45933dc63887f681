"""How accepted submissions reach processing. The API only ever calls ``dispatch``.

``InProcessDispatcher`` runs the pipeline in the API process after the response is sent
(FastAPI background tasks); the Celery dispatcher of the workers replaces it without the routes
changing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from fastapi import BackgroundTasks

from exchange.pipeline import process_submission


class Dispatcher(Protocol):
    def dispatch(self, submission_id: int, background: BackgroundTasks) -> None: ...

    def health(self) -> str: ...


class InProcessDispatcher:
    def __init__(self, database_url: str, store_root: Path) -> None:
        self.database_url = database_url
        self.store_root = store_root

    def dispatch(self, submission_id: int, background: BackgroundTasks) -> None:
        background.add_task(process_submission, self.database_url, self.store_root,
                            submission_id)

    def health(self) -> str:
        return "ok (in-process)"
