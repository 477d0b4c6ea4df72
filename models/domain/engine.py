"""The decision engine: a room's requests in, outcomes out. No session, no I/O, no clock.

`decide(room, snapshot, requests, now=...)` decides each request in `seq` order against
the room's bookings and against what the requests before it were granted, and returns
one `Outcome` per request: the task's new status and document, and the effects (new
bookings, cancellations) for a writer to apply in one transaction. The same function
serves a whole batch or a single request: deciding a batch at once equals deciding its
requests one by one (tests/unit/test_engine.py checks this with hypothesis).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.domain.calendar import RoomCalendar, Slot
from models.domain.decisions import Refusal, refuse_booking, refuse_cancel
from models.domain.lifecycle import BookingEvent, booking_after
from models.domain.payloads import (
    BookingPayload,
    CancelPayload,
    RoomPayload,
    SeriesCancelPayload,
    SeriesPayload,
)
from models.domain.recurrence import Occurrence
from models.tables.bookings import BookingStatus, ConflictPolicy
from models.tables.requests import RequestStatus

SERIES_CANCEL_REASON = "series cancelled"


@dataclass(frozen=True)
class RoomFacts:
    """What the engine needs to know about the room itself."""

    id: uuid.UUID
    active: bool
    capacity: int


@dataclass(frozen=True)
class BookingFacts:
    """A booking a cancellation may name."""

    id: uuid.UUID
    start: datetime
    end: datetime
    status: BookingStatus
    series_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RoomRequest:
    """A QUEUED request of the room, as the engine sees it."""

    id: uuid.UUID
    seq: int
    requester_id: uuid.UUID
    payload: RoomPayload


# Effects: what a writer must do for an outcome to hold.
@dataclass(frozen=True)
class NewSeries:
    id: uuid.UUID
    request_id: uuid.UUID
    organizer_id: uuid.UUID
    payload: SeriesPayload


@dataclass(frozen=True)
class NewBooking:
    id: uuid.UUID
    request_id: uuid.UUID
    organizer_id: uuid.UUID
    start: datetime
    end: datetime
    details: BookingPayload  # title, description, attendees, meeting URL
    series_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CancelBooking:
    booking_id: uuid.UUID
    actor_id: uuid.UUID | None
    reason: str | None
    event: BookingEvent = BookingEvent.CANCEL


Effect = NewSeries | NewBooking | CancelBooking


@dataclass(frozen=True)
class Outcome:
    """A request's decision: its task status and document, and the effects to write."""

    request_id: uuid.UUID
    status: RequestStatus
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    progress: dict[str, int]
    effects: tuple[Effect, ...] = ()

    @property
    def confirmed(self) -> list[NewBooking]:
        return [e for e in self.effects if isinstance(e, NewBooking)]


@dataclass
class RoomSnapshot:
    """The room's bookings as the engine knows them while it decides.

    `calendar` holds the confirmed slots overlapping every window the requests ask
    for; `bookings` the bookings that cancellations name (and those granted meanwhile).
    Deciding a request updates both, so the next request sees its effects.
    """

    calendar: RoomCalendar = field(default_factory=RoomCalendar)
    bookings: dict[uuid.UUID, BookingFacts] = field(default_factory=dict)

    def apply(self, effects: Iterable[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, NewBooking):
                self.calendar.add(Slot(effect.start, effect.end, effect.id))
                self.bookings[effect.id] = BookingFacts(
                    effect.id, effect.start, effect.end, BookingStatus.CONFIRMED, effect.series_id
                )
            elif isinstance(effect, CancelBooking):
                self.calendar.remove(effect.booking_id)
                known = self.bookings.get(effect.booking_id)
                if known is not None:
                    after = booking_after(known.status, effect.event) or known.status
                    self.bookings[effect.booking_id] = BookingFacts(
                        known.id, known.start, known.end, after, known.series_id
                    )


def windows(payload: RoomPayload) -> list[tuple[datetime, datetime]]:
    """The windows a request asks for: what the loader must put in the calendar."""
    if isinstance(payload, BookingPayload):
        return [(payload.start, payload.end)]
    if isinstance(payload, SeriesPayload):
        return [(o.start, o.end) for o in payload.occurrences]
    return []


def decide(
    room: RoomFacts,
    snapshot: RoomSnapshot,
    requests: Sequence[RoomRequest],
    *,
    now: datetime,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> list[Outcome]:
    """Decide the requests in order; the snapshot ends holding every granted effect."""
    outcomes = []
    for request in requests:
        outcome = decide_one(room, snapshot, request, now=now, new_id=new_id)
        snapshot.apply(outcome.effects)
        outcomes.append(outcome)
    return outcomes


def decide_one(
    room: RoomFacts,
    snapshot: RoomSnapshot,
    request: RoomRequest,
    *,
    now: datetime,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> Outcome:
    """Decide one request against the snapshot (which it does not change)."""
    payload = request.payload
    if isinstance(payload, BookingPayload):
        return _booking(room, snapshot, request, payload, new_id)
    if isinstance(payload, SeriesPayload):
        return _series(room, snapshot, request, payload, new_id)
    if isinstance(payload, CancelPayload):
        return _cancel(snapshot, request, payload, now)
    return _series_cancel(snapshot, request, payload, now)


def succeeded(
    request: RoomRequest,
    result: dict[str, Any],
    effects: Sequence[Effect] = (),
    *,
    total: int = 1,
    confirmed: int | None = None,
) -> Outcome:
    confirmed = total if confirmed is None else confirmed
    progress = _progress(total, confirmed)
    return Outcome(request.id, RequestStatus.SUCCEEDED, result, None, progress, tuple(effects))


def rejected(
    request: RoomRequest,
    refusal: Refusal,
    *,
    result: dict[str, Any] | None = None,
    total: int = 1,
    extra_error: dict[str, Any] | None = None,
) -> Outcome:
    error = {**refusal.as_error(), **(extra_error or {})}
    return Outcome(request.id, RequestStatus.REJECTED, result, error, _progress(total, 0))


def failed(request_id: uuid.UUID, message: str, *, total: int = 1) -> Outcome:
    """A fault, not a business outcome: the request broke its decider or the database."""
    error = {"code": "INTERNAL_ERROR", "message": message}
    return Outcome(request_id, RequestStatus.FAILED, None, error, _progress(total, 0))


def _progress(total: int, confirmed: int) -> dict[str, int]:
    return {"total": total, "done": total, "confirmed": confirmed, "rejected": total - confirmed}


def _refusal(
    room: RoomFacts, snapshot: RoomSnapshot, booking: BookingPayload, occ: Occurrence
) -> Refusal | None:
    return refuse_booking(
        room_active=room.active,
        capacity=room.capacity,
        calendar=snapshot.calendar,
        start=occ.start,
        end=occ.end,
        attendees=list(booking.attendees),
    )


def _booking(
    room: RoomFacts,
    snapshot: RoomSnapshot,
    request: RoomRequest,
    payload: BookingPayload,
    new_id: Callable[[], uuid.UUID],
) -> Outcome:
    refusal = _refusal(room, snapshot, payload, Occurrence(payload.start, payload.end))
    if refusal is not None:
        return rejected(request, refusal)
    booking = NewBooking(
        new_id(), request.id, request.requester_id, payload.start, payload.end, payload
    )
    return succeeded(request, {"booking_id": str(booking.id)}, [booking])


def _entry(
    occ: Occurrence, status: str, booking_id: str | None, conflicts: list[Any]
) -> dict[str, Any]:
    return {
        "start_time": occ.start.isoformat(),
        "end_time": occ.end.isoformat(),
        "status": status,
        "booking_id": booking_id,
        "conflicts": conflicts,
    }


def _series(
    room: RoomFacts,
    snapshot: RoomSnapshot,
    request: RoomRequest,
    payload: SeriesPayload,
    new_id: Callable[[], uuid.UUID],
) -> Outcome:
    """All or nothing, or skip the conflicts; the series is checked against itself too."""
    occurrences = payload.occurrences
    total = len(occurrences)
    verdicts: list[tuple[Occurrence, Refusal | None]] = []
    held: list[Slot] = []
    try:
        for occ in occurrences:
            refusal = _refusal(room, snapshot, payload.booking, occ)
            if refusal is not None and refusal.code != "CONFLICT":
                # The room or the party is wrong for every occurrence alike.
                return rejected(request, refusal, total=total)
            if refusal is None:
                slot = Slot(occ.start, occ.end, uuid.uuid4())
                snapshot.calendar.add(slot)  # held, so later occurrences see it
                held.append(slot)
            verdicts.append((occ, refusal))
    finally:
        for slot in held:
            snapshot.calendar.remove(slot.booking_id)
    blocked = sum(1 for _, r in verdicts if r is not None)
    if blocked and (payload.conflict_policy == ConflictPolicy.ALL_OR_NOTHING or blocked == total):
        return _series_rejected(request, verdicts, blocked)
    series = NewSeries(new_id(), request.id, request.requester_id, payload)
    effects: list[Effect] = [series]
    entries = []
    for occ, refusal in verdicts:
        if refusal is not None:
            entries.append(_entry(occ, "SKIPPED", None, refusal.conflicts))
            continue
        booking = NewBooking(
            new_id(),
            request.id,
            request.requester_id,
            occ.start,
            occ.end,
            payload.booking,
            series.id,
        )
        effects.append(booking)
        entries.append(_entry(occ, "CONFIRMED", str(booking.id), []))
    result = {"series_id": str(series.id), "occurrences": entries}
    return succeeded(request, result, effects, total=total, confirmed=total - blocked)


def _series_rejected(
    request: RoomRequest, verdicts: list[tuple[Occurrence, Refusal | None]], blocked: int
) -> Outcome:
    """Nothing is booked: every occurrence is reported SKIPPED, with its conflicts."""
    conflicts = {c["booking_id"]: c for _, r in verdicts if r for c in r.conflicts}
    refusal = Refusal(
        "CONFLICT",
        f"{blocked} of {len(verdicts)} occurrences conflict; nothing was booked",
        sorted(conflicts.values(), key=lambda c: c["start_time"]),
    )
    entries = [_entry(o, "SKIPPED", None, r.conflicts if r else []) for o, r in verdicts]
    return rejected(
        request,
        refusal,
        result={"series_id": None, "occurrences": entries},
        total=len(verdicts),
        extra_error={"occurrences": [e for e in entries if e["conflicts"]]},
    )


def _cancel(
    snapshot: RoomSnapshot, request: RoomRequest, payload: CancelPayload, now: datetime
) -> Outcome:
    booking = snapshot.bookings.get(payload.booking_id)
    if booking is None:
        return rejected(request, Refusal("NOT_FOUND", "the booking does not exist"))
    refusal = refuse_cancel(status=booking.status, end=booking.end, now=now)
    if refusal is not None:
        return rejected(request, refusal)
    cancel = CancelBooking(booking.id, request.requester_id, payload.reason)
    return succeeded(request, {"booking_id": str(booking.id)}, [cancel])


def _series_cancel(
    snapshot: RoomSnapshot, request: RoomRequest, payload: SeriesCancelPayload, now: datetime
) -> Outcome:
    cutoff = series_cancel_cutoff(payload, now)
    targets = sorted(
        (
            b
            for b in snapshot.bookings.values()
            if b.series_id == payload.series_id
            and b.status == BookingStatus.CONFIRMED
            and b.start >= cutoff
        ),
        key=lambda b: (b.start, b.id),
    )
    cancels = [CancelBooking(b.id, request.requester_id, SERIES_CANCEL_REASON) for b in targets]
    result = {"series_id": str(payload.series_id), "cancelled": [str(b.id) for b in targets]}
    return succeeded(request, result, cancels, total=len(targets))


def series_cancel_cutoff(payload: SeriesCancelPayload, now: datetime) -> datetime:
    """Occurrences starting from here on are cancelled: `from`, but never in the past."""
    return max(payload.start_from, now) if payload.start_from else now
