"""Who is calling: roles, principals, client secrets and signed access tokens."""

from exchange.auth.principal import Principal, Role
from exchange.auth.tokens import InvalidToken, KeyRing

__all__ = ["InvalidToken", "KeyRing", "Principal", "Role"]
