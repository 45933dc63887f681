"""The exchange's ``TaskQueue`` on Celery: a stage is sent as the task named after it."""

from __future__ import annotations

from exchange.core.config import Settings
from exchange.core.queue import QueueUnavailable
from workers.celery_app import QUEUE, TASK_PREFIX, producer_for


class CeleryQueue:
    def __init__(self, settings: Settings) -> None:
        self.app = producer_for(settings)

    def send(self, stage: str, subject_id: int) -> None:
        try:
            self.app.send_task(TASK_PREFIX + stage, (subject_id,), retry=False)
        except Exception as exc:  # kombu, redis and socket errors alike: the broker is away
            raise QueueUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def health(self) -> str:
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:
            return f"error: broker unreachable ({type(exc).__name__})"
        return "ok (queue)"

    def depth(self) -> int | None:
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=3)
                declared = connection.default_channel.queue_declare(queue=QUEUE, passive=True)
                return int(declared.message_count)
        except Exception:
            return None
