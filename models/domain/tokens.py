"""Signed, expiring bearer tokens (JWT, HS256).

A token names its user (`sub`), itself (`jti`, so that a logout can revoke it alone) and
the user's token version when it was issued (`ver`: a password change bumps the version,
and every older token stops working).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from models.errors import Unauthorized

_ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    token_id: uuid.UUID
    version: int
    expires: float  # epoch seconds


def issue_token(user_id: uuid.UUID, *, version: int, secret: str, ttl_seconds: int) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "jti": str(uuid.uuid4()),
        "ver": version,
        "iat": now,
        "exp": now + ttl_seconds,
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, *, secret: str) -> TokenClaims:
    """What a valid token says; Unauthorized when bad or expired."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            options={"require": ["exp", "sub", "jti", "ver"]},
        )
        version = claims["ver"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("ver is not a whole number")
        return TokenClaims(
            user_id=uuid.UUID(claims["sub"]),
            token_id=uuid.UUID(claims["jti"]),
            version=version,
            expires=float(claims["exp"]),
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired") from exc
    except (jwt.InvalidTokenError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise Unauthorized("invalid token") from exc
