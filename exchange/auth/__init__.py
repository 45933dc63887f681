"""Who is calling: roles, principals, client secrets and signed access tokens.

``KeyRing`` and ``InvalidToken`` live in ``exchange.auth.tokens`` (PyJWT is imported there only).
"""

from exchange.auth.principal import Principal, Role

__all__ = ["Principal", "Role"]
