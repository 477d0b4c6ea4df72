"""Every operation of the live OpenAPI document, for every kind of caller.

The operations come from /openapi.json, so an endpoint added tomorrow is in the matrix
without anyone touching this file (an operation this file has no body for is sent `{}`).
The callers: anonymous, the owner of the resources in the path, another user, an admin,
a deleted user and a demoted admin; and, with an API token (`bk_…`) instead of a login
token, the owner, the deleted user and the demoted admin. The rules:

- public operations (`security: []`) never answer 401/403; every other one answers 401
  to anonymous callers and deleted users;
- operations marked `x-roles: [ADMIN]` answer 403 to users and demoted admins, and
  never 401/403 to an admin;
- another user never gets a 2xx on the owner's booking, series, task or ticket, and no
  answer to anyone but the owner and admins carries the owner's private text;
- nothing answers 5xx, and every error has the one JSON shape.

A calendar feed token (`?token=`, no Authorization header) opens exactly the operations
whose spec allows the `feedToken` scheme, the contract's two feeds, and answers 401
everywhere else, as it does once its user is deleted. A room's display token opens its
room's door display alone; that page, which takes no bearer token, answers 401 to every
caller who sends none.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from models.domain.states import utcnow
from models.services import accounts
from models.tables.webhooks import Webhook
from models.webhooks import service as webhooks
from tests.helpers import Api, booking_body, future, undecided, wait_until

PRIVATE = "PRIVATE-0b6c1e"  # in the owner's titles, descriptions and attendees
OWNED = {
    "booking_id",
    "series_id",
    "group_id",
    "task_id",
    "ticket_id",
    "webhook_id",
    "delivery_id",
    "api_token_id",
}
# The contract's admin-only operations (docs/api.md). The spec's x-roles must say the
# same: a route that lost its admin check would otherwise lose its row in the matrix too.
ADMIN_ONLY = {
    ("POST", "/v1/rooms"),
    ("PATCH", "/v1/rooms/{room_id}"),
    ("DELETE", "/v1/rooms/{room_id}"),
    ("PATCH", "/v1/tickets/{ticket_id}"),
    ("GET", "/v1/audit"),
    ("POST", "/v1/rooms/{room_id}/closures"),
    ("DELETE", "/v1/rooms/{room_id}/closures/{closure_id}"),
    ("POST", "/v1/rooms/{room_id}/display-token"),
    ("GET", "/v1/reports/utilization"),
    ("GET", "/reports/utilization"),
}
CALLERS = [
    "anonymous",
    "deleted",
    "deleted_token",
    "other",
    "demoted",
    "demoted_token",
    "owner",
    "owner_token",
    "admin",
]
# Each *_token caller is its user, through an API token: it must be answered as they are.
AS = {"deleted_token": "deleted", "demoted_token": "demoted", "owner_token": "owner"}


def live_operations() -> list[tuple[str, str, dict[str, Any]]]:
    from api import create_app

    spec = create_app().test_client().get("/openapi.json").json
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


OPERATIONS = live_operations()


# The contract's calendar feeds: the operations a feed token opens.
FEEDS = {("GET", "/v1/users/me/calendar.ics"), ("GET", "/v1/rooms/{room_id}/calendar.ics")}
# The door display: the one operation a room's display token opens.
DISPLAY = ("GET", "/rooms/{room_id}/display")


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    ids: dict[str, str]
    room: str
    feed_tokens: dict[str, str]  # the owner's and the deleted user's, made before deletion
    display_tokens: dict[str, str]  # the room's and the annex's


def bodies(world: World) -> dict[tuple[str, str], Any]:
    """Valid bodies where the operation needs one, so a write gets past validation."""
    start = future(hours=30)
    return {
        ("POST", "/v1/auth/register"): {
            "email": f"{uuid.uuid4().hex[:10]}@example.com",
            "name": "New",
            "password": "password-123",
        },
        ("POST", "/v1/auth/token"): {"email": "owner@example.com", "password": "password-123"},
        ("POST", "/v1/users/me/password"): {
            "current_password": "password-123",
            "new_password": "password-456",
        },
        ("POST", "/v1/rooms"): {"name": f"Room {uuid.uuid4().hex[:6]}", "capacity": 4},
        ("PATCH", "/v1/rooms/{room_id}"): {"capacity": 6},
        ("POST", "/v1/bookings"): booking_body(world.room, start),
        ("POST", "/v1/bookings/recurring"): {
            **booking_body(world.room, start + timedelta(hours=2)),
            "recurrence": {"freq": "DAILY", "count": 2},
        },
        ("POST", "/v1/bookings/batch"): {
            "items": [booking_body(world.room, start + timedelta(hours=4))]
        },
        ("POST", "/v1/bookings/check"): booking_body(world.room, start + timedelta(hours=6)),
        ("POST", "/v1/rooms/{room_id}/closures"): {
            "start_time": (start + timedelta(days=40)).isoformat(),
            "end_time": (start + timedelta(days=41)).isoformat(),
            "reason": "Painting",
        },
        ("POST", "/v1/tickets"): {"title": "Broken", "description": "The screen"},
        ("POST", "/v1/webhooks"): {"url": "http://127.0.0.1:9/other", "events": ["*"]},
        ("PATCH", "/v1/tickets/{ticket_id}"): {"status": "IN_PROGRESS"},
        ("PATCH", "/v1/bookings/{booking_id}"): {"title": "Renamed"},
        ("PATCH", "/v1/series/{series_id}"): {"title": "Renamed"},
        ("POST", "/v1/users/me/delegates"): {"user_id": world.ids["user_id"]},
        ("POST", "/v1/users/me/api-tokens"): {"name": "matrix"},
    }


def queries(world: World) -> dict[tuple[str, str], dict[str, Any]]:
    """Valid queries where a read needs one, so it gets past validation."""
    start = future(hours=30)
    return {
        ("GET", "/v1/rooms/find-time"): {
            "duration_minutes": 30,
            "from": start.isoformat(),
            "to": (start + timedelta(days=1)).isoformat(),
        },
    }


def make_world(
    api: Api, admin: dict[str, str], app: Flask, sessions: sessionmaker[Session]
) -> World:
    events = app.extensions["bookings"].auth_events
    cost = app.extensions["bookings"].settings.password_cost
    owner = api.register_and_login("owner@example.com", "Owner")
    other = api.register_and_login("other@example.com", "Other")
    deleted = api.register_and_login("deleted@example.com", "Gone")
    with sessions.begin() as session:
        accounts.create_admin(session, email="demoted@example.com", password="pw-12345", cost=cost)
    demoted = api.login("demoted@example.com", "pw-12345")
    room = api.create_room(admin, name="Matrix", capacity=8).json["id"]

    private = {"title": PRIVATE, "description": PRIVATE, "attendees": [f"{PRIVATE}@example.com"]}
    task_id = api.book(owner, booking_body(room, future(hours=2), **private))
    done = api.wait_task(owner, task_id)
    assert done["status"] == "SUCCEEDED", done
    booking_id = done["result"]["booking_id"]
    series = api.client.post(
        "/v1/bookings/recurring",
        json={
            **booking_body(room, future(hours=5), **private),
            "recurrence": {"freq": "WEEKLY", "count": 2},
        },
        headers=owner,
    )
    series_doc = api.wait_task(owner, series.json["task_id"])
    assert series_doc["status"] == "SUCCEEDED", series_doc
    series_id = series_doc["result"]["series_id"]
    second_room = api.create_room(admin, name="Matrix annex", capacity=8).json["id"]
    both = {**booking_body(room, future(hours=8), **private), "room_ids": [room, second_room]}
    del both["room_id"]
    grouped = api.wait_task(owner, api.book(owner, both))
    assert grouped["status"] == "SUCCEEDED", grouped
    ticket = api.open_ticket(owner, title=PRIVATE, description=PRIVATE)
    join_code = api.client.get(f"/v1/bookings/{booking_id}", headers=owner).json["meeting"][
        "join_code"
    ]

    closing = api.client.post(
        f"/v1/rooms/{room}/closures",
        json={
            "start_time": future(hours=24 * 50).isoformat(),
            "end_time": future(hours=24 * 51).isoformat(),
        },
        headers=admin,
    )
    closed = api.wait_task(admin, closing.json["task_id"])
    assert closed["status"] == "SUCCEEDED", closed

    hook = api.client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["webhook.ping"]},
        headers=owner,
    ).json
    with sessions.begin() as session:
        delivery_id = webhooks.ping(session, session.get(Webhook, uuid.UUID(hook["id"])), utcnow())

    feed_tokens = {
        who: api.client.post("/v1/users/me/feed-token", headers=headers).json["token"]
        for who, headers in (("owner", owner), ("deleted", deleted))
    }
    display_tokens = {
        which: api.client.post(f"/v1/rooms/{rid}/display-token", headers=admin).json["token"]
        for which, rid in (("room", room), ("annex", second_room))
    }

    def api_token(headers: dict[str, str], name: str = "matrix") -> dict[str, Any]:
        made = api.client.post("/v1/users/me/api-tokens", json={"name": name}, headers=headers)
        assert made.status_code == 201, made.json
        return made.json  # type: ignore[no-any-return]

    api_tokens = {
        f"{who}_token": {"Authorization": f"Bearer {api_token(headers)['token']}"}
        for who, headers in (("owner", owner), ("deleted", deleted), ("demoted", demoted))
    }
    revocable = api_token(owner, "to revoke")["id"]  # the path's {api_token_id}

    heard, demoted_id = events.handled, api.me(demoted)
    with sessions.begin() as session:
        session.execute(text("DELETE FROM users WHERE email = 'deleted@example.com'"))
        session.execute(text("UPDATE users SET role = 'USER' WHERE email = 'demoted@example.com'"))
    # Announced in order at the commit: the demotion, last, is heard after the deletion.
    assert events.wait_heard(f"user:{demoted_id}", after=heard, timeout=10)

    return World(
        headers={
            "anonymous": {},
            "deleted": deleted,
            "other": other,
            "demoted": demoted,
            "owner": owner,
            "admin": admin,
            **api_tokens,
        },
        ids={
            "room_id": room,
            "booking_id": booking_id,
            "series_id": series_id,
            "group_id": grouped["result"]["group_id"],
            "user_id": api.me(other),
            "task_id": task_id,
            "ticket_id": ticket["id"],
            "join_code": join_code,
            "closure_id": closed["result"]["closure_id"],
            "webhook_id": hook["id"],
            "delivery_id": str(delivery_id),
            "api_token_id": revocable,
        },
        room=room,
        feed_tokens=feed_tokens,
        display_tokens=display_tokens,
    )


@pytest.fixture
def world(
    api: Api,
    admin: dict[str, str],
    app: Flask,
    sessions: sessionmaker[Session],
    worker: object,
) -> Iterator[World]:
    made = make_world(api, admin, app, sessions)
    yield made
    # What the matrix's writes queued is decided before the tables are cleaned.
    wait_until(lambda: not undecided(sessions), 60, "the matrix's writes to be decided")


def call(api: Api, world: World, method: str, path: str, caller: str) -> TestResponse:
    url = path
    for name, value in world.ids.items():
        url = url.replace("{" + name + "}", value)
    assert "{" not in url, f"no id for a path parameter of {path}: add it to the world"
    body = bodies(world).get((method, path), {} if method in {"POST", "PUT", "PATCH"} else None)
    query = queries(world).get((method, path))
    return api.client.open(
        url, method=method, json=body, query_string=query, headers=world.headers[caller]
    )


def call_with_token(api: Api, world: World, method: str, path: str, token: str) -> TestResponse:
    """The operation as a calendar application or a door screen calls it: `?token=`, no
    Authorization."""
    url = path
    for name, value in world.ids.items():
        url = url.replace("{" + name + "}", value)
    body = bodies(world).get((method, path), {} if method in {"POST", "PUT", "PATCH"} else None)
    return api.client.open(url, method=method, json=body, query_string={"token": token})


def call_with_feed_token(api: Api, world: World, method: str, path: str, who: str) -> TestResponse:
    return call_with_token(api, world, method, path, world.feed_tokens[who])


def check(response: TestResponse, method: str, path: str, op: dict[str, Any], caller: str) -> None:
    where = f"{method} {path} as {caller}: {response.status_code} {response.get_data()[:300]!r}"
    caller = AS.get(caller, caller)
    status = response.status_code
    public = op.get("security") == []
    # A scheme of its own, no bearer token (the door display): nobody here sends it. (No
    # `security` at all is the document's own: the bearer token.)
    own_token = bool(op.get("security")) and all("bearerAuth" not in s for s in op["security"])
    admin_only = "ADMIN" in op.get("x-roles", [])
    owned = any("{" + name + "}" in path for name in OWNED)

    assert status < 500, where
    if status >= 400 and response.is_json:
        assert set(response.json) == {"error"}, where
        assert set(response.json["error"]) == {"code", "message", "details"}, where
    if public:
        assert status not in {401, 403}, where
        return
    if own_token:
        assert status == 401, where
        return
    if caller in {"anonymous", "deleted"}:
        assert status == 401, where
    elif admin_only and caller != "admin":
        assert status == 403, where
    elif caller == "admin":
        assert status not in {401, 403} or path.endswith("/check-in"), where  # organizer's
    elif caller == "other" and owned:
        assert status in {403, 404}, where
    else:
        assert status != 401, where
    if caller not in {"owner", "admin"}:
        assert PRIVATE not in response.get_data(as_text=True), where


@pytest.mark.parametrize(
    ("method", "path", "op"),
    OPERATIONS,
    ids=[f"{method} {path}" for method, path, _ in OPERATIONS],
)
def test_every_operation_answers_every_caller_as_it_should(
    api: Api, world: World, method: str, path: str, op: dict[str, Any]
) -> None:
    for caller in CALLERS:  # the owner and the admin last: their writes change the world
        check(call(api, world, method, path, caller), method, path, op, caller)


def test_a_feed_token_opens_the_feeds_and_nothing_else(api: Api, world: World) -> None:
    for method, path, op in OPERATIONS:
        if op.get("security") == []:
            continue  # public: a token or none changes nothing
        where = f"{method} {path} with a feed token"
        response = call_with_feed_token(api, world, method, path, "owner")
        if (method, path) in FEEDS:
            assert response.status_code == 200, (where, response.get_data()[:300])
            assert response.mimetype == "text/calendar", where
            assert PRIVATE in response.get_data(as_text=True), where  # the owner's own
        else:
            assert response.status_code == 401, (where, response.get_data()[:300])
            assert set(response.json["error"]) == {"code", "message", "details"}, where
        gone = call_with_feed_token(api, world, method, path, "deleted")
        assert gone.status_code == 401, f"{where} of a deleted user: {gone.status_code}"


def test_a_display_token_opens_its_rooms_display_and_nothing_else(api: Api, world: World) -> None:
    token = world.display_tokens["room"]
    for method, path, op in OPERATIONS:
        if op.get("security") == []:
            continue  # public: a token or none changes nothing
        where = f"{method} {path} with a display token"
        response = call_with_token(api, world, method, path, token)
        if (method, path) == DISPLAY:
            assert response.status_code == 200, (where, response.get_data()[:300])
            assert response.mimetype == "text/html", where
            assert PRIVATE not in response.get_data(as_text=True), where  # times only
        else:
            assert response.status_code == 401, (where, response.get_data()[:300])
            assert set(response.json["error"]) == {"code", "message", "details"}, where
    annex = world.display_tokens["annex"]  # another room's token opens not this room's page
    assert call_with_token(api, world, *DISPLAY, annex).status_code == 401


def test_the_spec_lets_exactly_the_display_take_a_display_token() -> None:
    marked = {(m, p) for m, p, op in OPERATIONS if {"displayToken": []} in op.get("security", [])}
    assert marked == {DISPLAY}
    assert next(op for m, p, op in OPERATIONS if (m, p) == DISPLAY)["security"] == [
        {"displayToken": []}
    ]


def test_the_spec_lets_exactly_the_feeds_take_a_feed_token() -> None:
    marked = {
        (m, p)
        for m, p, op in OPERATIONS
        if {"feedToken": []} in op.get("security", []) and {"bearerAuth": []} in op["security"]
    }
    assert marked == FEEDS


def test_the_matrix_covers_every_route_of_the_app(app: Flask) -> None:
    """The spec is where the matrix comes from: a route missing from it would be missed."""
    documented = {(m, p) for m, p, _ in OPERATIONS}
    served: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"static", "docs_assets"} or rule.rule.startswith("/docs"):
            continue
        if rule.rule in {"/openapi.json"}:
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            served.add((method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)))
    assert served <= documented, served - documented


def test_the_spec_marks_exactly_the_contracts_admin_operations() -> None:
    marked = {(m, p) for m, p, op in OPERATIONS if "ADMIN" in op.get("x-roles", [])}
    assert marked == ADMIN_ONLY
