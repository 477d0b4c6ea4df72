"""What a request asks for, typed: built at acceptance, stored as JSON, read by the decider.

Each payload has `to_json()` (what `booking_requests.payload` stores) and a `from_json`
that reads it back; nothing string-keyed crosses from acceptance to decision.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.domain.recurrence import Occurrence
from models.domain.states import ConflictPolicy, RequestKind


@dataclass(frozen=True)
class BookingPayload:
    """One booking: a room, a window, and what the meeting is."""

    room_id: uuid.UUID
    start: datetime
    end: datetime
    title: str
    description: str | None = None
    attendees: tuple[str, ...] = ()
    external_meeting_url: str | None = None
    waitlist: bool = False  # refused only for a conflict: wait for the slot to free

    kind = RequestKind.BOOKING

    def to_json(self) -> dict[str, Any]:
        return {
            "room_id": str(self.room_id),
            "start_time": self.start.isoformat(),
            "end_time": self.end.isoformat(),
            "title": self.title,
            "description": self.description,
            "attendees": list(self.attendees),
            "external_meeting_url": self.external_meeting_url,
            **({"waitlist": True} if self.waitlist else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BookingPayload:
        return cls(
            room_id=uuid.UUID(data["room_id"]),
            start=datetime.fromisoformat(data["start_time"]),
            end=datetime.fromisoformat(data["end_time"]),
            title=data["title"],
            description=data.get("description"),
            attendees=tuple(data.get("attendees") or ()),
            external_meeting_url=data.get("external_meeting_url"),
            waitlist=bool(data.get("waitlist")),
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
    | SeriesCancelPayload
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
        return CancelPayload.from_json(data, room_id)
    if kind == RequestKind.CLOSURE:
        return ClosurePayload.from_json(data, room_id)
    if kind == RequestKind.APPROVAL:
        return ApprovalPayload.from_json(data, room_id)
    raise ValueError(f"a {kind.value} request is not decided by a room")
