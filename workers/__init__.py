"""Background processing on Celery: one task per pipeline stage (generated from
``exchange.pipeline.stages``), the Celery implementation of the exchange's ``TaskQueue``, and
the sweeper thread each worker runs. The service code never imports this package."""
