"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, polled every 50 ms
instead of every second (a stage hand-off on the embedded default would otherwise wait up to a
second, three times per upload). kombu passes every transport option to ``create_engine``,
so the interval is a class attribute here rather than an option."""

from __future__ import annotations

from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport

POLLING_INTERVAL_SECONDS = 0.05


class Transport(SQLAlchemyTransport):
    polling_interval = POLLING_INTERVAL_SECONDS
