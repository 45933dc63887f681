"""The Celery application, configured from ``MMX_*`` settings.

Reliability settings: ``acks_late`` with ``task_reject_on_worker_lost`` (a task whose worker
dies is redelivered, not lost), prefetch of one (a busy worker does not hoard messages) and a
Redis visibility timeout after which unacknowledged tasks come back.
"""

from __future__ import annotations

from celery import Celery
from celery.signals import (
    after_setup_logger,
    task_postrun,
    task_prerun,
    worker_process_init,
)

from exchange.core.config import Settings, get_settings
from exchange.core.db import forget_connections_after_fork
from exchange.core.logs import configure, current_submission

QUEUE = "mmx"
TASK_PREFIX = "mmx."


def make_app(settings: Settings) -> Celery:
    # Imported by the worker at start: the tasks, and the sweeper that hooks worker_ready.
    url = settings.resolved_broker_url
    if url.startswith("sqla+"):  # the embedded default: the same transport, polled faster
        url = url.removeprefix("sqla+")
        transport = "workers.embedded_broker:Transport"
    else:
        transport = None
    app = Celery("mmx", broker=url, broker_transport=transport,
                 include=["workers.tasks", "workers.sweeper"])
    app.conf.update(
        task_default_queue=QUEUE,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        # Redis options; kombu's SQLAlchemy transport hands its options to create_engine.
        broker_transport_options=(
            {"visibility_timeout": settings.visibility_timeout_seconds, "polling_interval": 0.2}
            if settings.resolved_broker_url.startswith(("redis", "rediss")) else {}),
        task_serializer="json",
        accept_content=["json"],
    )
    return app


app = make_app(get_settings())
_configured_url = get_settings().resolved_broker_url
_producers: dict[str, Celery] = {}


def producer_for(settings: Settings) -> Celery:
    """An app to send tasks with, for the broker of ``settings`` (the API and the sweeper may
    run with settings other than the process-wide ones, e.g. in tests)."""
    if settings.resolved_broker_url == _configured_url:
        return app
    url = settings.resolved_broker_url
    if url not in _producers:
        _producers[url] = make_app(settings)
    return _producers[url]


@after_setup_logger.connect
def _json_logs(logger, **_kwargs) -> None:  # type: ignore[no-untyped-def]
    configure()


@task_prerun.connect
def _bind_submission(task=None, args=None, kwargs=None, **_extra) -> None:  # type: ignore[no-untyped-def]
    if args and isinstance(args[0], int):
        current_submission.set(args[0])


@task_postrun.connect
def _unbind_submission(**_kwargs) -> None:  # type: ignore[no-untyped-def]
    current_submission.set(None)


@worker_process_init.connect
def _own_connections(**_kwargs) -> None:  # type: ignore[no-untyped-def]
    forget_connections_after_fork()
