"""Join codes: short, unambiguous, unguessable."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: a code read aloud or from a screen is typed right the first time.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
