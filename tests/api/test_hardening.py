"""Holding under abuse: security headers, rate limits with Retry-After, sanitised file names,
size limits enforced while the body streams, and concurrent uploads that the database (not a
read before the insert) keeps from duplicating."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import polars as pl
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlmodel import select

from exchange.auth.principal import Role
from exchange.core.config import Settings
from exchange.core.db import session_scope
from exchange.submissions.models import Submission
from tests.api.conftest import csv_bytes, prepared_app
from tests.conftest import SECRET, free_port, wait_until

SECURITY_HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
                    "content-security-policy": "frame-ancestors 'none'",
                    "referrer-policy": "no-referrer"}


def _submissions(settings: Settings) -> list[Submission]:
    with session_scope(settings.resolved_database_url, writes=False) as session:
        return list(session.exec(select(Submission)).all())


def test_every_response_carries_the_security_headers(client: TestClient, kaz, upload) -> None:
    responses = [client.get("/healthz"), client.get("/api/v1/nothing"),
                 client.get("/api/v1/submissions", headers=kaz.headers),
                 upload(kaz, b"x" * (6 * 1024 * 1024))]  # 413 from the size limit
    assert [r.status_code for r in responses] == [200, 404, 200, 413]
    for response in responses:
        assert SECURITY_HEADERS.items() <= response.headers.items(), response.request.url
        assert "strict-transport-security" not in response.headers  # plain HTTP: no HSTS


def test_hsts_is_sent_over_tls(app) -> None:
    with TestClient(app, base_url="https://testserver") as https:
        assert https.get("/healthz").headers["strict-transport-security"].startswith(
            "max-age=")


def test_repeated_wrong_secrets_are_slowed_down_with_429(client: TestClient, kaz,
                                                         settings: Settings) -> None:
    wrong = {"client_id": kaz.client_id, "client_secret": "guess"}
    answers = [client.post("/api/v1/auth/token", data=wrong).status_code
               for _ in range(settings.token_failures_per_minute + 5)]
    assert answers[:settings.token_failures_per_minute] == [401] * \
        settings.token_failures_per_minute
    assert set(answers[settings.token_failures_per_minute:]) == {429}
    refused = client.post("/api/v1/auth/token", data={"client_id": kaz.client_id,
                                                      "client_secret": kaz.secret})
    assert refused.status_code == 429  # even the right secret waits: guessing is throttled
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["content-type"] == "application/problem+json"


def test_a_client_past_its_request_rate_gets_429_with_retry_after(tmp_path: Path,
                                                                  database_url: str,
                                                                  account) -> None:
    settings = Settings(data_dir=tmp_path / "limited", database_url=database_url,
                        jwt_secret=SECRET, processing="inline", requests_per_minute=5)
    with TestClient(prepared_app(settings)) as http:
        kaz = account(Role.SUBMITTER, "KAZ")
        answers = [http.get("/api/v1/submissions", headers=kaz.headers) for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    assert int(answers[-1].headers["retry-after"]) >= 1


@pytest.mark.parametrize(("sent", "kept"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\kaz.csv", "kaz.csv"),
    ("...", "upload"),
])
def test_the_upload_name_is_kept_and_echoed_without_paths_quotes_or_newlines(
        client: TestClient, kaz, upload, valid_csv, sent: str, kept: str) -> None:
    created = upload(kaz, valid_csv, filename=sent)
    assert created.status_code == 202, created.text
    assert created.json()["filename"] == kept
    download = client.get(f"/api/v1/submissions/{created.json()['id']}/file",
                          headers=kaz.headers)
    assert download.headers["content-disposition"] == f'attachment; filename="{kept}"'
    assert "x-injected" not in download.headers


@pytest.mark.parametrize(("given", "kept"), [
    ('kaz "final".csv', "kaz final.csv"),
    ("kaz.csv\r\nX-Injected: yes", "kaz.csvX-Injected: yes"),
    ("\x00\x1b[31mkaz.csv", "[31mkaz.csv"),
    ("a" * 300 + ".csv", "a" * 255),
])
def test_file_names_lose_quotes_control_characters_and_excess(given: str, kept: str) -> None:
    """What a hand-made multipart body could carry (httpx percent-encodes these itself)."""
    from exchange.submissions.intake import safe_filename

    assert safe_filename(given) == kept


def test_a_chunked_upload_over_the_limit_is_refused_while_it_streams(
        live: str, kaz, settings: Settings) -> None:
    """No Content-Length: the body is counted as it arrives, and the server answers 413 at the
    limit instead of spooling 50 MiB to disk first."""
    import socket

    host, port = live.removeprefix("http://").split(":")
    chunk = b"KAZ,2026-Q3,REF,STOCK,AFG,F,Y0T4,1\n" * 30_000  # ~1 MiB
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + kaz.token.encode() + b"\r\n"
                     b"Content-Type: multipart/form-data; boundary=b\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        head = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
                b"Content-Type: text/csv\r\n\r\n")
        sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        answer = b""
        for _ in range(50):
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:  # the server answered and closed
                break
            sent += len(chunk)
            sock.settimeout(0.05)
            with contextlib.suppress(TimeoutError):
                answer += sock.recv(65536)
            sock.settimeout(30)
            if answer:
                break
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer
    assert sent < 2 * settings.max_upload_bytes  # stopped soon after the limit
    assert _submissions(settings) == []
    incoming = settings.resolved_file_store / "incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []


def test_a_form_with_too_many_fields_is_refused(client: TestClient, kaz, valid_csv) -> None:
    fields = {f"field{i}": "x" for i in range(40)}
    response = client.post("/api/v1/submissions",
                           data={"ref_area": "KAZ", "period": "2026-Q3", **fields},
                           files={"file": ("k.csv", valid_csv, "text/csv")},
                           headers=kaz.headers)
    assert response.status_code in (400, 413, 422)
    assert response.headers["content-type"] == "application/problem+json"


# --- concurrency, over real HTTP ------------------------------------------------------------

class NoQueue:
    """Nothing is processed: these tests are about intake only."""

    def send(self, stage: str, submission_id: int) -> None:
        return None

    def health(self) -> str:
        return "ok (none)"

    def depth(self) -> int | None:
        return 0


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """``app`` served by uvicorn on a free port, in this process: real HTTP, real sockets."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), 30, "uvicorn did not start")
    assert server.started, "uvicorn stopped while starting"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def live(settings: Settings) -> Iterator[str]:
    with serve(prepared_app(settings, NoQueue())) as url:
        yield url


def _concurrently(base: str, token: str, files: list[bytes], key: str | None = None
                  ) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}

    def post(content: bytes) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as http:
            return http.post("/api/v1/submissions", headers=headers,
                             data={"ref_area": "KAZ", "period": "2026-Q3"},
                             files={"file": ("kaz.csv", content, "text/csv")})

    with ThreadPoolExecutor(max_workers=len(files)) as pool:
        return list(pool.map(post, files))


def test_twenty_identical_uploads_at_once_make_one_submission(live: str, kaz, valid_csv,
                                                              settings: Settings) -> None:
    responses = _concurrently(live, kaz.token, [valid_csv] * 20)
    assert sorted(r.status_code for r in responses) == [200] * 19 + [202]
    assert len({r.json()["id"] for r in responses}) == 1
    rows = _submissions(settings)
    assert [(s.revision, s.sha256) for s in rows] == [(1, responses[0].json()["sha256"])]


def test_one_idempotency_key_sent_at_once_with_different_files(live: str, kaz, example,
                                                               settings: Settings) -> None:
    """Twenty different files under one key: one is accepted, the others are told the key was
    used for something else (422, never a 500 from the unique constraint)."""
    files = [csv_bytes(example.with_columns(
        pl.when(pl.int_range(pl.len()) == i).then(pl.lit("E")).otherwise(pl.col("OBS_STATUS"))
        .alias("OBS_STATUS"))) for i in range(20)]
    responses = _concurrently(live, kaz.token, files, key="kaz-2026-q3-once")
    codes = sorted(r.status_code for r in responses)
    assert codes == [202] + [422] * 19, [r.text for r in responses if r.status_code >= 500]
    assert {r.json()["type"].rsplit("/", 1)[-1] for r in responses
            if r.status_code == 422} == {"idempotency-key-reused"}
    assert len(_submissions(settings)) == 1
