"""`bookings api` as deployed: granian serving the app over a real socket.

The other integration tests call the app through Flask's test client; these make sure
the production server in front of it speaks the same contract: a write over HTTP is
accepted and decided by the worker, a chunked body is read whole, errors keep their
JSON shape.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import RequestStatus
from models.domain.tokens import read_token
from models.tables.requests import BookingRequest
from tests.helpers import (
    Api,
    booking_body,
    future,
    request_count,
    stored_request,
    undecided,
    wait_until,
)
from tests.http_server import Server


def bearer(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/json"}


def test_a_booking_over_http_is_accepted_and_decided(
    server: Server, worker: object, user: dict[str, str], room: str
) -> None:
    body = json.dumps(booking_body(room, future(3))).encode()
    status, headers, doc = server.request("POST", "/v1/bookings", body, bearer(user))
    assert status == 202, doc
    assert headers["Location"] == doc["status_url"]
    status, _, task = server.request("GET", f"{doc['status_url']}?wait=10", headers=user)
    assert status == 200, task
    assert task["status"] == "SUCCEEDED", task
    status, _, booking = server.request(
        "GET", f"/v1/bookings/{task['result']['booking_id']}", headers=user
    )
    assert status == 200, booking
    assert (booking["room_id"], booking["status"]) == (room, "CONFIRMED")


def test_a_chunked_body_is_read_whole(
    server: Server, worker: object, user: dict[str, str], room: str
) -> None:
    text = json.dumps(booking_body(room, future(5), title="Chunked")).encode()
    pieces = iter([text[:10], text[10:40], text[40:]])
    status, _, doc = server.request("POST", "/v1/bookings", pieces, bearer(user))
    assert status == 202, doc
    status, _, task = server.request("GET", f"{doc['status_url']}?wait=10", headers=user)
    assert task["status"] == "SUCCEEDED", task
    status, _, booking = server.request(
        "GET", f"/v1/bookings/{task['result']['booking_id']}", headers=user
    )
    assert booking["title"] == "Chunked"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/no-such-thing", 404, "NOT_FOUND"),
        ("GET", "/v1/bookings", 401, "UNAUTHORIZED"),
        ("POST", "/v1/bookings", 401, "UNAUTHORIZED"),
    ],
)
def test_errors_over_http_keep_the_json_shape(
    server: Server, method: str, path: str, status: int, code: str
) -> None:
    body = b"{}" if method == "POST" else None
    got, headers, doc = server.request(method, path, body, {"Content-Type": "application/json"})
    assert got == status, doc
    assert headers["Content-Type"].startswith("application/json")
    assert doc["error"]["code"] == code


def test_a_bad_body_over_http_is_a_422_that_changes_nothing(
    server: Server, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    before = request_count(sessions)
    status, _, doc = server.request("POST", "/v1/bookings", b'{"room_id": 1}', bearer(user))
    assert status == 422, doc
    assert doc["error"]["code"] == "VALIDATION_ERROR"
    assert request_count(sessions) == before


def test_a_chunked_body_with_a_nul_is_a_422_that_stores_nothing(
    server: Server, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    text = json.dumps(booking_body(room, future(7), title="a\x00b")).encode()
    status, _, doc = server.request(
        "POST", "/v1/bookings", iter([text[:20], text[20:]]), bearer(user)
    )
    assert status == 422, doc
    assert doc["error"]["code"] == "VALIDATION_ERROR"
    assert request_count(sessions) == 0


def test_a_chunked_body_over_the_limit_is_a_413(server: Server, user: dict[str, str]) -> None:
    chunk = b" " * (256 * 1024)
    pieces = iter([b'{"title": "', *[chunk] * 9, b'"}'])  # 2.25 MiB, no Content-Length
    status, _, doc = server.request("POST", "/v1/bookings", pieces, bearer(user))
    assert status == 413, doc
    assert doc["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_long_polls_cannot_take_every_thread(
    server: Server,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    """The server runs 4 threads, so 2 may wait at once. One user sends 6 `?wait=30`
    polls for a task that stays QUEUED: 2 wait, 4 answer at once, and everyone else is
    still served meanwhile."""
    task_id = stored_request(sessions, room, {})  # Alice's, as `user`
    answers: list[tuple[int, str]] = []

    def poll() -> None:
        status, _, doc = server.request("GET", f"/v1/tasks/{task_id}?wait=30", headers=user)
        answers.append((status, doc["status"]))

    polls = [threading.Thread(target=poll) for _ in range(6)]
    for thread in polls:
        thread.start()
    try:
        wait_until(lambda: len(answers) >= 4, 20, "the polls beyond the limit to answer")
        assert answers[:4] == [(200, "QUEUED")] * 4
        status, _, me = server.request("GET", "/v1/users/me", headers=other_user)
        assert (status, me["email"]) == (200, "bob@example.com")
        assert server.request("GET", "/healthz")[0] == 200
        assert len(answers) == 4  # the two in their slots are still waiting
    finally:
        with sessions.begin() as session:
            session.execute(
                update(BookingRequest)
                .where(BookingRequest.id == task_id)
                .values(status=RequestStatus.FAILED)
            )
        for thread in polls:
            thread.join(30)
    assert answers[4:] == [(200, "FAILED")] * 2


def test_a_logout_in_one_process_holds_in_another(
    server: Server, api: Api, user: dict[str, str], app: Flask
) -> None:
    """The server process writes the logout; this process hears it from Postgres."""
    events = app.extensions["bookings"].auth_events
    assert api.client.get("/v1/users/me", headers=user).status_code == 200  # listening
    heard = events.handled

    status, _, _ = server.request("POST", "/v1/auth/logout", headers=user)

    assert status == 204
    token_id = read_token(user["Authorization"].split()[1], secret=os.environ["SECRET_KEY"])
    assert events.wait_heard(f"token:{token_id.token_id}", after=heard, timeout=10)
    assert api.client.get("/v1/users/me", headers=user).status_code == 401
    assert server.request("GET", "/v1/users/me", headers=user)[0] == 401


def test_over_long_uris_and_headers_over_http_are_json(
    server: Server, user: dict[str, str]
) -> None:
    status, headers, document = server.request("GET", "/v1/rooms?x=" + "a" * 20_000, headers=user)
    assert (status, document["error"]["code"]) == (414, "URI_TOO_LONG")
    assert headers["Content-Type"] == "application/json"
    many = {**user, **{f"X-Filler-{i}": "v" for i in range(80)}}
    status, _, document = server.request("GET", "/v1/rooms", headers=many)
    assert (status, document["error"]["code"]) == (431, "HEADERS_TOO_LARGE")


def test_forty_identical_idempotent_requests_at_once_make_one(
    server: Server, worker: object, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    body = json.dumps(booking_body(room, future(9), title="Once")).encode()
    headers = {**bearer(user), "Idempotency-Key": "forty-at-once"}
    answers: list[tuple[int, Any]] = []
    gate = threading.Barrier(40)

    def send() -> None:
        gate.wait()
        status, _, document = server.request("POST", "/v1/bookings", body, headers)
        answers.append((status, document))

    threads = [threading.Thread(target=send) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert [status for status, _ in answers] == [202] * 40
    assert len({document["task_id"] for _, document in answers}) == 1
    assert request_count(sessions) == 1
    wait_until(lambda: not undecided(sessions), 30, "the one request to be decided")


def test_the_servers_own_log_lines_are_json(server: Server) -> None:
    assert server.request("GET", "/healthz")[0] == 200
    lines = [line for line in server.log.read_text().splitlines() if line.strip()]
    assert lines, "the server wrote nothing"
    for line in lines:
        record = json.loads(line)  # every line, granian's own included
        assert {"ts", "level", "logger", "message"} <= set(record), line
