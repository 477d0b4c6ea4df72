"""Signed, expiring bearer tokens (JWT, HS256)."""

from __future__ import annotations

import time
import uuid

import jwt

from models.errors import Unauthorized

_ALGORITHM = "HS256"


def issue_token(user_id: uuid.UUID, *, secret: str, ttl_seconds: int) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + ttl_seconds, "typ": "access"}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, *, secret: str) -> uuid.UUID:
    """The user id a valid token speaks for; Unauthorized when bad or expired."""
    return read_token_expiry(token, secret=secret)[0]


def read_token_expiry(token: str, *, secret: str) -> tuple[uuid.UUID, float]:
    """The user id a valid token speaks for and when it expires (epoch seconds)."""
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["exp"]})
        return uuid.UUID(claims["sub"]), float(claims["exp"])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired") from exc
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise Unauthorized("invalid token") from exc
