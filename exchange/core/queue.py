"""The exchange's own interface to a task queue.

The service code hands work over through this protocol and never imports a queue library:
the Celery implementation lives in ``workers`` and the in-process one in
``exchange.pipeline.inline``; the program that starts everything (``mmx.main``) picks one.
"""

from __future__ import annotations

from typing import Protocol


class QueueUnavailable(Exception):
    """The broker cannot take work right now. Transient by nature: the work stays in the
    outbox and is sent again by the next sweep."""


class TaskQueue(Protocol):
    def send(self, stage: str, subject_id: int) -> None:
        """Hand one stage of one submission to the queue; raise ``QueueUnavailable`` when the
        broker cannot take it."""
        ...

    def health(self) -> str:
        """``"ok (...)"`` when work can be sent and will be run, otherwise ``"error: ..."``."""
        ...

    def depth(self) -> int | None:
        """Messages waiting, or None when the queue cannot say."""
        ...
