"""api/principals.py's PrincipalCache: verified tokens and principals remembered, never past due."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from api.principals import PrincipalCache
from models.domain.identity import Principal
from models.domain.states import Role
from models.domain.tokens import TokenClaims, issue_token
from models.errors import Unauthorized

SECRET = "s" * 40


def test_a_verified_token_is_not_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = PrincipalCache()
    user_id = uuid.uuid4()
    token = issue_token(user_id, version=0, secret=SECRET, ttl_seconds=60)
    assert cache.claims_of(token, SECRET).user_id == user_id

    def no_second_check(*args: object, **kwargs: object) -> None:
        raise AssertionError("the signature was checked again")

    monkeypatch.setattr(jwt, "decode", no_second_check)
    assert cache.claims_of(token, SECRET).user_id == user_id


def test_a_remembered_token_stops_working_when_it_expires() -> None:
    cache = PrincipalCache()
    user_id, expired_at = uuid.uuid4(), int(time.time()) - 5
    token_id = uuid.uuid4()
    claims = {"sub": str(user_id), "jti": str(token_id), "ver": 0, "exp": expired_at}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    # remembered while it was still valid
    cache._tokens[token] = TokenClaims(user_id, token_id, 0, expired_at)
    with pytest.raises(Unauthorized, match="expired"):
        cache.claims_of(token, SECRET)


def test_a_bad_token_is_refused_every_time_and_not_remembered() -> None:
    cache = PrincipalCache()
    forged = issue_token(uuid.uuid4(), version=0, secret="x" * 40, ttl_seconds=60)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            cache.claims_of(forged, SECRET)
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


def test_a_forgotten_user_is_loaded_again_at_once() -> None:
    cache = PrincipalCache(ttl=3600)
    user_id = uuid.uuid4()
    roles = iter([Role.ADMIN, Role.USER])

    def load() -> Principal:
        return Principal(user_id, next(roles))

    assert cache.get(user_id, load).role == Role.ADMIN  # type: ignore[union-attr]
    assert cache.get(user_id, load).role == Role.ADMIN  # type: ignore[union-attr]
    cache.forget(user_id)  # demoted: the listener heard it
    assert cache.get(user_id, load).role == Role.USER  # type: ignore[union-attr]


def test_a_load_that_raced_a_change_is_not_kept() -> None:
    """A principal read before a demotion committed, stored after the listener forgot the
    user, would otherwise stay an admin for the whole ttl."""
    cache = PrincipalCache(ttl=3600)
    user_id = uuid.uuid4()
    loads = []

    def stale_load() -> Principal:
        loads.append(1)
        cache.forget(user_id)  # the change is heard while this load is under way
        return Principal(user_id, Role.ADMIN)

    cache.get(user_id, stale_load)
    cache.get(user_id, stale_load)
    assert len(loads) == 2
