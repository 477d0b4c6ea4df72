"""Pure decision rules: given a room's state, may this booking be confirmed?"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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
    calendar: RoomCalendar,
    start: datetime,
    end: datetime,
    attendees: list[str],
) -> Refusal | None:
    """Why this booking cannot be confirmed, or None when it can."""
    if not room_active:
        return Refusal("ROOM_INACTIVE", "the room is no longer bookable")
    if len(attendees) > capacity:
        return Refusal(
            "CAPACITY_EXCEEDED",
            f"{len(attendees)} attendees do not fit a room for {capacity}",
        )
    clashes = calendar.conflicts(start, end)
    if clashes:
        return Refusal(
            "CONFLICT",
            "the room is already booked in that window",
            [c.as_conflict() for c in clashes],
        )
    return None


def refuse_cancel(*, status: str, end: datetime, now: datetime) -> Refusal | None:
    if status != "CONFIRMED":
        return Refusal("NOT_CANCELLABLE", f"the booking is {status.lower()}, not confirmed")
    if end <= now:
        return Refusal("NOT_CANCELLABLE", "the booking has already ended")
    return None
