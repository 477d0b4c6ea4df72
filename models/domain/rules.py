"""The booking rules that need no room policy: pure functions, no clock but `now`.

Two kinds, checked at two moments:
- at acceptance (`check_window`): what is wrong with the request whatever the room's
  state, a 422 before anything is stored;
- at decision (`refuse_*`): what the room's state refuses, a `Refusal` the task carries
  as its error. The room's own policy (models/domain/policy.py) adds its refusals.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models.domain.calendar import RoomCalendar
from models.errors import ValidationFailed

MAX_DURATION = timedelta(hours=24)
HORIZON = timedelta(days=365)
MAX_OCCURRENCES = 500  # in one series
MAX_REQUEST_OCCURRENCES = 10_000  # in one request: a batch counts every item's
MAX_ROOMS = 10  # in one several-rooms request
# A request that arrives a little after its own start (clock skew, a slow client) is
# still a booking of "now", not of the past.
PAST_GRACE = timedelta(minutes=1)


def check_window(start: datetime, end: datetime, *, now: datetime) -> None:
    """Raise ValidationFailed naming each field a booking window breaks."""
    errors: dict[str, list[str]] = {}
    if end <= start:
        errors.setdefault("end_time", []).append("must be after start_time")
    elif end - start > MAX_DURATION:
        errors.setdefault("end_time", []).append("a booking lasts at most 24 hours")
    if start < now - PAST_GRACE:
        errors.setdefault("start_time", []).append("must not be in the past")
    elif start > now + HORIZON:
        errors.setdefault("start_time", []).append("must be within 365 days from now")
    if errors:
        raise ValidationFailed("invalid booking window", details=errors)


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    conflicts: list[dict[str, str]] = field(default_factory=list)
    rule: dict[str, Any] | None = None  # a room policy's refusal: {"name", "limit"}
    room_id: uuid.UUID | None = None  # the room that refused, where a request names several

    def as_error(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.as_entry()}

    def as_entry(self) -> dict[str, Any]:
        """What a series' entry for a refused occurrence says of it: all but the message."""
        entry: dict[str, Any] = {"code": self.code, "conflicts": self.conflicts}
        if self.rule is not None:
            entry["rule"] = self.rule
        if self.room_id is not None:
            entry["room_id"] = str(self.room_id)
        return entry


def refuse_inactive(active: bool) -> Refusal | None:
    return None if active else Refusal("ROOM_INACTIVE", "the room is no longer bookable")


def refuse_capacity(attendees: Sequence[str], capacity: int) -> Refusal | None:
    if len(attendees) <= capacity:
        return None
    return Refusal(
        "CAPACITY_EXCEEDED", f"{len(attendees)} attendees do not fit a room for {capacity}"
    )


def refuse_conflict(
    calendar: RoomCalendar, start: datetime, end: datetime, buffer: timedelta = timedelta(0)
) -> Refusal | None:
    """A slot overlapping the window widened by `buffer` on each side is a CONFLICT
    naming it (a booking ending at 10:00 blocks a start before 10:10 with a 10-minute
    buffer)."""
    clashes = calendar.conflicts(start - buffer, end + buffer)
    if not clashes:
        return None
    overlapping = any(c.start < end and start < c.end for c in clashes)
    message = (
        "the room is already booked in that window"
        if overlapping
        else f"the room keeps {buffer // timedelta(minutes=1)} minutes between bookings"
    )
    return Refusal("CONFLICT", message, [c.as_conflict() for c in clashes])


def refuse_cancel(*, status: str, end: datetime, now: datetime) -> Refusal | None:
    if status not in ("PENDING", "CONFIRMED"):
        return Refusal(
            "NOT_CANCELLABLE", f"the booking is {status.lower()}, not pending or confirmed"
        )
    if end <= now:
        return Refusal("NOT_CANCELLABLE", "the booking has already ended")
    return None


def refuse_change(
    *,
    status: str,
    start: datetime,
    end: datetime,
    new_start: datetime,
    new_end: datetime,
    only_end: bool,
    now: datetime,
) -> Refusal | None:
    """NOT_CHANGEABLE: a booking that is not PENDING or CONFIRMED, has ended, or has
    started and is asked for more than a new end (which must not be before now); or a
    window the change would leave without sense."""

    def refused(why: str) -> Refusal:
        return Refusal("NOT_CHANGEABLE", why)

    if status not in ("PENDING", "CONFIRMED"):
        return refused(f"the booking is {status.lower()}, not pending or confirmed")
    if end <= now:
        return refused("the booking has already ended")
    if start <= now:
        if not only_end:
            return refused("the booking has started: only its end_time may change")
        if new_end < now:
            return refused("a booking under way may end now at the earliest")
    if new_end <= new_start:
        return refused("the booking would end before it starts")
    if new_end - new_start > MAX_DURATION:
        return refused("a booking lasts at most 24 hours")
    return None


def refuse_moved_window(start: datetime, end: datetime, *, now: datetime) -> Refusal | None:
    """NOT_CHANGEABLE where a change computed at decision (a series shifted) would leave
    an occurrence in the past, beyond the horizon, or longer than a booking may last:
    what check_window refuses at acceptance for a window given outright."""
    if start < now - PAST_GRACE:
        return Refusal("NOT_CHANGEABLE", "the occurrence would start in the past")
    if start > now + HORIZON:
        return Refusal("NOT_CHANGEABLE", "the occurrence would start more than 365 days ahead")
    if end - start > MAX_DURATION:
        return Refusal("NOT_CHANGEABLE", "a booking lasts at most 24 hours")
    return None
