"""Tokens: issued for valid client credentials only; every kind of bad token gets 401."""

from __future__ import annotations

import base64
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from exchange.accounts.service import create_client
from exchange.auth.principal import Principal, Role
from exchange.auth.tokens import KeyRing
from exchange.core.config import Settings
from exchange.core.db import session_scope
from tests.api.conftest import prepared_app

ME = "/api/v1/submissions"  # any endpoint that needs a token


def _get(client: TestClient, token: str) -> int:
    return client.get(ME, headers={"Authorization": f"Bearer {token}"}).status_code


def test_token_carries_the_required_claims(client: TestClient, kaz, settings: Settings) -> None:
    claims = jwt.decode(kaz.token, settings.hs256_secret(), algorithms=["HS256"],
                        audience=settings.jwt_audience)
    assert claims["sub"] == kaz.client_id
    assert (claims["role"], claims["ref_area"]) == ("submitter", "KAZ")
    assert claims["iss"] == settings.jwt_issuer
    assert claims["exp"] - claims["iat"] == settings.jwt_ttl_seconds
    assert jwt.get_unverified_header(kaz.token) == {"alg": "HS256", "kid": "k1", "typ": "JWT"}


def test_http_basic_credentials_work_too(client: TestClient, kaz) -> None:
    basic = base64.b64encode(f"{kaz.client_id}:{kaz.secret}".encode()).decode()
    response = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


@pytest.mark.parametrize("secret_suffix", ["-wrong", ""])
def test_wrong_secret_or_unknown_client_gets_401_problem(client: TestClient, kaz,
                                                         secret_suffix: str) -> None:
    client_id = kaz.client_id if secret_suffix else "nobody-123"
    response = client.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": client_id,
        "client_secret": kaz.secret + secret_suffix})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Invalid client credentials"


def test_other_grant_types_are_refused(client: TestClient, kaz) -> None:
    response = client.post("/api/v1/auth/token", data={
        "grant_type": "password", "client_id": kaz.client_id, "client_secret": kaz.secret})
    assert response.status_code == 422


def test_a_valid_token_is_accepted(client: TestClient, kaz) -> None:
    assert _get(client, kaz.token) == 200


def test_no_token_is_401_with_bearer_challenge(client: TestClient) -> None:
    response = client.get(ME)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


def _forge(settings: Settings, sub: str, **overrides) -> str:
    """A token signed like the exchange's own, for an existing client ``sub``."""
    now = int(time.time())
    claims = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": sub,
              "iat": now, "exp": now + 600, "role": "submitter", "ref_area": "KAZ"}
    key = overrides.pop("key", settings.hs256_secret())
    headers = overrides.pop("headers", {"kid": "k1"})
    algorithm = overrides.pop("algorithm", "HS256")
    drop = overrides.pop("drop", ())
    claims.update(overrides)
    for name in drop:
        claims.pop(name)
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def test_a_forged_token_with_the_right_key_is_accepted(client, settings, kaz) -> None:
    """The control for the refusals below: only the one altered property makes them fail."""
    assert _get(client, _forge(settings, kaz.client_id)) == 200


def test_a_token_for_an_unknown_client_gets_401(client, settings) -> None:
    assert _get(client, _forge(settings, "kaz-000000000000")) == 401


@pytest.mark.parametrize("case", [
    "expired", "wrong_audience", "wrong_issuer", "wrong_key", "unknown_kid", "missing_exp",
    "missing_role", "unknown_role", "submitter_without_state"])
def test_bad_tokens_get_401(client: TestClient, settings: Settings, case: str, kaz) -> None:
    now = int(time.time())
    sub = kaz.client_id
    token = {
        "expired": lambda: _forge(settings, sub, iat=now - 3600, exp=now - 60),
        "wrong_audience": lambda: _forge(settings, sub, aud="someone-else"),
        "wrong_issuer": lambda: _forge(settings, sub, iss="evil"),
        "wrong_key": lambda: _forge(settings, sub, key="another-secret-" + "y" * 40),
        "unknown_kid": lambda: _forge(settings, sub, headers={"kid": "k9"}),
        "missing_exp": lambda: _forge(settings, sub, drop=("exp",)),
        "missing_role": lambda: _forge(settings, sub, drop=("role",)),
        "unknown_role": lambda: _forge(settings, sub, role="superuser"),
        "submitter_without_state": lambda: _forge(settings, sub, drop=("ref_area",)),
    }[case]()
    assert _get(client, token) == 401


def test_tampered_token_gets_401(client: TestClient, kaz) -> None:
    header, payload, signature = kaz.token.split(".")
    claims = jwt.utils.base64url_decode(payload.encode())
    forged = claims.replace(b'"KAZ"', b'"KGZ"')
    assert forged != claims
    token = ".".join([header, jwt.utils.base64url_encode(forged).decode(), signature])
    assert _get(client, token) == 401


def test_alg_none_gets_401(client: TestClient, settings: Settings, kaz) -> None:
    token = _forge(settings, kaz.client_id, key=None, algorithm="none")
    assert _get(client, token) == 401


def test_hs256_token_is_refused_by_an_rs256_exchange(tmp_path, database_url, settings,
                                                     kaz) -> None:
    """Algorithm confusion: an RS256 exchange must not accept HMAC tokens."""
    rs = _rs256_settings(tmp_path, database_url)
    with TestClient(prepared_app(rs)) as client:
        assert _get(client, _forge(settings, kaz.client_id)) == 401


def _pem(tmp_path, name: str) -> tuple[object, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / f"{name}.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (tmp_path / f"{name}.pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key, key.public_key()


def _rs256_settings(tmp_path, database_url: str, kid: str = "r2", retired: bool = True
                    ) -> Settings:
    _pem(tmp_path, "old")
    _pem(tmp_path, "new")
    return Settings(
        data_dir=tmp_path / "var", database_url=database_url, jwt_algorithm="RS256",
        jwt_private_key_file=tmp_path / "new.pem", jwt_kid=kid,
        jwt_public_key_files={"r1": tmp_path / "old.pub"} if retired else {})


def _admin(database_url: str) -> Principal:
    """An existing admin client: tokens are honoured only for clients that exist and are
    active."""
    with session_scope(database_url) as session:
        client, _ = create_client(session, role=Role.ADMIN, ref_area=None, name="rotation")
    return Principal(client.id, Role.ADMIN)


def test_rs256_tokens_and_key_rotation_by_kid(tmp_path, database_url) -> None:
    rs = _rs256_settings(tmp_path, database_url)
    ring = KeyRing.from_settings(rs)
    app = prepared_app(rs)
    principal = _admin(database_url)
    old_key = serialization.load_pem_private_key((tmp_path / "old.pem").read_bytes(), None)
    old_ring = KeyRing(algorithm="RS256", issuer=rs.jwt_issuer, audience=rs.jwt_audience,
                       ttl_seconds=60, signing_kid="r1", signing_key=old_key,
                       verification_keys={})
    with TestClient(app) as client:
        assert _get(client, ring.issue(principal)) == 200
        # A token signed with the retired key r1 still verifies during the rotation window...
        assert _get(client, old_ring.issue(principal)) == 200
    # ...and is refused once r1 is dropped from the ring.
    with TestClient(prepared_app(_rs256_settings(tmp_path, database_url, retired=False))) as client:
        assert _get(client, old_ring.issue(principal)) == 401


def test_hs256_rotation_accepts_previous_secret_by_kid(tmp_path, database_url) -> None:
    old = "old-secret-" + "o" * 40
    rotated = Settings(data_dir=tmp_path / "var", database_url=database_url,
                       jwt_secret="new-secret-" + "n" * 40, jwt_kid="k2",
                       jwt_previous_secrets={"k1": old})
    app = prepared_app(rotated)
    principal = _admin(database_url)
    previous = KeyRing.from_settings(Settings(data_dir=tmp_path / "v2", jwt_secret=old,
                                              jwt_kid="k1"))
    with TestClient(app) as client:
        assert _get(client, previous.issue(principal)) == 200
        assert _get(client, KeyRing.from_settings(rotated).issue(principal)) == 200


def test_short_hmac_secrets_are_refused_at_start(tmp_path) -> None:
    with pytest.raises(ValueError, match="shorter than 32 bytes"):
        KeyRing.from_settings(Settings(data_dir=tmp_path, jwt_secret="short"))


def test_embedded_default_generates_and_keeps_a_secret(tmp_path) -> None:
    first = Settings(data_dir=tmp_path).hs256_secret()
    assert len(first) >= 32
    assert Settings(data_dir=tmp_path).hs256_secret() == first
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o077 == 0
