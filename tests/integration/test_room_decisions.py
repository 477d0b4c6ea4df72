"""models/services/decide.py on Postgres: one transaction of a room's decisions."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.booking_input import ChangeInSchema
from models.domain.states import BookingStatus, RequestStatus
from models.services.accept import CancelBooking, ChangeBooking
from models.tables.bookings import Booking
from models.tables.requests import BookingRequest
from tests.helpers import Api, booking_body, decide_now, future, new_booking, stored


def test_a_slot_cancelled_and_rebooked_in_one_batch_takes_the_fast_path(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    caller, room_id = api.principal(user), uuid.UUID(room)
    start = future()
    stored(sessions, caller, new_booking(booking_body(room, start, 30, title="first")))
    decide_now(sessions, room_id)
    with sessions() as session:
        first = session.scalars(select(Booking.id).where(Booking.room_id == room_id)).one()
    stored(sessions, caller, CancelBooking(first))
    stored(sessions, caller, new_booking(booking_body(room, start, 30, title="second")))

    decided = decide_now(sessions, room_id)  # raises if the writes trip the constraint

    assert [status for _, _, status, _ in decided.outcomes] == ["SUCCEEDED", "SUCCEEDED"]
    with sessions() as session:
        rows = session.execute(
            select(Booking.title, Booking.status)
            .where(Booking.room_id == room_id)
            .order_by(Booking.created_at)
        ).all()
        queued = session.scalars(
            select(BookingRequest.id).where(BookingRequest.status == RequestStatus.QUEUED)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("first", BookingStatus.CANCELLED),
        ("second", BookingStatus.CONFIRMED),
    ]
    assert queued == []


def test_two_changes_of_one_booking_in_one_batch_are_both_written(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """The second change is decided against the first one's result; the writes of one
    batch must not fold them into one UPDATE that keeps only one of them."""
    caller, room_id = api.principal(user), uuid.UUID(room)
    start = future()
    stored(sessions, caller, new_booking(booking_body(room, start, 30, title="first")))
    decide_now(sessions, room_id)
    with sessions() as session:
        booking = session.scalars(select(Booking.id).where(Booking.room_id == room_id)).one()
    later = start + timedelta(hours=1)
    moved = {"start_time": later.isoformat(), "end_time": (later + timedelta(hours=1)).isoformat()}
    stored(sessions, caller, ChangeBooking(booking, ChangeInSchema().load(moved)))
    stored(sessions, caller, ChangeBooking(booking, ChangeInSchema().load({"title": "renamed"})))

    decided = decide_now(sessions, room_id)

    assert [status for _, _, status, _ in decided.outcomes] == ["SUCCEEDED", "SUCCEEDED"]
    with sessions() as session:
        row = session.get_one(Booking, booking)
    assert (row.start_time, row.title, row.version) == (later, "renamed", 3)
