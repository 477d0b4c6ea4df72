"""How a batch's effects are cut into statements (models/services/booking_writes.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from models.domain.engine.state import BookingFacts, CancelBooking, ChangeBooking
from models.domain.states import BookingStatus
from models.services.booking_writes import runs

ROOM, ACTOR = uuid.UUID(int=1), uuid.UUID(int=2)
AT = datetime(2030, 1, 7, 9, tzinfo=UTC)


def facts(n: int) -> BookingFacts:
    return BookingFacts(
        uuid.UUID(int=n), ROOM, AT, AT + timedelta(hours=1), BookingStatus.CONFIRMED, ACTOR
    )


def renamed(booking: BookingFacts, title: str) -> ChangeBooking:
    return ChangeBooking(
        booking, ROOM, booking.start, booking.end, booking.status, {"title": title}, ACTOR
    )


def test_a_run_is_one_kind_and_touches_each_booking_once() -> None:
    """An UPDATE … FROM that matches a row twice applies one match: a booking changed
    twice in one batch is changed by two statements, in order."""
    a, b = facts(10), facts(11)
    first, other, again = renamed(a, "one"), renamed(b, "two"), renamed(a, "three")
    cancel = CancelBooking(b.id, ROOM, ACTOR, "because")

    assert runs([first, other, again, cancel]) == [[first, other], [again], [cancel]]
