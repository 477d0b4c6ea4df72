"""Calendar feed tokens: long random secrets a calendar application puts in a feed's URL.

Only a token's SHA-256 is stored (`users.feed_token_hash`), so the table alone opens no
feed. A plain hash is enough, unlike for passwords: the token is 256 random bits, with
nothing to guess. The `cal_` prefix makes one easy to recognise in a log or a leak scan.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "cal_"


def new_feed_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def feed_token_digest(token: str) -> str:
    """What the users table stores and is searched by: the token's SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()
