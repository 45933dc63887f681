"""Background processing: the Celery app and its tasks (validate, harmonize, aggregate), the
sweeper that re-sends what the queue lost. Tasks are thin: they call ``exchange.pipeline``."""
