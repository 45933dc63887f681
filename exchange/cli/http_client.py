"""A small HTTP client of the exchange API, used by ``mmx token|submit|status`` and the
National Coordinator's ``mmx signoff|sendback|consent``."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from exchange.submissions.status import SubmissionStatus

# Until validation ends, the submitter waits for a verdict; after it, the rest is the exchange's.
AWAITING_VERDICT = frozenset({SubmissionStatus.RECEIVED, SubmissionStatus.VALIDATING})


class ApiError(Exception):
    """A problem-details answer from the server (or a transport failure)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        title = body.get("title", "Error")
        detail = body.get("detail", "")
        super().__init__(f"{status} {title}" + (f": {detail}" if detail else ""))
        self.status = status
        self.body = body


def _check(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        body = response.json()
    except ValueError:
        body = {"title": response.reason_phrase, "detail": response.text[:500]}
    raise ApiError(response.status_code, body)


def upload_key(path: Path, country: str, period: str) -> str:
    """An Idempotency-Key derived from the content, so a retried upload is never doubled."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return f"{country}-{period}-{digest.hexdigest()}"


@dataclass
class ExchangeClient:
    base_url: str
    token: str | None = None
    timeout: float = 120.0

    def _client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout)

    def fetch_token(self, client_id: str, client_secret: str) -> str:
        with self._client() as http:
            response = _check(http.post("/api/v1/auth/token", data={
                "grant_type": "client_credentials", "client_id": client_id,
                "client_secret": client_secret}))
        self.token = response.json()["access_token"]
        return self.token

    def submit(self, path: Path, country: str, period: str, *, emergency: bool = False,
               standard_version: str | None = None, rounding: int = 0) -> dict[str, Any]:
        key = upload_key(path, country, period)
        data = {"ref_area": country, "period": period, "emergency": str(emergency).lower(),
                "rounding": str(rounding)}
        if standard_version:
            data["standard_version"] = standard_version
        with self._client() as http, path.open("rb") as fh:
            response = _check(http.post(
                "/api/v1/submissions",
                data=data,
                files={"file": (path.name, fh, "application/octet-stream")},
                headers={"Idempotency-Key": key}))
        return response.json()  # type: ignore[no-any-return]

    def submission(self, submission_id: int) -> dict[str, Any]:
        with self._client() as http:
            return _check(http.get(f"/api/v1/submissions/{submission_id}")).json()  # type: ignore[no-any-return]

    def report(self, submission_id: int) -> dict[str, Any]:
        with self._client() as http:
            return _check(http.get(f"/api/v1/submissions/{submission_id}/report")).json()  # type: ignore[no-any-return]

    def sign_off(self, ref_area: str, period: str, revision: int | None = None
                 ) -> dict[str, Any]:
        with self._client() as http:
            return _check(http.post(f"/api/v1/datasets/{ref_area}/{period}/signoff",  # type: ignore[no-any-return]
                                    json={"revision": revision})).json()

    def withdraw_sign_off(self, ref_area: str, period: str) -> dict[str, Any]:
        with self._client() as http:
            return _check(http.delete(f"/api/v1/datasets/{ref_area}/{period}/signoff")).json()  # type: ignore[no-any-return]

    def send_back(self, ref_area: str, period: str, reason: str, revision: int | None = None
                  ) -> dict[str, Any]:
        with self._client() as http:
            return _check(http.post(f"/api/v1/datasets/{ref_area}/{period}/sendback",  # type: ignore[no-any-return]
                                    json={"reason": reason, "revision": revision})).json()

    def consent(self, ref_area: str, value: str | None = None) -> dict[str, Any]:
        """The state's publication consent; set first when ``value`` is given."""
        with self._client() as http:
            url = f"/api/v1/states/{ref_area}/consent"
            response = (http.get(url) if value is None
                        else http.put(url, json={"publication_consent": value}))
            return _check(response).json()  # type: ignore[no-any-return]

    def wait(self, submission_id: int, timeout: float, interval: float = 0.5
             ) -> dict[str, Any]:
        """Poll until the verdict is in (validated, rejected, ...) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.submission(submission_id)
            if current["status"] not in AWAITING_VERDICT or time.monotonic() >= deadline:
                return current
            time.sleep(interval)

    def request_release(self, period: str, notes: str | None = None,
                        embargo_until: str | None = None) -> dict[str, Any]:
        with self._client() as http:
            return _check(http.post("/api/v1/releases", json={  # type: ignore[no-any-return]
                "period": period, "notes": notes, "embargo_until": embargo_until})).json()

    def releases(self, period: str | None = None) -> list[dict[str, Any]]:
        with self._client() as http:
            return _check(http.get("/api/v1/releases", params={  # type: ignore[no-any-return]
                k: v for k, v in {"period": period}.items() if v})).json()

    def release(self, release_id: int) -> dict[str, Any]:
        with self._client() as http:
            return _check(http.get(f"/api/v1/releases/{release_id}")).json()  # type: ignore[no-any-return]

    def release_table(self, release_id: int, what: str, area: str | None = None) -> str:
        """The release's cells or audit as CSV text."""
        with self._client() as http:
            return _check(http.get(f"/api/v1/releases/{release_id}/{what}", params={
                "format": "csv", **({"area": area} if area else {})})).text

    def schedule_release(self, period: str, due_at: str, notes: str | None = None,
                         embargo_until: str | None = None) -> dict[str, Any]:
        with self._client() as http:
            return _check(http.post("/api/v1/release-calendar", json={  # type: ignore[no-any-return]
                "period": period, "due_at": due_at, "notes": notes,
                "embargo_until": embargo_until})).json()

    def csv_view(self, path: str, params: dict[str, Any]) -> str:
        """A read-only view (``/api/v1/coverage``, ``/api/v1/annual/{year}``) as CSV text;
        parameters that are None are left out."""
        with self._client() as http:
            return _check(http.get(path, params={
                "format": "csv", **{k: v for k, v in params.items() if v is not None}})).text
