"""Security headers, the role check before the body, and over-long URIs and headers."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers import Api, assert_error


def test_api_answers_carry_the_security_headers(api: Api, user: dict[str, str]) -> None:
    for response in (
        api.client.get("/v1/users/me", headers=user),
        api.client.get("/v1/rooms/" + str(uuid.uuid4()), headers=user),  # an error too
        api.client.post("/v1/auth/token", json={"email": "x@example.com", "password": "p"}),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers["X-Frame-Options"] == "DENY"
    assert "no-store" not in api.client.get("/healthz").headers.get("Cache-Control", "")


def test_the_docs_page_allows_only_its_own_inline_script(client: FlaskClient) -> None:
    page = client.get("/docs")
    policy = page.headers["Content-Security-Policy"]
    scripts = re.findall(rb"<script>(.*?)</script>", page.get_data(), re.DOTALL)

    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0]).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/rooms"), ("PATCH", "/v1/rooms/{room}"), ("PATCH", "/v1/tickets/{ticket}")],
)
def test_a_non_admin_gets_403_before_the_body_is_looked_at(
    api: Api, user: dict[str, str], room: str, method: str, path: str
) -> None:
    ticket = str(uuid.uuid4())
    url = path.format(room=room, ticket=ticket)
    for body in ('{"name": "a\\u0000b"}', '{"x": ' + "[" * 50 + "]" * 50 + "}", "{bad json"):
        response = api.client.open(
            url, method=method, data=body, content_type="application/json", headers=user
        )
        assert_error(response, 403)
        anonymous = api.client.open(url, method=method, data=body, content_type="application/json")
        assert_error(anonymous, 401)


def test_a_uri_or_headers_beyond_the_limits_are_json_errors(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    long_uri = api.client.get("/v1/rooms?location=" + "a" * 9000, headers=user)
    assert_error(long_uri, 414, "URI_TOO_LONG")
    many = {**user, **{f"X-Filler-{i}": "v" for i in range(80)}}
    assert_error(api.client.get("/v1/rooms", headers=many), 431, "HEADERS_TOO_LARGE")
    big = {**user, "X-Filler": "v" * 40_000}
    assert_error(api.client.get("/v1/rooms", headers=big), 431, "HEADERS_TOO_LARGE")
    within = api.client.get("/v1/rooms?location=" + "a" * 4000, headers=user)
    assert_error(within, 422)  # long, but within the URI limit: the field's own check answers
