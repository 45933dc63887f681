"""Configuration from the environment (``MMX_*``), with defaults that run on one laptop.

With nothing set, everything lives under ``./var``: a SQLite database, the raw file store and a
generated signing secret. PostgreSQL, Redis and real keys are configuration, not code changes.
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from standards.validation.limits import ReadLimits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MMX_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Root of all local state.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file in the data directory.")
    file_store_dir: Path | None = Field(
        None, description="Where raw uploads are kept; default: <data_dir>/files.")
    max_upload_bytes: int = Field(100 * 1024 * 1024, gt=0, description="Largest upload accepted.")
    public_url: str = Field("http://127.0.0.1:8000", description="Base URL clients use.")

    rate_limit_storage: str = Field(
        "memory://", description="Where rate-limit windows live: memory:// (one process) or "
        "redis://host:port/db (shared by several API processes).")
    cache_url: str | None = Field(
        None, description="Where answers of released SDMX data are cached: redis://host:port/db "
        "(shared by several API processes); default: in the API process's memory.")
    requests_per_minute: int = Field(
        600, gt=0, description="Requests per minute per authenticated client.")
    token_failures_per_minute: int = Field(
        10, gt=0, description="Failed token requests per minute per client address; then 429.")
    max_header_bytes: int = Field(
        16 * 1024, ge=4096, description="Largest request head (line and headers) accepted.")

    # What the engine reads of an upload (standards.validation.ReadLimits): past any of these a
    # file is unusable input, refused quickly and in bounded memory.
    max_cell_chars: int = Field(256, gt=0, description="Longest cell value of any column.")
    max_columns: int = Field(256, gt=0, description="Most columns in an uploaded table.")
    max_rows: int = Field(5_000_000, gt=0, description="Most data rows in an uploaded table.")
    max_xlsx_bytes: int = Field(
        512 * 1024 * 1024, gt=0, description="Largest decompressed size of a workbook's XML.")
    max_xlsx_cells: int = Field(
        10_500_000, gt=0, description="Most cells (rows x columns) a workbook's sheet spans.")
    jwt_issuer: str = Field("mmx-exchange", description="`iss` of issued tokens.")
    jwt_audience: str = Field("mmx-api", description="`aud` required on every token.")
    jwt_ttl_seconds: int = Field(900, gt=0, le=86400, description="Lifetime of access tokens.")
    jwt_algorithm: Literal["HS256", "RS256"] = Field("HS256", description="Signing algorithm.")
    jwt_secret: SecretStr | None = Field(
        None, description="HS256 secret (>= 32 bytes); default: generated once in data_dir.")
    jwt_private_key_file: Path | None = Field(None, description="RS256 PEM private key.")
    jwt_public_key_files: dict[str, Path] = Field(
        default_factory=dict,
        description="RS256 verification keys by kid (JSON object), for rotation.")
    jwt_previous_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Retired HS256 secrets by kid (JSON object), still accepted until removed.")
    jwt_kid: str = Field("k1", description="kid of the current signing key.")

    # The seeds date the Almaty Process from the Regional Cooperation Framework's adoption on
    # 7 September 2012 (001 lines 1-7), so quarters before 2012-Q3 expect nobody by default.
    participation_from: str = Field(
        "2012-Q3", pattern=r"^[0-9]{4}-Q[1-4]$",
        description="First quarter of the participants a newly registered region is seeded "
        "with (every member); admins change participants afterwards.")

    broker_url: str | None = Field(
        None, description="Celery broker; default: a SQLite broker file in data_dir.")
    processing: Literal["queue", "inline"] = Field(
        "queue", description="queue: Celery workers; inline: in the API process (tests, demos).")
    # Recovery after a worker dies mid-task is bounded by ``stuck_after_seconds`` plus one sweep
    # (about two minutes by default): the sweeper re-sends the stage. Redis would redeliver the
    # unacknowledged message itself after ``visibility_timeout_seconds``, which must exceed the
    # longest stage plus its retry delays, or a slow stage would be run twice.
    visibility_timeout_seconds: int = Field(
        900, gt=0, description="Redis: an unacknowledged task is redelivered after this long.")
    stuck_after_seconds: int = Field(
        120, gt=0, description="The sweeper re-sends a stage that stayed due this long.")
    sweep_interval_seconds: float = Field(10, gt=0, description="How often workers sweep.")
    release_coverage_share: float = Field(
        0, ge=0, le=1, description="Queue a release of a period automatically once this share "
        "of a region's participants is signed off (1: all of them); 0: never.")
    release_threads: int = Field(
        0, ge=0, description="Threads a release's solver runs on (the same release on any number "
        "unless a block of the exact model runs out of its time); 0: one per core the worker "
        "may use. Several workers on one machine: share the cores between them.")

    def read_limits(self) -> ReadLimits:
        return ReadLimits(max_cell_chars=self.max_cell_chars, max_columns=self.max_columns,
                          max_rows=self.max_rows, max_xlsx_bytes=self.max_xlsx_bytes,
                          max_xlsx_cells=self.max_xlsx_cells)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'mmx.sqlite3').resolve()}"

    @property
    def resolved_broker_url(self) -> str:
        """The embedded default is kombu's SQLAlchemy transport on a SQLite file: no server,
        shared by the API and worker processes, and it survives restarts."""
        return self.broker_url or f"sqla+sqlite:///{(self.data_dir / 'broker.sqlite3').resolve()}"

    @property
    def resolved_file_store(self) -> Path:
        return (self.file_store_dir or self.data_dir / "files").resolve()

    def hs256_secret(self) -> str:
        """The configured secret, or one generated on first use and kept in the data dir."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48), encoding="ascii")
        return path.read_text(encoding="ascii").strip()


@cache
def get_settings() -> Settings:
    return Settings()
