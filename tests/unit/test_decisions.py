"""The pure decision rules: inactive room, capacity, conflicts, cancellability."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from models.domain.calendar import RoomCalendar, Slot
from models.domain.decisions import refuse_booking, refuse_cancel

T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)
H = timedelta(hours=1)


def decide(**kw):  # type: ignore[no-untyped-def]
    args = {
        "room_active": True,
        "capacity": 4,
        "calendar": RoomCalendar(),
        "start": T0,
        "end": T0 + H,
        "attendees": [],
    }
    return refuse_booking(**{**args, **kw})


def test_a_free_slot_in_an_active_room_is_allowed() -> None:
    assert decide() is None
    assert decide(attendees=["a@x.io"] * 4) is None


def test_refusals_name_the_rule() -> None:
    taken = Slot(T0, T0 + H, uuid.uuid4())
    assert decide(room_active=False).code == "ROOM_INACTIVE"
    assert decide(attendees=["a@x.io"] * 5).code == "CAPACITY_EXCEEDED"
    refusal = decide(calendar=RoomCalendar([taken]))
    assert refusal.code == "CONFLICT"
    assert refusal.as_error()["conflicts"] == [taken.as_conflict()]


def test_cancel_needs_a_confirmed_booking_that_has_not_ended() -> None:
    assert refuse_cancel(status="CONFIRMED", end=T0 + H, now=T0) is None
    assert refuse_cancel(status="CANCELLED", end=T0 + H, now=T0).code == "NOT_CANCELLABLE"
    assert refuse_cancel(status="CONFIRMED", end=T0, now=T0).code == "NOT_CANCELLABLE"
