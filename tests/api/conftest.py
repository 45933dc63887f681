"""Fixtures for the API: settings over a real database (SQLite, and PostgreSQL where the
server binaries exist), the app, an HTTP client, API clients and their tokens, uploads."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from exchange.accounts.service import create_client, ensure_states
from exchange.api.app import create_app, inline_queue
from exchange.auth.principal import Role
from exchange.core.config import Settings
from exchange.core.db import migrate, session_scope
from exchange.core.queue import TaskQueue
from exchange.regional.service import ensure_participants
from tests.conftest import SECRET


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "var", database_url=database_url, jwt_secret=SECRET,
                    max_upload_bytes=5 * 1024 * 1024, processing="inline")


def prepared_app(settings: Settings, queue: TaskQueue | None = None) -> FastAPI:
    """The API over a migrated database with the standard's states and the regions'
    participants (what `mmx serve` or `mmx db upgrade` prepare), processing in-process unless
    a queue is given."""
    migrate(settings.resolved_database_url)
    with session_scope(settings.resolved_database_url) as session:
        ensure_states(session)
        ensure_participants(session, first_period=settings.participation_from)
    return create_app(settings, queue=queue or inline_queue(settings))


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return prepared_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as http:
        yield http


@dataclass(frozen=True)
class Account:
    client_id: str
    secret: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_account(settings: Settings, client: TestClient, role: Role | str,
                 ref_area: str | None = None) -> Account:
    """An API client with a role (and state), logged in through the token endpoint."""
    with session_scope(settings.resolved_database_url) as session:
        api_client, secret = create_client(session, role=Role(role), ref_area=ref_area,
                                           name=f"test {role}")
    response = client.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": api_client.id,
        "client_secret": secret})
    assert response.status_code == 200, response.text
    return Account(api_client.id, secret, response.json()["access_token"])


@pytest.fixture
def account(settings: Settings, client: TestClient) -> Callable[..., Account]:
    """Create an API client with a role (and state) and log it in through the token endpoint."""

    def make(role: Role | str, ref_area: str | None = None) -> Account:
        return make_account(settings, client, role, ref_area)

    return make


@pytest.fixture
def kaz(account: Callable[..., Account]) -> Account:
    return account(Role.SUBMITTER, "KAZ")


@pytest.fixture
def kgz(account: Callable[..., Account]) -> Account:
    return account(Role.SUBMITTER, "KGZ")


@pytest.fixture
def analyst(account: Callable[..., Account]) -> Account:
    return account(Role.ANALYST)


@pytest.fixture
def admin(account: Callable[..., Account]) -> Account:
    return account(Role.ADMIN)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


RELEASE_MEASURE = "NATZ"


def release_table(state: str, period: str, *, seed: int) -> bytes:
    """A state's example quarter cut to one measure (naturalisations: four status groups,
    sex x age, small counts): a release of three such states is built in seconds, where the
    full example table is beyond what disclosure control finishes in a test (issue 11)."""
    from standards import load_standard
    from standards.example import example_frame

    frame = example_frame(load_standard(), state, period, citizenships=1, seed=seed)
    return csv_bytes(frame.filter(pl.col("MEASURE") == RELEASE_MEASURE))


def indicator_table(state: str, period: str, *, seed: int) -> bytes:
    """A state's example quarter cut to what the indicators read and a release protects in
    seconds: the stock of refugees and asylum-seekers and the asylum-seekers' first-instance
    decisions (DEC_FI and its parts POS, REJ, CLOSED), all persons (SPEC_NEED _T), sex x age."""
    from standards import load_standard
    from standards.example import example_frame

    frame = example_frame(load_standard(), state, period, citizenships=1, seed=seed)
    return csv_bytes(frame.filter(
        (pl.col("SPEC_NEED") == "_T")
        & (((pl.col("MEASURE") == "STOCK") & pl.col("POP_GROUP").is_in(["REF", "ASY"]))
           | (pl.col("MEASURE").is_in(["DEC_FI", "DEC_FI_POS", "DEC_FI_REJ", "DEC_FI_CLOSED"])
              & (pl.col("POP_GROUP") == "ASY")))))


@pytest.fixture
def valid_csv(example: pl.DataFrame) -> bytes:
    return csv_bytes(example)


@pytest.fixture
def upload(client: TestClient) -> Callable[..., httpx.Response]:
    """POST a file as a submission; keyword arguments override the declared fields."""

    def post(who: Account | None, content: bytes, *, ref_area: str = "KAZ",
             period: str = "2026-Q3", filename: str = "kaz.csv",
             content_type: str = "text/csv", headers: dict[str, str] | None = None,
             **fields: str) -> httpx.Response:
        all_headers = {**(who.headers if who else {}), **(headers or {})}
        return client.post(
            "/api/v1/submissions",
            data={"ref_area": ref_area, "period": period, **fields},
            files={"file": (filename, content, content_type)},
            headers=all_headers,
        )

    return post
