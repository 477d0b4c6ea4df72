"""models.domain.tokens: signed bearer tokens that expire, each with an id and a version;
models.domain.feed_tokens: the random calendar feed tokens, stored as their hash."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from models.domain.feed_tokens import feed_token_digest, new_feed_token
from models.domain.tokens import issue_token, read_token
from models.errors import Unauthorized

SECRET = "s" * 40


def test_token_round_trip_and_refusals() -> None:
    user_id = uuid.uuid4()
    token = issue_token(user_id, version=3, secret=SECRET, ttl_seconds=60)
    claims = read_token(token, secret=SECRET)
    assert (claims.user_id, claims.version) == (user_id, 3)
    assert time.time() + 50 < claims.expires <= time.time() + 60
    with pytest.raises(Unauthorized, match="invalid"):
        read_token(token, secret="t" * 40)
    with pytest.raises(Unauthorized, match="invalid"):
        read_token("garbage", secret=SECRET)
    expired = jwt.encode(
        {"sub": str(user_id), "jti": str(uuid.uuid4()), "ver": 0, "exp": 1},
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized, match="expired"):
        read_token(expired, secret=SECRET)


def test_every_token_has_its_own_id() -> None:
    user_id = uuid.uuid4()
    first, second = (issue_token(user_id, version=0, secret=SECRET, ttl_seconds=60) for _ in "ab")
    assert read_token(first, secret=SECRET).token_id != read_token(second, secret=SECRET).token_id


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "u", "jti": "j", "ver": 0},  # not uuids
        {"jti": str(uuid.uuid4()), "ver": 0},  # no subject
        {"sub": str(uuid.uuid4()), "ver": 0},  # no id: could not be logged out
        {"sub": str(uuid.uuid4()), "jti": str(uuid.uuid4())},  # no version
        {"sub": str(uuid.uuid4()), "jti": str(uuid.uuid4()), "ver": "0"},
        {"sub": str(uuid.uuid4()), "jti": str(uuid.uuid4()), "ver": True},
        {"sub": 7, "jti": str(uuid.uuid4()), "ver": 0},
    ],
)
def test_a_signed_token_missing_or_garbling_a_claim_is_invalid(claims: dict[str, object]) -> None:
    token = jwt.encode({**claims, "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="invalid"):
        read_token(token, secret=SECRET)


def test_feed_tokens_are_random_prefixed_and_stored_as_their_sha256() -> None:
    tokens = {new_feed_token() for _ in range(100)}

    assert len(tokens) == 100
    token = tokens.pop()
    assert token.startswith("cal_") and len(token) == 4 + 43  # 32 random bytes, base64url
    assert token[4:].replace("-", "").replace("_", "").isalnum()  # safe in a URL as is
    digest = feed_token_digest(token)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == feed_token_digest(token) != feed_token_digest(token + "x")
    assert token not in digest
