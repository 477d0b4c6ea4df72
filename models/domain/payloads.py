"""What a request asks for, typed: built at acceptance, stored as JSON, read by the decider.

Each payload has `to_json()` (what `booking_requests.payload` stores) and a `from_json`
that reads it back; nothing string-keyed crosses from acceptance to decision.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.domain.recurrence import Occurrence
from models.domain.states import ConflictPolicy, RequestKind


@dataclass(frozen=True)
class BookingPayload:
    """One booking: a room (or several at once), a window, and what the meeting is."""

    room_id: uuid.UUID  # the first room named
    start: datetime
    end: datetime
    title: str
    description: str | None = None
    attendees: tuple[str, ...] = ()
    external_meeting_url: str | None = None
    waitlist: bool = False  # refused only for a conflict: wait for the slot to free
    organizer_id: uuid.UUID | None = None  # on behalf of someone else (None: the sender)
    room_ids: tuple[uuid.UUID, ...] = ()  # several rooms, all or none (room_id is the first)

    kind = RequestKind.BOOKING

    @property
    def rooms(self) -> tuple[uuid.UUID, ...]:
        """Every room booked, in the order named."""
        return self.room_ids or (self.room_id,)

    def to_json(self) -> dict[str, Any]:
        where = (
            {"room_ids": [str(r) for r in self.room_ids]}
            if self.room_ids
            else {"room_id": str(self.room_id)}
        )
        return {
            **where,
            "start_time": self.start.isoformat(),
            "end_time": self.end.isoformat(),
            "title": self.title,
            "description": self.description,
            "attendees": list(self.attendees),
            "external_meeting_url": self.external_meeting_url,
            **({"waitlist": True} if self.waitlist else {}),
            **({"organizer_id": str(self.organizer_id)} if self.organizer_id else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BookingPayload:
        room_ids = tuple(uuid.UUID(r) for r in data.get("room_ids") or ())
        organizer = data.get("organizer_id")
        return cls(
            room_id=room_ids[0] if room_ids else uuid.UUID(data["room_id"]),
            start=datetime.fromisoformat(data["start_time"]),
            end=datetime.fromisoformat(data["end_time"]),
            title=data["title"],
            description=data.get("description"),
            attendees=tuple(data.get("attendees") or ()),
            external_meeting_url=data.get("external_meeting_url"),
            waitlist=bool(data.get("waitlist")),
            organizer_id=uuid.UUID(organizer) if organizer else None,
            room_ids=room_ids,
        )


@dataclass(frozen=True)
class SeriesPayload:
    """A recurring booking, already expanded into its occurrences (in UTC)."""

    booking: BookingPayload  # the first occurrence's window, and the meeting details
    timezone: str
    rule: dict[str, Any]  # the recurrence as the client sent it (until in UTC ISO form)
    conflict_policy: ConflictPolicy
    occurrences: tuple[Occurrence, ...]

    kind = RequestKind.SERIES

    @property
    def room_id(self) -> uuid.UUID:
        return self.booking.room_id

    def to_json(self) -> dict[str, Any]:
        return {
            **self.booking.to_json(),
            "timezone": self.timezone,
            "recurrence": self.rule,
            "conflict_policy": self.conflict_policy.value,
            "occurrences": [o.as_json() for o in self.occurrences],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeriesPayload:
        return cls(
            booking=BookingPayload.from_json(data),
            timezone=data["timezone"],
            rule=data["recurrence"],
            conflict_policy=ConflictPolicy(data["conflict_policy"]),
            occurrences=tuple(Occurrence.from_json(pair) for pair in data["occurrences"]),
        )


@dataclass(frozen=True)
class CancelPayload:
    """Cancel one booking."""

    room_id: uuid.UUID
    booking_id: uuid.UUID
    reason: str | None = None

    kind = RequestKind.CANCEL

    def to_json(self) -> dict[str, Any]:
        return {
            "room_id": str(self.room_id),
            "booking_id": str(self.booking_id),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], room_id: uuid.UUID) -> CancelPayload:
        return cls(room_id, uuid.UUID(data["booking_id"]), data.get("reason"))


@dataclass(frozen=True)
class GroupCancelPayload:
    """Cancel every booking one several-rooms request made (POST /v1/groups/{id}/cancel)."""

    room_id: uuid.UUID
    group_id: uuid.UUID
    reason: str | None = None

    kind = RequestKind.CANCEL

    def to_json(self) -> dict[str, Any]:
        return {"room_id": str(self.room_id), "group_id": str(self.group_id), "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any], room_id: uuid.UUID) -> GroupCancelPayload:
        return cls(room_id, uuid.UUID(data["group_id"]), data.get("reason"))


# The text a change may give a booking (absent: unchanged; description and the meeting
# URL may be set to None).
TEXT_FIELDS = ("title", "description", "attendees", "external_meeting_url")


@dataclass(frozen=True)
class ChangePayload:
    """Change a booking in place: its window, its room, its text (what is given)."""

    room_id: uuid.UUID  # where the booking is to be: the new room, or its room
    booking_id: uuid.UUID
    start: datetime | None = None
    end: datetime | None = None
    new_room_id: uuid.UUID | None = None
    text: Mapping[str, Any] = field(default_factory=dict)  # of TEXT_FIELDS, as given
    group_id: uuid.UUID | None = None  # the booking's group: its window moves them all

    kind = RequestKind.CHANGE

    def to_json(self) -> dict[str, Any]:
        return {
            "room_id": str(self.room_id),
            "booking_id": str(self.booking_id),
            **({"start_time": self.start.isoformat()} if self.start else {}),
            **({"end_time": self.end.isoformat()} if self.end else {}),
            **({"new_room_id": str(self.new_room_id)} if self.new_room_id else {}),
            "text": dict(self.text),
            **({"group_id": str(self.group_id)} if self.group_id else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], room_id: uuid.UUID) -> ChangePayload:
        start, end, room = data.get("start_time"), data.get("end_time"), data.get("new_room_id")
        group = data.get("group_id")
        return cls(
            room_id,
            uuid.UUID(data["booking_id"]),
            datetime.fromisoformat(start) if start else None,
            datetime.fromisoformat(end) if end else None,
            uuid.UUID(room) if room else None,
            dict(data.get("text") or {}),
            uuid.UUID(group) if group else None,
        )


@dataclass(frozen=True)
class SeriesChangePayload:
    """Change a series' occurrences that start at or after `start_from`, at local
    wall-clock time in the series' zone: shift them, set their length, move them to a
    room, give them new text."""

    room_id: uuid.UUID  # the room it is queued for (the new room, or the series' room)
    series_id: uuid.UUID
    start_from: datetime
    timezone: str
    conflict_policy: ConflictPolicy = ConflictPolicy.ALL_OR_NOTHING
    shift_minutes: int = 0
    duration_minutes: int | None = None
    new_room_id: uuid.UUID | None = None
    text: Mapping[str, Any] = field(default_factory=dict)

    kind = RequestKind.SERIES_CHANGE

    def to_json(self) -> dict[str, Any]:
        return {
            "room_id": str(self.room_id),
            "series_id": str(self.series_id),
            "from": self.start_from.isoformat(),
            "timezone": self.timezone,
            "conflict_policy": self.conflict_policy.value,
            "shift_minutes": self.shift_minutes,
            "duration_minutes": self.duration_minutes,
            **({"new_room_id": str(self.new_room_id)} if self.new_room_id else {}),
            "text": dict(self.text),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], room_id: uuid.UUID) -> SeriesChangePayload:
        room = data.get("new_room_id")
        return cls(
            room_id,
            uuid.UUID(data["series_id"]),
            datetime.fromisoformat(data["from"]),
            data["timezone"],
            ConflictPolicy(data["conflict_policy"]),
            int(data.get("shift_minutes") or 0),
            data.get("duration_minutes"),
            uuid.UUID(room) if room else None,
            dict(data.get("text") or {}),
        )


@dataclass(frozen=True)
class SeriesCancelPayload:
    """Cancel a series' confirmed occurrences that start from `start_from` (default: now) on."""

    room_id: uuid.UUID
    series_id: uuid.UUID
    start_from: datetime | None = None

    kind = RequestKind.CANCEL

    def to_json(self) -> dict[str, Any]:
        start = self.start_from.isoformat() if self.start_from else None
        return {"room_id": str(self.room_id), "series_id": str(self.series_id), "from": start}

    @classmethod
    def from_json(cls, data: dict[str, Any], room_id: uuid.UUID) -> SeriesCancelPayload:
        start = data.get("from")
        return cls(
            room_id, uuid.UUID(data["series_id"]), datetime.fromisoformat(start) if start else None
        )


@dataclass(frozen=True)
class ClosurePayload:
    """Close the room for a window: its bookings there are cancelled, requests refused."""

    room_id: uuid.UUID
    start: datetime
    end: datetime
    reason: str | None = None

    kind = RequestKind.CLOSURE

    def to_json(self) -> dict[str, Any]:
        return {
            "room_id": str(self.room_id),
            "start_time": self.start.isoformat(),
            "end_time": self.end.isoformat(),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], room_id: uuid.UUID) -> ClosurePayload:
        return cls(
            room_id,
            datetime.fromisoformat(data["start_time"]),
            datetime.fromisoformat(data["end_time"]),
            data.get("reason"),
        )


@dataclass(frozen=True)
class ApprovalPayload:
    """Approve (PENDING -> CONFIRMED) or decline (PENDING -> CANCELLED) a booking."""

    room_id: uuid.UUID
    booking_id: uuid.UUID
    approve: bool
    reason: str | None = None

    kind = RequestKind.APPROVAL

    def to_json(self) -> dict[str, Any]:
        return {
            "room_id": str(self.room_id),
            "booking_id": str(self.booking_id),
            "decision": "approve" if self.approve else "decline",
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], room_id: uuid.UUID) -> ApprovalPayload:
        return cls(
            room_id,
            uuid.UUID(data["booking_id"]),
            data["decision"] == "approve",
            data.get("reason"),
        )


@dataclass(frozen=True)
class BatchPayload:
    """A batch's parent row: its items are requests of their own."""

    items: int
    file: str | None = None

    kind = RequestKind.BATCH
    room_id = None

    def to_json(self) -> dict[str, Any]:
        return {"items": self.items, **({"file": self.file} if self.file else {})}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BatchPayload:
        return cls(int(data["items"]), data.get("file"))


RoomPayload = (
    BookingPayload
    | SeriesPayload
    | CancelPayload
    | GroupCancelPayload
    | SeriesCancelPayload
    | ChangePayload
    | SeriesChangePayload
    | ClosurePayload
    | ApprovalPayload
)
Payload = RoomPayload | BatchPayload


def room_payload_from_json(
    kind: RequestKind, data: dict[str, Any], room_id: uuid.UUID
) -> RoomPayload:
    """The payload of a room's request, as stored."""
    if kind == RequestKind.BOOKING:
        return BookingPayload.from_json(data)
    if kind == RequestKind.SERIES:
        return SeriesPayload.from_json(data)
    if kind == RequestKind.CANCEL:
        if "series_id" in data:
            return SeriesCancelPayload.from_json(data, room_id)
        if "group_id" in data:
            return GroupCancelPayload.from_json(data, room_id)
        return CancelPayload.from_json(data, room_id)
    if kind == RequestKind.CHANGE:
        return ChangePayload.from_json(data, room_id)
    if kind == RequestKind.SERIES_CHANGE:
        return SeriesChangePayload.from_json(data, room_id)
    if kind == RequestKind.CLOSURE:
        return ClosurePayload.from_json(data, room_id)
    if kind == RequestKind.APPROVAL:
        return ApprovalPayload.from_json(data, room_id)
    raise ValueError(f"a {kind.value} request is not decided by a room")
