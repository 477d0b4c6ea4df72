"""models/services/decide.py on Postgres: one transaction of a room's decisions."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import BookingStatus, RequestStatus
from models.services.accept import CancelBooking
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
