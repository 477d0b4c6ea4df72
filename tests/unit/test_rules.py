"""The booking rules that need no room policy: the synchronous window rules, and the
refusals at decision (inactive room, capacity, conflicts, cancellability)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from models.domain.calendar import RoomCalendar, Slot
from models.domain.rules import (
    check_window,
    refuse_cancel,
    refuse_capacity,
    refuse_conflict,
    refuse_inactive,
)
from models.errors import ValidationFailed

NOW = datetime(2027, 1, 1, 12, tzinfo=UTC)
T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)
H = timedelta(hours=1)


# At acceptance: the window


def errors(start: datetime, end: datetime) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        check_window(start, end, now=NOW)
    return caught.value.details


def test_a_sensible_window_passes() -> None:
    check_window(NOW + timedelta(hours=1), NOW + timedelta(hours=2), now=NOW)
    check_window(NOW + timedelta(days=365), NOW + timedelta(days=365, hours=24), now=NOW)


@pytest.mark.parametrize(
    ("start", "end", "field", "words"),
    [
        (NOW + timedelta(hours=2), NOW + timedelta(hours=1), "end_time", "after start_time"),
        (NOW + timedelta(hours=2), NOW + timedelta(hours=2), "end_time", "after start_time"),
        (NOW + timedelta(hours=1), NOW + timedelta(hours=25, seconds=1), "end_time", "24 hours"),
        (NOW - timedelta(hours=1), NOW + timedelta(hours=1), "start_time", "past"),
        (NOW + timedelta(days=366), NOW + timedelta(days=366, hours=1), "start_time", "365 days"),
    ],
)
def test_each_broken_rule_names_its_field(
    start: datetime, end: datetime, field: str, words: str
) -> None:
    details = errors(start, end)
    assert words in details[field][0]


def test_several_broken_rules_are_all_reported() -> None:
    details = errors(NOW - timedelta(hours=1), NOW - timedelta(hours=2))
    assert set(details) == {"start_time", "end_time"}


# At decision: the refusals


def test_a_free_slot_in_an_active_room_is_allowed() -> None:
    assert refuse_inactive(True) is None
    assert refuse_capacity([], 4) is None
    assert refuse_capacity(["a@x.io"] * 4, 4) is None
    assert refuse_conflict(RoomCalendar(), T0, T0 + H) is None


def test_refusals_name_the_rule() -> None:
    taken = Slot(T0, T0 + H, uuid.uuid4())
    inactive = refuse_inactive(False)
    crowded = refuse_capacity(["a@x.io"] * 5, 4)
    refusal = refuse_conflict(RoomCalendar([taken]), T0, T0 + H)

    assert inactive is not None and inactive.code == "ROOM_INACTIVE"
    assert crowded is not None and crowded.code == "CAPACITY_EXCEEDED"
    assert refusal is not None and refusal.code == "CONFLICT"
    assert refusal.as_error()["conflicts"] == [taken.as_conflict()]


def test_cancel_needs_a_confirmed_booking_that_has_not_ended() -> None:
    assert refuse_cancel(status="CONFIRMED", end=T0 + H, now=T0) is None
    cancelled = refuse_cancel(status="CANCELLED", end=T0 + H, now=T0)
    ended = refuse_cancel(status="CONFIRMED", end=T0, now=T0)

    assert cancelled is not None and cancelled.code == "NOT_CANCELLABLE"
    assert ended is not None and ended.code == "NOT_CANCELLABLE"
