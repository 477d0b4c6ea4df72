"""What the engine reads and what it hands back: facts, requests, effects, outcomes, and
the snapshot of the rooms it holds while it decides."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from models.domain.calendar import RoomCalendar, Slot
from models.domain.lifecycle import BookingEvent, booking_after
from models.domain.payloads import BookingPayload, RoomPayload, SeriesPayload
from models.domain.policy import Ledger, RoomPolicy
from models.domain.states import BookingStatus, RequestStatus


@dataclass(frozen=True)
class RoomFacts:
    """What the engine needs to know about a room itself."""

    id: uuid.UUID
    active: bool
    capacity: int
    timezone: str = "UTC"
    policy: RoomPolicy = field(default_factory=RoomPolicy)


@dataclass(frozen=True)
class BookingFacts:
    """A booking a request names (to cancel, approve, change or close over it)."""

    id: uuid.UUID
    room_id: uuid.UUID
    start: datetime
    end: datetime
    status: BookingStatus
    organizer_id: uuid.UUID
    series_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    version: int = 1
    title: str = ""
    description: str | None = None
    attendees: tuple[str, ...] = ()
    external_meeting_url: str | None = None

    def window(self) -> dict[str, Any]:
        """Where and when, as the events' `previous` and the audit log show it."""
        return {
            "room_id": str(self.room_id),
            "start_time": self.start.isoformat(),
            "end_time": self.end.isoformat(),
        }


@dataclass(frozen=True)
class RoomRequest:
    """A QUEUED (or WAITLISTED) request, as the engine sees it.

    `rooms`: every room it may touch; it is decided only by a decider holding all of
    them, after every earlier request of each. `requeued`: a waiter put back in the
    queue when a slot freed (it was WAITLISTED before)."""

    id: uuid.UUID
    seq: int
    requester_id: uuid.UUID
    payload: RoomPayload
    requester_is_admin: bool = False
    rooms: frozenset[uuid.UUID] = frozenset()
    requeued: bool = False

    def __post_init__(self) -> None:
        if not self.rooms:
            payload = self.payload
            named = payload.booking.rooms if isinstance(payload, SeriesPayload) else None
            if isinstance(payload, BookingPayload):
                named = payload.rooms
            object.__setattr__(self, "rooms", frozenset(named or (payload.room_id,)))

    @property
    def organizer_id(self) -> uuid.UUID:
        """Whom a new booking is for: the named organizer, or the sender."""
        payload = self.payload
        booking = payload.booking if isinstance(payload, SeriesPayload) else payload
        named = booking.organizer_id if isinstance(booking, BookingPayload) else None
        return named or self.requester_id

    @property
    def booked_by(self) -> uuid.UUID | None:
        """The sender, when the booking is someone else's."""
        return None if self.organizer_id == self.requester_id else self.requester_id

    def exempt(self, room: RoomFacts) -> bool:
        """Admins and the room's approvers are held to conflicts, buffers, closures only."""
        return self.requester_is_admin or self.requester_id in room.policy.approvers


# A new row's id, from the request that makes it and what it is to that request
# ("booking/<room>/<start>", "group/<start>", "series", "closure"): the same request
# decided again (a retry, a batch decided one by one) makes the same ids.
NewId = Callable[[uuid.UUID, str], uuid.UUID]


def derived_id(request_id: uuid.UUID, name: str) -> uuid.UUID:
    return uuid.uuid5(request_id, name)


# Effects: what a writer must do for an outcome to hold, in the order given.
@dataclass(frozen=True)
class NewSeries:
    id: uuid.UUID
    request_id: uuid.UUID
    room_id: uuid.UUID  # its first room
    organizer_id: uuid.UUID
    payload: SeriesPayload


@dataclass(frozen=True)
class NewBooking:
    id: uuid.UUID
    request_id: uuid.UUID
    room_id: uuid.UUID
    organizer_id: uuid.UUID
    start: datetime
    end: datetime
    details: BookingPayload  # title, description, attendees, meeting URL
    series_id: uuid.UUID | None = None
    status: BookingStatus = BookingStatus.CONFIRMED  # PENDING: the room requires approval
    from_waitlist: bool = False
    group_id: uuid.UUID | None = None
    booked_by: uuid.UUID | None = None

    def facts(self) -> BookingFacts:
        """The booking as later requests of the batch see it."""
        details = self.details
        return BookingFacts(
            self.id,
            self.room_id,
            self.start,
            self.end,
            self.status,
            self.organizer_id,
            self.series_id,
            self.group_id,
            title=details.title,
            description=details.description,
            attendees=details.attendees,
            external_meeting_url=details.external_meeting_url,
        )


@dataclass(frozen=True)
class ChangeBooking:
    """A booking, changed in place: its room, window and status as they are to be, the
    text fields given, and the booking as it was."""

    before: BookingFacts
    room_id: uuid.UUID
    start: datetime
    end: datetime
    status: BookingStatus
    text: Mapping[str, Any]
    actor_id: uuid.UUID

    @property
    def booking_id(self) -> uuid.UUID:
        return self.before.id

    @property
    def version(self) -> int:
        return self.before.version + 1

    def after(self) -> BookingFacts:
        text = self.text
        attendees = text.get("attendees", self.before.attendees)
        return replace(
            self.before,
            room_id=self.room_id,
            start=self.start,
            end=self.end,
            status=self.status,
            version=self.version,
            title=text.get("title", self.before.title),
            description=text.get("description", self.before.description),
            attendees=tuple(attendees),
            external_meeting_url=text.get("external_meeting_url", self.before.external_meeting_url),
        )


@dataclass(frozen=True)
class CancelBooking:
    """Cancel, release, decline, expire or close over a booking: it frees its slot."""

    booking_id: uuid.UUID
    room_id: uuid.UUID
    actor_id: uuid.UUID | None
    reason: str | None
    event: BookingEvent = BookingEvent.CANCEL
    note: str | None = None  # a decline's reason, for the audit log


@dataclass(frozen=True)
class ApproveBooking:
    booking_id: uuid.UUID
    room_id: uuid.UUID
    actor_id: uuid.UUID


@dataclass(frozen=True)
class NewClosure:
    id: uuid.UUID
    request_id: uuid.UUID
    room_id: uuid.UUID
    actor_id: uuid.UUID
    start: datetime
    end: datetime
    reason: str | None


Effect = NewSeries | NewBooking | ChangeBooking | CancelBooking | ApproveBooking | NewClosure


@dataclass(frozen=True)
class Outcome:
    """A request's decision: its task status and document, and the effects to write.

    QUEUED is an outcome too: a waiter put back in its rooms' queues, to be decided by
    whoever holds them all. `quiet`: no task event (a waiter that waits again)."""

    request_id: uuid.UUID
    status: RequestStatus
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    progress: dict[str, int]
    effects: tuple[Effect, ...] = ()
    quiet: bool = False

    @property
    def confirmed(self) -> list[NewBooking]:
        return [e for e in self.effects if isinstance(e, NewBooking)]


@dataclass(frozen=True)
class Closure:
    id: uuid.UUID
    start: datetime
    end: datetime


@dataclass
class RoomState:
    """One room as the engine knows it while it decides: its facts, its PENDING and
    CONFIRMED slots near the windows asked for (widened by its buffer), its closures
    there, and each organizer's bookings of it for quotas."""

    facts: RoomFacts
    calendar: RoomCalendar = field(default_factory=RoomCalendar)
    closures: list[Closure] = field(default_factory=list)
    booked: dict[uuid.UUID, Ledger] = field(default_factory=dict)

    def closed(self, start: datetime, end: datetime) -> Closure | None:
        return next((c for c in self.closures if c.start < end and start < c.end), None)


@dataclass
class Snapshot:
    """The rooms a decider holds, and what its requests name.

    `rooms`: every room held (a request naming another is not decided here);
    `bookings`: the bookings that cancellations, approvals, changes and closures name
    (and those granted meanwhile); `waitlist`: the WAITLISTED requests of the rooms held
    where a slot may free, by acceptance order. Deciding a request updates them all, so
    the next request sees its effects.
    """

    rooms: dict[uuid.UUID, RoomState] = field(default_factory=dict)
    bookings: dict[uuid.UUID, BookingFacts] = field(default_factory=dict)
    waitlist: list[RoomRequest] = field(default_factory=list)

    @classmethod
    def of(cls, *rooms: RoomFacts | RoomState, **kw: Any) -> Snapshot:
        states = [r if isinstance(r, RoomState) else RoomState(r) for r in rooms]
        return cls({s.facts.id: s for s in states}, **kw)

    def room(self, room_id: uuid.UUID) -> RoomState:
        return self.rooms[room_id]

    def apply(self, effects: Iterable[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, NewBooking):
                self.hold(effect.room_id, effect.id, effect.organizer_id, effect.start, effect.end)
                self.bookings[effect.id] = effect.facts()
            elif isinstance(effect, ChangeBooking):
                after = effect.after()
                self.unhold(effect.booking_id)
                self.hold(after.room_id, after.id, after.organizer_id, after.start, after.end)
                self.bookings[after.id] = after
            elif isinstance(effect, CancelBooking):
                self.unhold(effect.booking_id)
                self._moved(effect.booking_id, effect.event)
            elif isinstance(effect, ApproveBooking):
                self._moved(effect.booking_id, BookingEvent.APPROVE)
            elif isinstance(effect, NewClosure):
                self.room(effect.room_id).closures.append(
                    Closure(effect.id, effect.start, effect.end)
                )

    def _moved(self, booking_id: uuid.UUID, event: BookingEvent) -> None:
        known = self.bookings.get(booking_id)
        if known is not None:
            after = booking_after(known.status, event) or known.status
            self.bookings[booking_id] = replace(known, status=after)

    def hold(
        self,
        room_id: uuid.UUID,
        booking_id: uuid.UUID,
        user: uuid.UUID,
        start: datetime,
        end: datetime,
    ) -> None:
        """The slot is taken (and counts toward the user's quota in that room)."""
        state = self.room(room_id)
        state.calendar.add(Slot(start, end, booking_id))
        self.hold_quota(room_id, user, booking_id, start, end)

    def hold_quota(
        self,
        room_id: uuid.UUID,
        user: uuid.UUID,
        booking_id: uuid.UUID,
        start: datetime,
        end: datetime,
    ) -> None:
        """A booking of the user's that counts toward the room's quotas (the loader's,
        near the windows asked for; its slot may lie outside the calendar's span)."""
        self.room(room_id).booked.setdefault(user, Ledger()).add(booking_id, start, end)

    def unhold(self, booking_id: uuid.UUID) -> None:
        for state in self.rooms.values():
            state.calendar.remove(booking_id)
            for ledger in state.booked.values():
                ledger.remove(booking_id)
