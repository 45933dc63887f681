"""The in-process runner (``MMX_PROCESSING=inline``): a ``TaskQueue`` that runs a stage, and
every stage after it, right away in the calling thread. For tests and demos; the embedded
default and production run the same stages on Celery workers."""

from __future__ import annotations

import logging
import time

from exchange.pipeline.runner import Pipeline, fail, run_stage
from exchange.pipeline.stages import BY_NAME

log = logging.getLogger("mmx.pipeline")


class InlineQueue:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def send(self, stage: str, subject_id: int) -> None:
        due: str | None = stage
        while due is not None:
            due = self._run(due, subject_id)

    def _run(self, stage_name: str, subject_id: int) -> str | None:
        """One stage with the table's retry policy; a permanent failure is recorded."""
        policy = BY_NAME[stage_name].retry
        attempt = 0
        while True:
            attempt += 1
            try:
                return run_stage(self.pipeline, stage_name, subject_id)
            except policy.transient as exc:
                if attempt >= policy.max_attempts:
                    fail(self.pipeline, stage_name, subject_id, exc)
                    return None
                log.warning("%s: transient error, retrying: %s", stage_name, exc,
                            extra={BY_NAME[stage_name].subject.log_key: subject_id})
                time.sleep(policy.delay(attempt))
            except Exception as exc:
                fail(self.pipeline, stage_name, subject_id, exc)
                return None

    def health(self) -> str:
        return "ok (in-process)"

    def depth(self) -> int | None:
        return 0
