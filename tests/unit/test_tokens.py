"""models.domain.tokens: signed bearer tokens that expire."""

from __future__ import annotations

import uuid

import jwt
import pytest

from models.domain.tokens import issue_token, read_token
from models.errors import Unauthorized

SECRET = "s" * 40


def test_token_round_trip_and_refusals() -> None:
    user_id = uuid.uuid4()
    token = issue_token(user_id, secret=SECRET, ttl_seconds=60)
    assert read_token(token, secret=SECRET) == user_id
    with pytest.raises(Unauthorized, match="invalid"):
        read_token(token, secret="t" * 40)
    with pytest.raises(Unauthorized, match="invalid"):
        read_token("garbage", secret=SECRET)
    expired = jwt.encode({"sub": str(user_id), "exp": 1}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="expired"):
        read_token(expired, secret=SECRET)
