"""The pipeline end to end: API → broker → a real worker → Postgres, read back by task id."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.tables.audit import AuditEvent
from models.tables.bookings import Meeting
from tests.helpers import Api, booking_body, confirmed_count, count_rows, future

pytestmark = pytest.mark.usefixtures("worker")


def test_a_free_slot_is_confirmed_with_meeting_and_audit(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    start = future()
    body = booking_body(
        room, start, attendees=["a@example.com"], external_meeting_url="https://meet.example.com/x"
    )
    task_id = api.book(user, body)

    doc = api.wait_task(user, task_id)

    assert doc["status"] == "SUCCEEDED", doc
    assert doc["kind"] == "booking"
    assert doc["progress"] == {"total": 1, "done": 1, "confirmed": 1, "rejected": 0}
    booking_id = doc["result"]["booking_id"]
    booking = api.client.get(f"/v1/bookings/{booking_id}", headers=user).json
    assert booking["status"] == "CONFIRMED"
    assert booking["room_id"] == room
    assert booking["attendees"] == ["a@example.com"]
    assert booking["start_time"].startswith(start.strftime("%Y-%m-%dT%H:%M:%S"))
    assert booking["meeting"]["state"] == "SCHEDULED"
    assert len(booking["meeting"]["join_code"]) >= 6
    assert booking["meeting"]["external_meeting_url"] == "https://meet.example.com/x"
    with sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.booking_id == booking_id)
        ).all()
        assert [e.action for e in events] == ["booking.created"]


def test_an_overlapping_request_is_rejected_naming_the_conflict(
    api: Api, user: dict[str, str], other_user: dict[str, str], room: str
) -> None:
    start = future()
    first = api.wait_task(user, api.book(user, booking_body(room, start, 60)))
    second = api.wait_task(
        other_user, api.book(other_user, booking_body(room, start + timedelta(minutes=30), 60))
    )

    assert first["status"] == "SUCCEEDED"
    assert second["status"] == "REJECTED"
    assert second["error"]["code"] == "CONFLICT"
    assert [c["booking_id"] for c in second["error"]["conflicts"]] == [
        first["result"]["booking_id"]
    ]
    assert second["progress"]["rejected"] == 1


def test_back_to_back_bookings_are_both_confirmed(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    start = future()
    a = api.book(user, booking_body(room, start, 60))
    b = api.book(user, booking_body(room, start + timedelta(minutes=60), 60))
    c = api.book(user, booking_body(room, start - timedelta(minutes=30), 30))

    assert [api.wait_task(user, t)["status"] for t in (a, b, c)] == ["SUCCEEDED"] * 3
    assert confirmed_count(sessions, room) == 3


def test_more_attendees_than_seats_is_capacity_exceeded(
    api: Api, user: dict[str, str], make_room, sessions: sessionmaker[Session]
) -> None:
    small = make_room(capacity=2)
    crowd = [f"p{i}@example.com" for i in range(3)]
    doc = api.wait_task(user, api.book(user, booking_body(small, future(), attendees=crowd)))

    assert doc["status"] == "REJECTED"
    assert doc["error"]["code"] == "CAPACITY_EXCEEDED"
    assert confirmed_count(sessions, small) == 0
    fits = api.wait_task(user, api.book(user, booking_body(small, future(), attendees=crowd[:2])))
    assert fits["status"] == "SUCCEEDED"


def test_an_inactive_room_rejects_new_bookings(
    api: Api, user: dict[str, str], admin: dict[str, str], room: str
) -> None:
    task_id = api.book(user, booking_body(room, future()))
    api.wait_task(user, task_id)
    assert api.client.delete(f"/v1/rooms/{room}", headers=admin).status_code == 204

    doc = api.wait_task(user, api.book(user, booking_body(room, future(3))))

    assert doc["status"] == "REJECTED"
    assert doc["error"]["code"] == "ROOM_INACTIVE"


def test_cancel_frees_the_slot_and_ends_the_meeting(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    start = future()
    booked = api.wait_task(user, api.book(user, booking_body(room, start)))
    booking_id = booked["result"]["booking_id"]

    response = api.client.post(
        f"/v1/bookings/{booking_id}/cancel", json={"reason": "moved"}, headers=user
    )
    assert response.status_code == 202
    assert response.headers["Location"] == response.json["status_url"]
    cancel = api.wait_task(user, response.json["task_id"])

    assert cancel["status"] == "SUCCEEDED", cancel
    assert cancel["kind"] == "cancel"
    booking = api.client.get(f"/v1/bookings/{booking_id}", headers=user).json
    assert booking["status"] == "CANCELLED"
    assert booking["cancel_reason"] == "moved"
    assert booking["meeting"]["state"] == "ENDED"
    again = api.wait_task(other_user, api.book(other_user, booking_body(room, start)))
    assert again["status"] == "SUCCEEDED"
    twice = api.client.post(f"/v1/bookings/{booking_id}/cancel", json={}, headers=user)
    assert api.wait_task(user, twice.json["task_id"])["error"]["code"] == "NOT_CANCELLABLE"
    with sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.booking_id == booking_id)
            .order_by(AuditEvent.at)
        ).all()
    assert actions == ["booking.created", "booking.cancelled"]


def test_first_come_first_served_for_sequential_conflicting_requests(
    api: Api, user: dict[str, str], room: str
) -> None:
    start = future()
    task_ids = [
        api.book(user, booking_body(room, start + timedelta(minutes=i), 60)) for i in range(12)
    ]

    docs = [api.wait_task(user, t) for t in task_ids]

    assert docs[0]["status"] == "SUCCEEDED"
    winner = docs[0]["result"]["booking_id"]
    assert [d["status"] for d in docs[1:]] == ["REJECTED"] * 11
    assert all(d["error"]["conflicts"][0]["booking_id"] == winner for d in docs[1:])


def test_a_storm_of_concurrent_overlapping_requests_confirms_exactly_one(
    app, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    start = future()
    # Every window contains [start+59min, start+120min): all 60 overlap pairwise.
    bodies = [booking_body(room, start + timedelta(minutes=i), 120) for i in range(60)]

    def submit(body: dict) -> str:
        return Api(app.test_client()).book(user, body)

    with ThreadPoolExecutor(max_workers=12) as pool:
        task_ids = list(pool.map(submit, bodies))
    api = Api(app.test_client())
    statuses = [api.wait_task(user, t)["status"] for t in task_ids]

    assert statuses.count("SUCCEEDED") == 1
    assert statuses.count("REJECTED") == 59
    assert confirmed_count(sessions, room) == 1
    assert count_rows(sessions, Meeting) == 1


def test_the_database_alone_refuses_an_overlapping_confirmed_row(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    start = future()
    booked = api.wait_task(user, api.book(user, booking_body(room, start, 60)))
    assert booked["status"] == "SUCCEEDED"
    insert = text(
        "INSERT INTO bookings (id, room_id, organizer_id, start_time, end_time, title, status) "
        "SELECT gen_random_uuid(), room_id, organizer_id, :s, :e, 'by hand', :status "
        "FROM bookings WHERE id = :id"
    )
    overlap = {
        "s": start + timedelta(minutes=59),
        "e": start + timedelta(minutes=90),
        "id": booked["result"]["booking_id"],
    }

    with pytest.raises(IntegrityError, match="ex_bookings_no_overlap"), sessions.begin() as s:
        s.execute(insert, {**overlap, "status": "CONFIRMED"})
    with sessions.begin() as s:  # back-to-back, and cancelled overlaps, are allowed
        s.execute(insert, {**overlap, "s": start + timedelta(minutes=60), "status": "CONFIRMED"})
        s.execute(insert, {**overlap, "status": "CANCELLED"})
    with pytest.raises(IntegrityError, match="end_after_start"), sessions.begin() as s:
        s.execute(insert, {**overlap, "s": overlap["e"], "status": "CANCELLED"})
