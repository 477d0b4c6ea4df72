"""models/services/room_decisions.py: one transaction of a room's decisions, in Postgres."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.payloads import BookingPayload, CancelPayload
from models.domain.states import BookingStatus, RequestStatus
from models.services.accept import accept
from models.services.room_decisions import decide_queued
from models.tables.bookings import Booking
from models.tables.requests import BookingRequest
from tests.helpers import Api, future


def test_a_slot_cancelled_and_rebooked_in_one_batch_takes_the_fast_path(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    requester, room_id = uuid.UUID(api.me(user)), uuid.UUID(room)
    start = future()
    slot = BookingPayload(room_id, start, start + timedelta(minutes=30), "first")
    accept(sessions, requester_id=requester, request=slot)
    decide_queued(sessions, room_id)
    with sessions() as session:
        first = session.scalars(select(Booking.id).where(Booking.room_id == room_id)).one()
    accept(sessions, requester_id=requester, request=CancelPayload(room_id, first))
    again = BookingPayload(room_id, start, start + timedelta(minutes=30), "second")
    accept(sessions, requester_id=requester, request=again)

    decided = decide_queued(sessions, room_id)  # raises if the writes trip the constraint

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
