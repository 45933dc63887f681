"""One Celery task per pipeline stage, generated from ``exchange.pipeline.stages``: a task runs
its stage (``run_stage``), relays the next stage's outbox row, retries transient errors with
the stage's backoff, and records any other error as the submission's failure. The order of
stages, their statuses and limits are the table's; nothing here repeats them."""

from __future__ import annotations

from celery import Task

from exchange.core.config import get_settings
from exchange.core.outbox import relay
from exchange.pipeline.runner import Pipeline, fail, run_stage
from exchange.pipeline.stages import STAGES, Stage
from workers.celery_app import TASK_PREFIX, app
from workers.queue import CeleryQueue


def _task_for(stage: Stage) -> Task:
    @app.task(name=TASK_PREFIX + stage.name, bind=True)
    def run(self: Task, subject_id: int) -> str | None:
        settings = get_settings()
        pipeline = Pipeline.from_settings(settings)
        try:
            next_stage = run_stage(pipeline, stage.name, subject_id)
        except stage.retry.transient as exc:
            # Bounded by the stage's attempt count, which every delivery increments.
            raise self.retry(exc=exc, countdown=stage.retry.delay(self.request.retries + 1),
                             max_retries=None) from exc
        except Exception as exc:
            fail(pipeline, stage.name, subject_id, exc)
            return None
        if next_stage is not None:
            # A broker that is away now only delays it: the row waits for the sweeper.
            relay(pipeline.database_url, CeleryQueue(settings),
                  **{f"{stage.subject.name}_ids": [subject_id]})
        return next_stage

    return run  # type: ignore[no-any-return]


TASKS = {stage.name: _task_for(stage) for stage in STAGES}
