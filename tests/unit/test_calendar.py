"""RoomCalendar: the in-memory overlap check the worker decides a batch with."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from models.domain.calendar import RoomCalendar, Slot

T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)
H = timedelta(hours=1)


def slot(start_h: float, end_h: float) -> Slot:
    return Slot(T0 + start_h * H, T0 + end_h * H, uuid.uuid4())


def test_overlaps_are_found_in_start_order() -> None:
    a, b, c = slot(0, 1), slot(2, 3), slot(4, 5)
    calendar = RoomCalendar([c, a, b])

    assert calendar.conflicts(T0 + 0.5 * H, T0 + 2.5 * H) == [a, b]
    assert calendar.conflicts(T0 - H, T0 + 10 * H) == [a, b, c]


def test_back_to_back_is_not_a_conflict() -> None:
    calendar = RoomCalendar([slot(1, 2)])

    assert calendar.conflicts(T0, T0 + H) == []
    assert calendar.conflicts(T0 + 2 * H, T0 + 3 * H) == []
    assert len(calendar.conflicts(T0 + 1.99 * H, T0 + 3 * H)) == 1


def test_a_long_slot_that_started_much_earlier_still_conflicts() -> None:
    long = slot(-20, 4)
    calendar = RoomCalendar([long, slot(1, 2), slot(2, 3)])

    assert long in calendar.conflicts(T0 + 3 * H, T0 + 3.5 * H)


def test_add_and_remove_change_what_conflicts() -> None:
    calendar = RoomCalendar()
    s = slot(0, 1)
    calendar.add(s)
    assert calendar.conflicts(T0, T0 + H) == [s]
    calendar.remove(s.booking_id)
    assert calendar.conflicts(T0, T0 + H) == []
    assert len(calendar) == 0


def test_conflict_document_names_the_booking_and_times() -> None:
    s = slot(0, 1)
    assert s.as_conflict() == {
        "booking_id": str(s.booking_id),
        "start_time": "2027-03-01T09:00:00+00:00",
        "end_time": "2027-03-01T10:00:00+00:00",
    }
