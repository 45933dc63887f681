"""Short-lived JWT access tokens (PyJWT), one algorithm pinned, keys rotated by ``kid``.

A token carries ``iss``, ``aud``, ``sub``, ``iat``, ``exp``, ``role`` and, for state-bound
roles, ``ref_area``. Verification accepts only the configured algorithm, requires every claim
and picks the key by the header's ``kid`` from the ring of current and retired keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from exchange.auth.principal import Principal, Role
from exchange.core.config import Settings

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "role"]
MIN_HMAC_BYTES = 32


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why (for logs, not for the caller)."""


@dataclass(frozen=True)
class KeyRing:
    algorithm: str
    issuer: str
    audience: str
    ttl_seconds: int
    signing_kid: str
    signing_key: Any
    verification_keys: dict[str, Any]

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        common = {"issuer": settings.jwt_issuer, "audience": settings.jwt_audience,
                  "ttl_seconds": settings.jwt_ttl_seconds, "signing_kid": settings.jwt_kid}
        if settings.jwt_algorithm == "HS256":
            secret = settings.hs256_secret()
            keys = {kid: s.get_secret_value() for kid, s in settings.jwt_previous_secrets.items()}
            keys[settings.jwt_kid] = secret
            for kid, key in keys.items():
                if len(key.encode()) < MIN_HMAC_BYTES:
                    raise ValueError(f"HS256 key {kid!r} is shorter than {MIN_HMAC_BYTES} bytes")
            return cls(algorithm="HS256", signing_key=secret, verification_keys=keys, **common)
        if settings.jwt_private_key_file is None:
            raise ValueError("RS256 needs MMX_JWT_PRIVATE_KEY_FILE")
        from cryptography.hazmat.primitives import serialization

        private = serialization.load_pem_private_key(
            settings.jwt_private_key_file.read_bytes(), password=None)
        public = {kid: serialization.load_pem_public_key(path.read_bytes())
                  for kid, path in settings.jwt_public_key_files.items()}
        public[settings.jwt_kid] = private.public_key()  # type: ignore[union-attr]
        return cls(algorithm="RS256", signing_key=private, verification_keys=public, **common)

    def issue(self, principal: Principal, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.audience, "sub": principal.client_id,
            "iat": issued, "exp": issued + self.ttl_seconds, "role": principal.role.value,
        }
        if principal.ref_area is not None:
            claims["ref_area"] = principal.ref_area
        return jwt.encode(claims, self.signing_key, algorithm=self.algorithm,
                          headers={"kid": self.signing_kid})

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        if header.get("alg") != self.algorithm:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        key = self.verification_keys.get(header.get("kid", ""))
        if key is None:
            raise InvalidToken(f"unknown key id {header.get('kid')!r}")
        try:
            claims = jwt.decode(
                token, key, algorithms=[self.algorithm], audience=self.audience,
                issuer=self.issuer, options={"require": REQUIRED_CLAIMS},
            )
            return Principal(client_id=str(claims["sub"]), role=Role(claims["role"]),
                             ref_area=claims.get("ref_area"))
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(str(exc)) from exc
