"""Slow salted password hashes (scrypt, from the standard library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# cost is log2 of scrypt's n. 14 (n=2**14, r=8, p=1: ~50 ms and 16 MiB per hash) is
# OWASP's scrypt floor and the production default (Settings.password_cost); tests run
# with a cheap one. A stored hash carries its own n, so verifying works whatever the
# cost was when it was made.
DEFAULT_COST = 14
MIN_COST = 4
_R, _P, _LEN = 8, 1, 32


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str, *, cost: int = DEFAULT_COST) -> str:
    if cost < MIN_COST:
        raise ValueError(f"password cost must be at least {MIN_COST}, got {cost}")
    n = 2**cost
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=_R, p=_P, dklen=_LEN)
    return f"scrypt${n}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        password.encode(),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(expected),
    )
    return hmac.compare_digest(actual, expected)
