"""api/auth.py's PrincipalCache: verified tokens and principals remembered, never past due."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from api.auth import PrincipalCache
from models.domain.identity import Principal
from models.domain.tokens import issue_token
from models.errors import Unauthorized
from models.tables.users import Role

SECRET = "s" * 40


def test_a_verified_token_is_not_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = PrincipalCache()
    user_id = uuid.uuid4()
    token = issue_token(user_id, secret=SECRET, ttl_seconds=60)
    assert cache.user_of(token, SECRET) == user_id

    def no_second_check(*args: object, **kwargs: object) -> None:
        raise AssertionError("the signature was checked again")

    monkeypatch.setattr(jwt, "decode", no_second_check)
    assert cache.user_of(token, SECRET) == user_id


def test_a_remembered_token_stops_working_when_it_expires() -> None:
    cache = PrincipalCache()
    user_id, expired_at = uuid.uuid4(), int(time.time()) - 5
    claims = {"sub": str(user_id), "iat": expired_at - 60, "exp": expired_at, "typ": "access"}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    cache._tokens[token] = (user_id, expired_at)  # remembered while it was still valid
    with pytest.raises(Unauthorized, match="expired"):
        cache.user_of(token, SECRET)


def test_a_bad_token_is_refused_every_time_and_not_remembered() -> None:
    cache = PrincipalCache()
    forged = issue_token(uuid.uuid4(), secret="x" * 40, ttl_seconds=60)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            cache.user_of(forged, SECRET)
    assert forged not in cache._tokens


def test_a_principal_is_loaded_again_after_its_ttl() -> None:
    cache = PrincipalCache(ttl=0.0)
    user_id = uuid.uuid4()
    loads = []

    def load() -> Principal:
        loads.append(1)
        return Principal(user_id, Role.USER)

    cache.get(user_id, load)
    cache.get(user_id, load)
    assert len(loads) == 2
