"""Extreme dates and numbers in every date and number parameter of the API: never a 5xx,
and no request they reach the worker with ends FAILED.

The parameters come from the live OpenAPI document (every `date-time`, `integer` and
`number`, in a query or a JSON body, nested or in a list), plus every policy key a room
takes. Each is sent, one at a time, in an otherwise valid request (BASES), with each
extreme value. An operation that gains such a parameter without a base here fails the
test, naming it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from models.domain.policy import INTEGER_KEYS
from tests.helpers import Api, booking_body, future, wait_decided

pytestmark = pytest.mark.usefixtures("worker")

DATES = [
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "9999-12-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59+14:00",
]
INTEGERS = [-(2**63), -1, 0, 1, 2**31, 2**40, 10**12, 2**63, 10**30]
NUMBERS: list[Any] = [*INTEGERS, -1e308, 1e308, 0.5]


def assert_none_failed(sessions: sessionmaker[Session]) -> None:
    """Once every request is decided, none ended FAILED."""
    wait_decided(sessions)
    with sessions() as session:
        failed = session.execute(
            text("SELECT kind, error FROM booking_requests WHERE status = 'FAILED'")
        ).all()
    assert not failed, failed


def spec_fields(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(METHOD, path, where, kind) of every date and number parameter; `where` is
    `query:name` or `body.a.b` (`[]`: the first item of a list)."""
    schemas = spec["components"]["schemas"]

    def walk(
        schema: dict[str, Any], where: str, seen: tuple[str, ...]
    ) -> Iterator[tuple[str, str]]:
        if "$ref" in schema:
            name = schema["$ref"].split("/")[-1]
            if name not in seen:
                yield from walk(schemas[name], where, (*seen, name))
            return
        for sub in schema.get("allOf", []) + schema.get("oneOf", []) + schema.get("anyOf", []):
            yield from walk(sub, where, seen)
        if schema.get("format") == "date-time":
            yield where, "date"
        elif schema.get("type") in ("integer", "number"):
            yield where, schema["type"]
        for key, sub in schema.get("properties", {}).items():
            yield from walk(sub, f"{where}.{key}", seen)
        if "items" in schema:
            yield from walk(schema["items"], f"{where}[]", seen)

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            found: list[tuple[str, str]] = []
            for parameter in operation.get("parameters", []):
                found += walk(parameter.get("schema", {}), f"query:{parameter['name']}", ())
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                found += walk(body["schema"], "body", ())
            for where, kind in dict.fromkeys(found):
                yield method.upper(), path, where, kind


def put(document: Any, where: str, value: Any) -> None:
    """Set `value` at `body.a[].b` in the document (the first item of a list)."""
    steps = where.split(".")[1:]
    for step in steps[:-1]:
        listed = step.endswith("[]")
        document = document.setdefault(step.removesuffix("[]"), [{}] if listed else {})
        if listed:
            document = document[0]
    document[steps[-1].removesuffix("[]")] = value


@pytest.fixture
def world(api: Api, user: dict[str, str], make_room: Any) -> dict[str, Any]:
    """A room, a booking, a series, a webhook and a task of the user's, to aim at."""
    room = make_room(name="Extremes")
    start = future(hours=50)
    booking_task = api.book(user, booking_body(room, start))
    booking = api.wait_task(user, booking_task)["result"]["booking_id"]
    series_body = {
        **booking_body(room, start + timedelta(hours=3)),
        "recurrence": {"freq": "WEEKLY", "count": 3},
    }
    response = api.client.post("/v1/bookings/recurring", json=series_body, headers=user)
    series = api.wait_task(user, response.json["task_id"])["result"]["series_id"]
    hook = api.client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["*"]}, headers=user
    ).json["id"]
    return {
        "room_id": room,
        "booking_id": booking,
        "series_id": series,
        "task_id": booking_task,
        "webhook_id": hook,
        "start": start,
    }


def bases(world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A valid request of each operation with a date or number: its query and body."""
    start = world["start"] + timedelta(days=3)
    one = booking_body(world["room_id"], start)
    series = {**one, "recurrence": {"freq": "DAILY", "count": 2}}
    window = {"start_time": start.isoformat(), "end_time": (start + timedelta(hours=1)).isoformat()}
    span = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
    return {
        "GET /v1/users/me/delegates": {},
        "POST /v1/users/me/api-tokens": {"body": {"name": "extreme", "expires_in_days": 30}},
        "GET /v1/users/me/api-tokens": {},
        "POST /v1/rooms": {"body": {"name": "Extreme", "capacity": 4}},
        "GET /v1/rooms": {},
        "GET /v1/rooms/availability": {"query": window},
        "GET /v1/rooms/find-time": {"query": {**span, "duration_minutes": 60}},
        "PATCH /v1/rooms/{room_id}": {"body": {"capacity": 8}},
        "GET /v1/users/me/calendar.ics": {"query": span},
        "GET /v1/rooms/{room_id}/calendar.ics": {"query": span},
        "POST /v1/rooms/{room_id}/closures": {"body": {**window, "reason": "x"}},
        "GET /v1/rooms/{room_id}/closures": {"query": span},
        "POST /v1/bookings": {"body": one},
        "GET /v1/bookings": {"query": span},
        "POST /v1/bookings/recurring": {"body": series},
        "POST /v1/bookings/check": {"body": series},
        "POST /v1/bookings/batch": {"body": {"items": [one]}},
        "PATCH /v1/bookings/{booking_id}": {"body": {"title": "Moved"}},
        "PATCH /v1/series/{series_id}": {"body": {"title": "Shifted"}},
        "POST /v1/series/{series_id}/cancel": {"body": {}},
        "GET /v1/rooms/{room_id}/bookings": {"query": span},
        "GET /v1/approvals": {},
        "GET /v1/tasks/{task_id}": {},
        "GET /v1/tickets": {},
        "GET /v1/audit": {"query": span},
        "GET /v1/webhooks": {},
        "GET /v1/webhooks/{webhook_id}/deliveries": {},
        "GET /v1/reports/utilization": {"query": span},
        "GET /reports/utilization": {"query": span},
    }


def test_extreme_dates_and_numbers_are_never_a_5xx_nor_a_failed_task(
    api: Api,
    admin: dict[str, str],
    world: dict[str, Any],
    sessions: sessionmaker[Session],
) -> None:
    spec = api.client.get("/openapi.json").json
    requests = bases(world)
    sent = 0
    fives: list[str] = []
    for method, path, where, kind in spec_fields(spec):
        key = f"{method} {path}"
        assert key in requests, f"{key} takes {where}: add a valid request of it to BASES"
        url = path.format(**world)
        values = DATES if kind == "date" else NUMBERS if kind == "number" else INTEGERS
        for value in values:
            request = copy.deepcopy(requests[key])
            query = dict(request.get("query", {}))
            body = request.get("body")
            if where.startswith("query:"):
                query[where.removeprefix("query:")] = value
            else:
                body = copy.deepcopy(body) if body is not None else {}
                put(body, where, value)
            response = api.client.open(
                url, method=method, query_string=query, json=body, headers=admin
            )
            sent += 1
            if response.status_code >= 500:
                fives.append(f"{method} {url} {where}={value!r}: {response.status_code}")
    for name in INTEGER_KEYS:  # the policy is a free-form object in the schema
        for value in INTEGERS:
            response = api.client.patch(
                f"/v1/rooms/{world['room_id']}", json={"policy": {name: value}}, headers=admin
            )
            sent += 1
            if response.status_code >= 500:
                fives.append(f"PATCH room policy.{name}={value}: {response.status_code}")
    assert not fives, "\n".join(fives)
    assert sent > 400
    assert_none_failed(sessions)
    check = api.client.post(
        "/v1/bookings/check", json=requests["POST /v1/bookings"]["body"], headers=admin
    )
    assert check.status_code == 200, check.json


def test_series_at_the_edges_of_the_range_are_refused_or_decided_never_failed(
    api: Api, admin: dict[str, str], world: dict[str, Any], sessions: sessionmaker[Session]
) -> None:
    start = world["start"] + timedelta(days=5)
    late = "9999-12-01T00:00:00Z"
    recurrences = [
        {"freq": "MONTHLY", "interval": 366, "count": 500},
        {"freq": "DAILY", "interval": 366, "count": 500},
        {"freq": "WEEKLY", "interval": 366, "count": 500, "by_weekday": ["MO", "SU"]},
        {"freq": "DAILY", "until": late},
        {"freq": "WEEKLY", "until": late, "by_weekday": ["MO", "TU", "WE", "TH", "FR"]},
        {"freq": "MONTHLY", "interval": 12, "until": late},
    ]
    for recurrence in recurrences:
        body = {**booking_body(world["room_id"], start), "recurrence": recurrence}
        for path in ("/v1/bookings/check", "/v1/bookings/recurring"):
            response = api.client.post(path, json=body, headers=admin)
            assert response.status_code < 500, (path, recurrence, response.json)
    near_end = {
        **booking_body(world["room_id"], future(hours=80)),
        "recurrence": {"freq": "WEEKLY", "count": 2},
    }
    created = api.client.post("/v1/bookings/recurring", json=near_end, headers=admin)
    series = api.wait_task(admin, created.json["task_id"])["result"]["series_id"]
    for change in (
        {"shift_minutes": 527040},
        {"shift_minutes": -527040},
        {"duration_minutes": 1440},
        {"from": late},
    ):
        response = api.client.patch(f"/v1/series/{series}", json=change, headers=admin)
        assert response.status_code < 500, (change, response.json)
    assert_none_failed(sessions)


def test_a_policy_past_its_bounds_is_a_422_naming_the_key_and_an_old_one_still_decides(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    world: dict[str, Any],
    sessions: sessionmaker[Session],
) -> None:
    room = world["room_id"]
    for key, value in {
        "horizon_days": 10**12,
        "min_notice_minutes": 10**12,
        "buffer_minutes": 2**40,
        "max_duration_minutes": 1441,
        "max_minutes_per_user_per_week": 10081,
    }.items():
        response = api.client.patch(
            f"/v1/rooms/{room}", json={"policy": {key: value}}, headers=admin
        )
        assert response.status_code == 422, response.json
        assert f"policy.{key}" in response.json["error"]["details"], response.json
    # A room whose policy was stored before the bounds (as the attack left it).
    with sessions.begin() as session:
        session.execute(
            text(
                'UPDATE rooms SET policy = \'{"horizon_days": 1000000000000, '
                '"min_notice_minutes": 1000000000000, "buffer_minutes": 1099511627776}\' '
                "WHERE id = :id"
            ),
            {"id": room},
        )
    body = booking_body(room, world["start"] + timedelta(days=9))
    assert api.client.post("/v1/bookings/check", json=body, headers=user).status_code == 200
    task = api.wait_task(user, api.book(user, body))
    assert task["status"] in {"SUCCEEDED", "REJECTED"}, task
    room_read = api.client.get(f"/v1/rooms/{room}", headers=user).json
    assert room_read["policy"]["horizon_days"] == 3650
