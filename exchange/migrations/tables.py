"""Every table of the exchange, registered on ``SQLModel.metadata`` by importing each domain's
models: what Alembic compares the migrations against."""

from sqlmodel import SQLModel

import exchange.accounts.models
import exchange.audit.models
import exchange.core.outbox
import exchange.harmonization.models
import exchange.indicators.models
import exchange.publication.models
import exchange.regional.models
import exchange.submissions.models  # noqa: F401

METADATA = SQLModel.metadata
