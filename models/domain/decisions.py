"""Pure decision rules: given a room's state, may this booking be confirmed?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models.domain.calendar import RoomCalendar


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    conflicts: list[dict[str, str]] = field(default_factory=list)
    rule: dict[str, Any] | None = None  # a room policy's refusal: {"name", "limit"}

    def as_error(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "conflicts": self.conflicts,
        }
        if self.rule is not None:
            error["rule"] = self.rule
        return error


def refuse_booking(
    *,
    room_active: bool,
    capacity: int,
    calendar: RoomCalendar | None,
    start: datetime,
    end: datetime,
    attendees: Sequence[str],
    buffer: timedelta = timedelta(0),
) -> Refusal | None:
    """Why this booking cannot be confirmed, or None when it can. With a calendar, a slot
    overlapping the window widened by `buffer` on each side is a CONFLICT naming it
    (a booking ending at 10:00 blocks a start before 10:10 with a 10-minute buffer)."""
    if not room_active:
        return Refusal("ROOM_INACTIVE", "the room is no longer bookable")
    if len(attendees) > capacity:
        return Refusal(
            "CAPACITY_EXCEEDED",
            f"{len(attendees)} attendees do not fit a room for {capacity}",
        )
    if calendar is None:
        return None
    clashes = calendar.conflicts(start - buffer, end + buffer)
    if clashes:
        overlapping = any(c.start < end and start < c.end for c in clashes)
        message = (
            "the room is already booked in that window"
            if overlapping
            else f"the room keeps {buffer // timedelta(minutes=1)} minutes between bookings"
        )
        return Refusal("CONFLICT", message, [c.as_conflict() for c in clashes])
    return None


def refuse_cancel(*, status: str, end: datetime, now: datetime) -> Refusal | None:
    if status not in ("PENDING", "CONFIRMED"):
        return Refusal(
            "NOT_CANCELLABLE", f"the booking is {status.lower()}, not pending or confirmed"
        )
    if end <= now:
        return Refusal("NOT_CANCELLABLE", "the booking has already ended")
    return None
