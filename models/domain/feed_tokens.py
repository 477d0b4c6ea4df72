"""Secret tokens that are looked up by their hash: calendar feed tokens (`cal_…`, in a
feed's URL), API tokens (`bk_…`, a service's bearer token) and door display tokens
(`dsp_…`, in a room display's URL).

Only a token's SHA-256 is stored, so the tables alone open nothing. A plain hash is
enough, unlike for passwords: the token is 256 random bits, with nothing to guess. The
prefix makes one easy to recognise in a log or a leak scan.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "cal_"
API_PREFIX = "bk_"
DISPLAY_PREFIX = "dsp_"


def new_feed_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def new_api_token() -> str:
    return API_PREFIX + secrets.token_urlsafe(32)


def new_display_token() -> str:
    return DISPLAY_PREFIX + secrets.token_urlsafe(32)


def feed_token_digest(token: str) -> str:
    """What the tables store and are searched by: the token's SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()
