"""The synchronous side of `POST /v1/bookings` and of errors in general.

Every refusal must answer the one error shape with the right status and must write
nothing: no booking_requests row (and so nothing for a worker to decide).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from models.domain.states import BookingStatus, RequestStatus
from models.domain.tokens import issue_token
from models.settings import load_settings
from models.tables.bookings import Booking
from models.tables.requests import BookingRequest
from tests.helpers import (
    Api,
    assert_error,
    booking_body,
    count_rows,
    future,
    request_count,
    wait_decided,
    wait_until,
)
from tests.integration.conftest import worker_is_idle

# A live worker decides what the accepted control cases queue; each waits for it.
pytestmark = pytest.mark.usefixtures("worker")


def post_booking(
    client: FlaskClient, headers: dict[str, str] | None, body: Any, **kw: Any
) -> TestResponse:
    return client.post("/v1/bookings", json=body, headers=headers or {}, **kw)


# --- booking window and field shapes -----------------------------------------------------


def test_an_accepted_booking_answers_202_with_the_task_and_a_location(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """Control case: a valid body is 202 {task_id, QUEUED, status_url} + Location, one row."""
    response = post_booking(api.client, user, booking_body(room, future()))

    assert response.status_code == 202, response.json
    body = response.json
    assert set(body) == {"task_id", "status", "status_url"}
    assert body["status"] == "QUEUED"
    assert body["status_url"] == f"/v1/tasks/{body['task_id']}"
    assert response.headers["Location"].endswith(body["status_url"])
    with sessions() as session:
        row = session.get(BookingRequest, uuid.UUID(body["task_id"]))
        assert row is not None
        assert str(row.room_id) == room
    assert request_count(sessions) == 1
    wait_decided(sessions)


@pytest.mark.parametrize(
    ("make_body", "field"),
    [
        pytest.param(lambda r: booking_body(r, future(), minutes=0), "end_time", id="end=start"),
        pytest.param(lambda r: booking_body(r, future(), minutes=-30), "end_time", id="end<start"),
        pytest.param(
            lambda r: booking_body(r, future(), minutes=24 * 60 + 1), "end_time", id="over-24h"
        ),
        pytest.param(
            lambda r: booking_body(r, datetime.now(UTC) - timedelta(hours=2)),
            "start_time",
            id="start-in-past",
        ),
        pytest.param(
            lambda r: booking_body(r, datetime.now(UTC) + timedelta(days=366)),
            "start_time",
            id="start-beyond-365-days",
        ),
    ],
)
def test_a_bad_booking_window_is_422_naming_the_field(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session], make_body, field
) -> None:
    """end <= start, > 24 h, in the past, > 365 days ahead: 422 naming the field, no row."""
    error = assert_error(post_booking(api.client, user, make_body(room)), 422, "VALIDATION_ERROR")

    assert field in error["details"], error
    assert request_count(sessions) == 0


def test_a_booking_of_exactly_24_hours_is_accepted(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """The duration limit is inclusive: the 24 h boundary itself is fine (control case)."""
    response = post_booking(api.client, user, booking_body(room, future(), minutes=24 * 60))

    assert response.status_code == 202, response.json
    assert request_count(sessions) == 1
    wait_decided(sessions)


def test_a_time_without_an_offset_is_422(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """Naive times are refused: the contract demands ISO 8601 with an offset."""
    start = future().replace(tzinfo=None)
    body = {
        "room_id": room,
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(hours=1)).isoformat(),
        "title": "Naive",
    }
    assert "+" not in body["start_time"] and "Z" not in body["start_time"]

    error = assert_error(post_booking(api.client, user, body), 422, "VALIDATION_ERROR")

    assert {"start_time", "end_time"} <= set(error["details"]), error
    assert "add an offset such as Z or +01:00" in error["details"]["start_time"][0]
    assert request_count(sessions) == 0


def test_times_with_a_non_utc_offset_are_accepted_and_stored_in_utc(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """Control for the offset rule: "+01:00" is fine, and the request keeps UTC times."""
    start = future().astimezone(ZoneInfo("Europe/Berlin"))
    body = booking_body(room, start)
    assert not body["start_time"].endswith("+00:00")

    response = post_booking(api.client, user, body)

    assert response.status_code == 202, response.json
    with sessions() as session:
        row = session.scalars(select(BookingRequest)).one()
    assert datetime.fromisoformat(row.payload["start_time"]) == start
    assert datetime.fromisoformat(row.payload["start_time"]).utcoffset() == timedelta(0)
    wait_decided(sessions)


def test_missing_required_fields_are_each_named(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """An empty body names every required field in details."""
    error = assert_error(post_booking(api.client, user, {}), 422, "VALIDATION_ERROR")

    assert {"room_id", "start_time", "end_time", "title"} <= set(error["details"]), error
    assert request_count(sessions) == 0


def test_a_single_missing_field_is_named_alone(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """Only the field that is missing is reported (title here)."""
    body = booking_body(room, future())
    del body["title"]

    error = assert_error(post_booking(api.client, user, body), 422, "VALIDATION_ERROR")

    assert set(error["details"]) == {"title"}, error
    assert request_count(sessions) == 0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        pytest.param({"title": "x" * 201}, "title", id="title-too-long"),
        pytest.param({"title": ""}, "title", id="title-empty"),
        pytest.param({"attendees": ["  "]}, "attendees", id="attendee-blank"),
        pytest.param({"attendees": "a@example.com"}, "attendees", id="attendees-not-a-list"),
        pytest.param({"attendees": "a@example.com"}, "attendees", id="attendees-not-a-list"),
        pytest.param(
            {"external_meeting_url": "not a url"}, "external_meeting_url", id="url-garbage"
        ),
        pytest.param(
            {"external_meeting_url": "ftp://meet.example.com/x"},
            "external_meeting_url",
            id="url-bad-scheme",
        ),
        pytest.param({"colour": "blue"}, "colour", id="unknown-field"),
        pytest.param({"room_id": "not-a-uuid"}, "room_id", id="room-id-not-uuid"),
    ],
)
def test_a_bad_field_is_422_naming_it(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session], extra, field
) -> None:
    """Each malformed field gives 422 with that field named in details, and no row."""
    body = {**booking_body(room, future()), **extra}

    error = assert_error(post_booking(api.client, user, body), 422, "VALIDATION_ERROR")

    assert field in error["details"], error
    assert request_count(sessions) == 0


def test_a_title_of_exactly_200_characters_is_accepted(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """Control for the title limit: 200 characters is allowed."""
    response = post_booking(api.client, user, booking_body(room, future(), title="t" * 200))

    assert response.status_code == 202, response.json
    assert request_count(sessions) == 1
    wait_decided(sessions)


def test_an_unknown_room_is_404(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """A well-formed but unknown room_id is a 404, and nothing is queued."""
    response = post_booking(api.client, user, booking_body(str(uuid.uuid4()), future()))

    assert_error(response, 404)
    assert request_count(sessions) == 0


# --- transport-level refusals ------------------------------------------------------------


@pytest.mark.parametrize("raw", ["null", "[1, 2]", '"a string"', "42"])
def test_a_json_body_that_is_not_an_object_is_422(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session], raw: str
) -> None:
    """Valid JSON of the wrong type is a validation error, not a crash."""
    response = api.client.post(
        "/v1/bookings", data=raw, content_type="application/json", headers=user
    )

    assert_error(response, 422)
    assert request_count(sessions) == 0


def test_malformed_json_is_400(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """A body that is not valid JSON is a 400 in the error shape."""
    raw = json.dumps(booking_body(room, future()))[:-5]
    response = api.client.post(
        "/v1/bookings", data=raw, content_type="application/json", headers=user
    )

    assert_error(response, 400)
    assert request_count(sessions) == 0


def test_a_non_json_body_is_415(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """A text/plain body (even one holding valid JSON) is 415."""
    raw = json.dumps(booking_body(room, future()))
    response = api.client.post("/v1/bookings", data=raw, content_type="text/plain", headers=user)

    assert_error(response, 415)
    assert request_count(sessions) == 0


def test_a_3_mb_body_is_413(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """A body over the size limit is refused with 413 before anything is stored."""
    body = booking_body(room, future(), description="x" * (3 * 1024 * 1024))
    response = post_booking(api.client, user, body)

    assert_error(response, 413)
    assert request_count(sessions) == 0


def test_unknown_routes_and_methods_use_the_error_shape(api: Api, user: dict[str, str]) -> None:
    """404 for an unknown path or a non-UUID id, 405 for a wrong method: same error shape."""
    assert_error(api.client.get("/v1/nothing-here", headers=user), 404)
    assert_error(api.client.get("/v1/bookings/not-a-uuid", headers=user), 404)
    assert_error(api.client.put("/v1/bookings", json={}, headers=user), 405)


# --- authentication and roles ------------------------------------------------------------


def test_no_token_is_401(api: Api, room: str, sessions: sessionmaker[Session]) -> None:
    """Without a bearer token a write is refused and nothing is stored."""
    assert_error(post_booking(api.client, None, booking_body(room, future())), 401)
    assert_error(api.client.get("/v1/users/me"), 401)
    assert request_count(sessions) == 0


@pytest.mark.parametrize(
    "header",
    ["Bearer garbage", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a.b.c"],
    ids=["garbage", "empty", "basic-scheme", "dotted-garbage"],
)
def test_a_garbage_token_is_401(
    api: Api, room: str, sessions: sessionmaker[Session], header: str
) -> None:
    """Anything that is not a valid token of ours is 401."""
    response = post_booking(api.client, {"Authorization": header}, booking_body(room, future()))

    assert_error(response, 401)
    assert request_count(sessions) == 0


def test_a_token_signed_with_another_secret_is_401(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """A well-formed token for a real user, signed with a foreign key, is refused."""
    forged = issue_token(
        uuid.UUID(api.me(user)), version=0, secret="another-secret-" * 4, ttl_seconds=600
    )
    headers = {"Authorization": f"Bearer {forged}"}

    assert_error(post_booking(api.client, headers, booking_body(room, future())), 401)
    assert request_count(sessions) == 0


def test_a_token_for_a_user_that_does_not_exist_is_401(
    api: Api, room: str, sessions: sessionmaker[Session]
) -> None:
    """A validly signed token whose subject is no user is refused."""
    ghost = issue_token(uuid.uuid4(), version=0, secret=os.environ["SECRET_KEY"], ttl_seconds=600)
    headers = {"Authorization": f"Bearer {ghost}"}

    assert_error(post_booking(api.client, headers, booking_body(room, future())), 401)
    assert request_count(sessions) == 0


def test_an_expired_token_is_401(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """A correctly signed token whose exp has passed is refused; a fresh one works."""
    uid = api.me(user)
    secret = os.environ["SECRET_KEY"]
    claims = {"sub": uid, "jti": str(uuid.uuid4()), "ver": 0, "exp": int(time.time()) - 60}
    expired = jwt.encode(claims, secret, algorithm="HS256")
    fresh = issue_token(uuid.UUID(uid), version=0, secret=secret, ttl_seconds=600)

    response = post_booking(
        api.client, {"Authorization": f"Bearer {expired}"}, booking_body(room, future())
    )

    assert_error(response, 401)
    assert request_count(sessions) == 0
    me = api.client.get("/v1/users/me", headers={"Authorization": f"Bearer {fresh}"})
    assert me.status_code == 200 and me.json["id"] == uid


def test_a_user_may_not_create_rooms(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """POST /v1/rooms is admin-only: a USER gets 403 and no room appears."""
    from models.tables.rooms import Room

    response = api.create_room(user, name="Mine", capacity=4)

    assert_error(response, 403)
    assert count_rows(sessions, Room) == 0


# --- idempotency ---------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_returns_the_same_task(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """A replay answers 202 with the first task_id and stores no second row."""
    body = booking_body(room, future())
    headers = {**user, "Idempotency-Key": "key-1"}

    first = post_booking(api.client, headers, body)
    second = post_booking(api.client, headers, body)

    assert first.status_code == second.status_code == 202, (first.json, second.json)
    assert second.json["task_id"] == first.json["task_id"]
    assert second.json["status_url"] == first.json["status_url"]
    assert second.headers["Location"] == first.headers["Location"]
    assert request_count(sessions) == 1
    with sessions() as session:
        row = session.get(BookingRequest, uuid.UUID(first.json["task_id"]))
    assert row is not None and row.idempotency_key == "key-1"
    wait_decided(sessions)


def test_an_idempotency_key_is_per_user(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    """Another user's identical key and body is a request of its own, not a replay."""
    body = booking_body(room, future())

    a = post_booking(api.client, {**user, "Idempotency-Key": "shared"}, body)
    b = post_booking(api.client, {**other_user, "Idempotency-Key": "shared"}, body)

    assert a.status_code == b.status_code == 202
    assert a.json["task_id"] != b.json["task_id"]
    assert request_count(sessions) == 2
    wait_decided(sessions)


def test_the_same_idempotency_key_with_another_body_is_422(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """Reusing a key for a different body is IDEMPOTENCY_KEY_REUSED and stores nothing."""
    headers = {**user, "Idempotency-Key": "key-2"}
    first = post_booking(api.client, headers, booking_body(room, future()))
    assert first.status_code == 202

    response = post_booking(api.client, headers, booking_body(room, future(5)))

    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert request_count(sessions) == 1
    wait_decided(sessions)


def test_an_idempotency_key_over_255_characters_is_422(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """Keys are at most 255 characters: 256 is refused, 255 is accepted."""
    body = booking_body(room, future())

    too_long = post_booking(api.client, {**user, "Idempotency-Key": "k" * 256}, body)
    assert_error(too_long, 422)
    assert request_count(sessions) == 0

    longest = post_booking(api.client, {**user, "Idempotency-Key": "k" * 255}, body)
    assert longest.status_code == 202, longest.json
    assert request_count(sessions) == 1
    wait_decided(sessions)


# --- backing services down -----------------------------------------------------------------


def test_database_down_is_503_without_a_stack_trace() -> None:
    """With Postgres unreachable, a write answers 503 SERVICE_UNAVAILABLE and no trace."""
    from api import create_app

    settings = dataclasses.replace(
        load_settings(), database_url="postgresql+psycopg://postgres@127.0.0.1:1/nope"
    )
    client = create_app(settings).test_client()

    response = client.post(
        "/v1/auth/register",
        json={"email": "down@example.com", "name": "Down", "password": "password-123"},
    )

    error = assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["Retry-After"] == "5"
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert 'File "' not in text
    assert "psycopg" not in text.lower()
    assert "database" in error["message"] or "database" in json.dumps(error["details"])

    ready = client.get("/readyz")
    ready_error = assert_error(ready, 503, "SERVICE_UNAVAILABLE")
    assert "database" in ready_error["message"]


def test_a_connection_the_database_dropped_is_a_503_then_replaced(
    api: Api, user: dict[str, str], room: str, worker: object, sessions: sessionmaker[Session]
) -> None:
    """The single-booking path uses a pooled connection without a Session: when the
    server has closed it (a restart, pg_terminate_backend), the write is a 503 that
    stores nothing, and the next write gets a new connection."""
    engine = sessions.kw["bind"]
    engine.dispose()  # the pool now holds one connection: the one made below
    pooled = engine.raw_connection()
    with pooled.cursor() as cursor:
        cursor.execute("SET application_name = 'doomed'")
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    pooled.commit()
    pooled.close()
    before = request_count(sessions)  # on that connection too, before it dies
    with psycopg.connect(
        engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    ) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))

    dropped = api.client.post("/v1/bookings", json=booking_body(room, future(1)), headers=user)
    assert_error(dropped, 503, "SERVICE_UNAVAILABLE")
    assert dropped.headers["Retry-After"] == "5"
    assert "Traceback" not in dropped.get_data(as_text=True)
    task = api.book(user, booking_body(room, future(1)))

    assert request_count(sessions) == before + 1
    assert api.wait_task(user, task)["status"] == "SUCCEEDED"


def test_a_commit_cut_off_is_a_503_naming_the_task_that_says_if_it_was_stored(
    api: Api,
    user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connection breaks while the statement that commits the row runs (the primary
    died at that moment): whether the row was stored is unknown to the API, so the 503
    names the task, whose status says (here 404: the server ended the session first)."""
    from models.commit_bound import WATCHDOG

    watch = WATCHDOG.watch  # called as the self-committing statement is sent

    def cut_off(conn: psycopg.Connection[Any]) -> None:
        url = sessions.kw["bind"].url.render_as_string(hide_password=False)
        with psycopg.connect(url.replace("+psycopg", "")) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        watch(conn)

    before = request_count(sessions)
    monkeypatch.setattr(WATCHDOG, "watch", cut_off)
    answer = api.client.post("/v1/bookings", json=booking_body(room, future(2)), headers=user)
    monkeypatch.undo()

    error = assert_error(answer, 503, "SERVICE_UNAVAILABLE")
    assert answer.headers["Retry-After"] == "5"
    assert error["details"]["service"] == "database"
    task = api.client.get(f"/v1/tasks/{error['details']['task_id']}", headers=user)
    assert_error(task, 404, "NOT_FOUND")
    assert request_count(sessions) == before


@pytest.fixture
def broker_down_client(database: str) -> FlaskClient:
    """An app sharing the test database and Redis, but whose broker does not answer."""
    from api import create_app

    settings = dataclasses.replace(load_settings(), broker_url="redis://127.0.0.1:1/0")
    return create_app(settings).test_client()


def test_readyz_names_the_broker_when_it_is_down(broker_down_client: FlaskClient) -> None:
    """/readyz is 503 and says the broker (and only the broker) is down."""
    response = broker_down_client.get("/readyz")

    error = assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert "broker" in error["message"]
    assert str(error["details"]["broker"]).startswith("down")
    assert error["details"]["database"] == "ok"
    assert "database" not in error["message"]


def test_readyz_is_200_when_everything_answers(client: FlaskClient) -> None:
    """Control: the ordinary test app is ready."""
    response = client.get("/readyz")

    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready"


def test_a_request_accepted_while_the_broker_is_down_is_not_lost(
    api: Api,
    user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
    broker_down_client: FlaskClient,
    app: Flask,
) -> None:
    """Broker down: 202 and a QUEUED row; the sweeper re-sends it and a worker decides it."""
    from models.services.sweeper import sweep_queued

    response = broker_down_client.post(
        "/v1/bookings", json=booking_body(room, future()), headers=user
    )

    assert response.status_code == 202, response.json
    assert response.json["status"] == "QUEUED"
    task_id = response.json["task_id"]
    with sessions() as session:
        row = session.get(BookingRequest, uuid.UUID(task_id))
        assert row is not None
        assert row.status == RequestStatus.QUEUED
    # Nothing reached the real broker: once the worker has nothing left to do, it is QUEUED.
    wait_until(lambda: worker_is_idle(app), 30, "the worker to have nothing left to do")
    assert api.task(user, task_id)["status"] == "QUEUED"

    waker = api.client.application.extensions["bookings"].waker.waker  # the RoomWaker
    assert sweep_queued(sessions, waker, stale_after=timedelta(0)) >= 1

    doc = api.wait_task(user, task_id)
    assert doc["status"] == "SUCCEEDED", doc
    with sessions() as session:
        booking = session.get(Booking, uuid.UUID(doc["result"]["booking_id"]))
        assert booking is not None
        assert booking.status == BookingStatus.CONFIRMED
        assert str(booking.room_id) == room


def test_an_unknown_path_or_a_non_uuid_id_is_a_json_404(api: Api, user: dict[str, str]) -> None:
    for path in ("/v1/bookings/not-a-uuid", "/v1/nothing-here"):
        error = assert_error(api.client.get(path, headers=user), 404, "NOT_FOUND")
        assert "ids are UUIDs" in error["message"]


def test_a_method_not_allowed_names_the_allowed_ones(api: Api, user: dict[str, str]) -> None:
    response = api.client.put("/v1/bookings", json={}, headers=user)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
