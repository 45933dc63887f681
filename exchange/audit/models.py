"""The audit log's tables: entries and the chain's head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from exchange.core.columns import timestamp


class AuditEntry(SQLModel, table=True):
    """Append-only log; each entry's hash covers the previous hash, so edits break the chain."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = timestamp()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=40, index=True)
    target: str = Field(default="", max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """The chain's tip, one row. Appenders update it first: that write lock serialises them on
    SQLite and PostgreSQL alike, so two concurrent entries can never claim the same parent."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)
