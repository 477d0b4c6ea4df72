"""The log scan finds what it looks for (so a clean scan means something)."""

from __future__ import annotations

import pytest

from models.domain.feed_tokens import new_api_token, new_feed_token
from models.domain.passwords import hash_password
from models.domain.tokens import issue_token
from tests.log_secrets import leaks


def test_the_scan_finds_passwords_hashes_tokens_and_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uuid

    key = "k" * 40
    monkeypatch.setenv("SECRET_KEY", key)
    token = issue_token(uuid.uuid4(), version=0, secret=key, ttl_seconds=60)
    lines = [
        "login body {'password': 'password-123'}",
        f"stored {hash_password('x', cost=4)}",
        f"header Authorization: Bearer {token}",
        f"claims {token}",
        f"settings secret_key={key}",
        f"GET /v1/users/me/calendar.ics?token={new_feed_token()}",
        f"service token {new_api_token()}",
        "a booking was confirmed for room 7",
    ]
    assert leaks(lines) == [line[:300] for line in lines[:7]]
