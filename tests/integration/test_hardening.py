"""Inputs and faults that must not become 500s, stuck rooms or lost work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import RequestStatus
from models.services.sweeper import sweep_queued
from models.services.wakeups import RoomWaker
from models.tables.requests import BookingRequest
from tests.helpers import Api, booking_body, future, request_count, stored_request

pytestmark = pytest.mark.usefixtures("worker")


def test_nul_characters_and_lone_surrogates_are_422_not_500(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    nul = api.client.post(
        "/v1/bookings", json=booking_body(room, future(), title="a\x00b"), headers=user
    )
    assert nul.status_code == 422, nul.json
    assert nul.json["error"]["code"] == "VALIDATION_ERROR"
    surrogate = api.client.post(
        "/v1/auth/token",
        data='{"email": "a@example.com", "password": "\\ud800xxxxxxxx"}',
        content_type="application/json",
    )
    assert surrogate.status_code == 422, surrogate.json
    query = api.client.get("/v1/rooms?location=%00", headers=user)
    assert query.status_code == 422
    assert "location" in query.json["error"]["details"]
    assert request_count(sessions) == 0


def test_huge_paging_numbers_are_422(api: Api, user: dict[str, str]) -> None:
    assert api.client.get("/v1/rooms?offset=100000000000000000000", headers=user).status_code == 422
    assert api.client.get("/v1/rooms?capacity_min=100000000000", headers=user).status_code == 422


def test_amenities_keep_their_spelling_and_match_case_insensitively(
    api: Api, admin: dict[str, str], user: dict[str, str]
) -> None:
    body = {"name": "Lyra", "capacity": 4, "amenities": ["Projector", "projector", " Video "]}
    created = api.client.post("/v1/rooms", json=body, headers=admin).json
    assert created["amenities"] == ["Projector", "Video"]
    found = api.client.get("/v1/rooms?amenity=PROJECTOR&amenity=video", headers=user).json
    assert [r["name"] for r in found["items"]] == ["Lyra"]


def test_a_request_that_breaks_its_decider_fails_alone_and_the_room_moves_on(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    poison = stored_request(sessions, room, {"start_time": "not a time"})
    good = api.book(user, booking_body(room, future()))

    assert api.wait_task(user, good)["status"] == "SUCCEEDED"
    broken = api.task(user, str(poison))
    assert broken["status"] == "FAILED"
    assert broken["error"]["code"] == "INTERNAL_ERROR"
    assert "Traceback" not in str(broken)


def test_an_idempotent_replay_answers_as_the_first_202_did(
    api: Api, user: dict[str, str], room: str
) -> None:
    headers = {**user, "Idempotency-Key": "replay-1"}
    body = booking_body(room, future())
    first = api.client.post("/v1/bookings", json=body, headers=headers)
    api.wait_task(user, first.json["task_id"])

    again = api.client.post("/v1/bookings", json=body, headers=headers)

    assert again.status_code == 202
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]


def test_a_replay_after_the_booking_started_still_gets_its_task_back(
    api: Api,
    user: dict[str, str],
    room: str,
    monkeypatch: pytest.MonkeyPatch,
    sessions: sessionmaker[Session],
) -> None:
    headers = {**user, "Idempotency-Key": "late-retry"}
    body = booking_body(room, future())
    first = api.client.post("/v1/bookings", json=body, headers=headers)
    assert first.status_code == 202
    later = datetime.now(UTC) + timedelta(days=5)  # the booking is in the past by then
    monkeypatch.setattr("models.services.accept.utcnow", lambda: later)

    again = api.client.post("/v1/bookings", json=body, headers=headers)
    fresh = api.client.post("/v1/bookings", json=body, headers={**user, "Idempotency-Key": "new"})
    reused = api.client.post("/v1/bookings", json={**body, "title": "other"}, headers=headers)

    assert again.status_code == 202 and again.json == first.json
    assert fresh.status_code == 422  # without the key it is validated like any new write
    assert reused.status_code == 422
    assert reused.json["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert request_count(sessions) == 1


def test_the_sweeper_survives_a_broker_outage_and_marks_nothing_sent(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    stranded = stored_request(sessions, room, booking_body(room, future()) | {"attendees": []})

    def broker_down(room_id: uuid.UUID, seq: int | None, rooms: object = ()) -> None:
        raise BrokerError("connection refused")

    waker = RoomWaker(api.client.application.extensions["bookings"].redis, broker_down)
    assert sweep_queued(sessions, waker, stale_after=timedelta(0)) == 0
    with sessions() as session:
        row = session.get(BookingRequest, stranded)
        assert row is not None and row.sent_at is None and row.status == RequestStatus.QUEUED

    # The broker is back: the next sweep sends it, and the worker decides it.
    live = api.client.application.extensions["bookings"].waker.waker
    assert sweep_queued(sessions, live, stale_after=timedelta(0)) == 1
    assert api.wait_task(user, str(stranded))["status"] == "SUCCEEDED"
