"""The decision engine: a room's requests in, outcomes out. No session, no I/O, no clock.

`decide(room, snapshot, requests, now=...)` decides each request in `seq` order against
the room's bookings and against what the requests before it were granted, and returns
one `Outcome` per request: the task's new status and document, and the effects (new
bookings, cancellations) for a writer to apply in one transaction. The same function
serves a whole batch or a single request: deciding a batch at once equals deciding its
requests one by one (tests/unit/test_engine.py checks this with hypothesis).

Every occurrence is held to the same rules, in this order (models/domain/rules.py and
policy.py hold them): the room is active and big enough, not closed, the room's policy
(duration, notice, horizon, opening hours, quotas; admins and the room's approvers are
exempt), and no booking within the buffer. A booking of a room that requires approval is
PENDING. When a slot frees (a cancellation, a decline, a closure), the room's waitlist is
decided again in acceptance order before the next request (`_promote`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from models.domain.calendar import RoomCalendar, Slot
from models.domain.decisions import Refusal, refuse_booking, refuse_cancel
from models.domain.lifecycle import BookingEvent, booking_after
from models.domain.payloads import (
    ApprovalPayload,
    BookingPayload,
    CancelPayload,
    ClosurePayload,
    RoomPayload,
    SeriesCancelPayload,
    SeriesPayload,
)
from models.domain.policy import Ledger, RoomPolicy, refuse_by_policy, refuse_by_quota
from models.domain.recurrence import Occurrence
from models.domain.states import HOLDING, BookingStatus, ConflictPolicy, RequestStatus

SERIES_CANCEL_REASON = "series cancelled"
ROOM_CLOSED = "ROOM_CLOSED"
DECLINED = "DECLINED"
APPROVAL_EXPIRED = "APPROVAL_EXPIRED"
# Refusals that hold for every occurrence of a request alike: a series stops at the first.
WHOLE_REQUEST = frozenset({"ROOM_INACTIVE", "CAPACITY_EXCEEDED"})


@dataclass(frozen=True)
class RoomFacts:
    """What the engine needs to know about the room itself."""

    id: uuid.UUID
    active: bool
    capacity: int
    timezone: str = "UTC"
    policy: RoomPolicy = field(default_factory=RoomPolicy)


@dataclass(frozen=True)
class BookingFacts:
    """A booking a cancellation, an approval or a closure may name."""

    id: uuid.UUID
    start: datetime
    end: datetime
    status: BookingStatus
    series_id: uuid.UUID | None = None
    organizer_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RoomRequest:
    """A QUEUED (or WAITLISTED) request of the room, as the engine sees it."""

    id: uuid.UUID
    seq: int
    requester_id: uuid.UUID
    payload: RoomPayload
    requester_is_admin: bool = False

    def exempt(self, room: RoomFacts) -> bool:
        """Admins and the room's approvers are held to conflicts, buffers, closures only."""
        return self.requester_is_admin or self.requester_id in room.policy.approvers


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
    status: BookingStatus = BookingStatus.CONFIRMED  # PENDING: the room requires approval
    from_waitlist: bool = False


@dataclass(frozen=True)
class CancelBooking:
    """Cancel, release, decline, expire or close over a booking: it frees its slot."""

    booking_id: uuid.UUID
    actor_id: uuid.UUID | None
    reason: str | None
    event: BookingEvent = BookingEvent.CANCEL
    note: str | None = None  # a decline's reason, for the audit log


@dataclass(frozen=True)
class ApproveBooking:
    booking_id: uuid.UUID
    actor_id: uuid.UUID


@dataclass(frozen=True)
class NewClosure:
    id: uuid.UUID
    request_id: uuid.UUID
    actor_id: uuid.UUID
    start: datetime
    end: datetime
    reason: str | None


Effect = NewSeries | NewBooking | CancelBooking | ApproveBooking | NewClosure


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


@dataclass(frozen=True)
class Closure:
    id: uuid.UUID
    start: datetime
    end: datetime


@dataclass
class RoomSnapshot:
    """The room's state as the engine knows it while it decides.

    `calendar` holds the PENDING and CONFIRMED slots near every window the requests ask
    for (widened by the buffer); `bookings` the bookings that cancellations, approvals and
    closures name (and those granted meanwhile); `closures` the room's closures near those
    windows; `booked` each requester's PENDING and CONFIRMED windows in the room, for
    quotas; `waitlist` the room's WAITLISTED requests by acceptance order. Deciding a
    request updates them all, so the next request sees its effects.
    """

    calendar: RoomCalendar = field(default_factory=RoomCalendar)
    bookings: dict[uuid.UUID, BookingFacts] = field(default_factory=dict)
    closures: list[Closure] = field(default_factory=list)
    booked: dict[uuid.UUID, Ledger] = field(default_factory=dict)
    waitlist: list[RoomRequest] = field(default_factory=list)

    def apply(self, effects: Iterable[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, NewBooking):
                self.hold(effect.id, effect.organizer_id, effect.start, effect.end)
                self.bookings[effect.id] = BookingFacts(
                    effect.id,
                    effect.start,
                    effect.end,
                    effect.status,
                    effect.series_id,
                    effect.organizer_id,
                )
            elif isinstance(effect, CancelBooking):
                self.unhold(effect.booking_id)
                self._moved(effect.booking_id, effect.event)
            elif isinstance(effect, ApproveBooking):
                self._moved(effect.booking_id, BookingEvent.APPROVE)
            elif isinstance(effect, NewClosure):
                self.closures.append(Closure(effect.id, effect.start, effect.end))

    def _moved(self, booking_id: uuid.UUID, event: BookingEvent) -> None:
        known = self.bookings.get(booking_id)
        if known is not None:
            after = booking_after(known.status, event) or known.status
            self.bookings[booking_id] = replace(known, status=after)

    def hold(self, booking_id: uuid.UUID, user: uuid.UUID, start: datetime, end: datetime) -> None:
        """The slot is taken (and counts toward the user's quota)."""
        self.calendar.add(Slot(start, end, booking_id))
        self.hold_quota(user, booking_id, start, end)

    def hold_quota(
        self, user: uuid.UUID, booking_id: uuid.UUID, start: datetime, end: datetime
    ) -> None:
        """A booking of the user's that counts toward quotas (the loader's, near the
        windows asked for; its slot may lie outside the calendar's span)."""
        self.booked.setdefault(user, Ledger()).add(booking_id, start, end)

    def unhold(self, booking_id: uuid.UUID) -> None:
        self.calendar.remove(booking_id)
        for ledger in self.booked.values():
            ledger.remove(booking_id)

    def closed(self, start: datetime, end: datetime) -> Closure | None:
        return next((c for c in self.closures if c.start < end and start < c.end), None)


def windows(payload: RoomPayload) -> list[tuple[datetime, datetime]]:
    """The windows a request asks for: what the loader must put in the calendar."""
    if isinstance(payload, BookingPayload):
        return [(payload.start, payload.end)]
    if isinstance(payload, SeriesPayload):
        return [(o.start, o.end) for o in payload.occurrences]
    if isinstance(payload, ClosurePayload):
        return [(payload.start, payload.end)]
    return []


def frees_slots(outcome: Outcome) -> bool:
    """A cancellation, decline, release or closure: the room's waitlist may now fit."""
    return any(isinstance(e, CancelBooking | NewClosure) for e in outcome.effects)


def decide(
    room: RoomFacts,
    snapshot: RoomSnapshot,
    requests: Sequence[RoomRequest],
    *,
    now: datetime,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> list[Outcome]:
    """Decide the requests in order; the snapshot ends holding every granted effect.

    A request that joins the waitlist joins `snapshot.waitlist`; after each request that
    frees a slot the waitlist is decided again, before the next request, so a waiter
    accepted earlier gets the slot before a request accepted later. A request may have
    two outcomes (WAITLISTED, then promoted): the last one stands.
    """
    outcomes = []
    for request in requests:
        outcome = decide_one(room, snapshot, request, now=now, new_id=new_id)
        snapshot.apply(outcome.effects)
        outcomes.append(outcome)
        if outcome.status == RequestStatus.WAITLISTED:
            snapshot.waitlist.append(request)
        elif frees_slots(outcome):
            freed = freed_windows(snapshot, outcome)
            outcomes += promote(room, snapshot, now=now, new_id=new_id, freed=freed)
    return outcomes


def freed_windows(snapshot: RoomSnapshot, outcome: Outcome) -> list[tuple[datetime, datetime]]:
    """The windows an outcome freed (the bookings it cancelled) or closed."""
    found = []
    for effect in outcome.effects:
        if isinstance(effect, CancelBooking):
            booking = snapshot.bookings.get(effect.booking_id)
            if booking is not None:
                found.append((booking.start, booking.end))
        elif isinstance(effect, NewClosure):
            found.append((effect.start, effect.end))
    return found


def promote(
    room: RoomFacts,
    snapshot: RoomSnapshot,
    *,
    now: datetime,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    freed: Sequence[tuple[datetime, datetime]] | None = None,
) -> list[Outcome]:
    """Decide the waitlist again, in acceptance order: who now fits is booked, who is
    refused by another rule (or whose start has passed) is rejected, the rest wait on.

    With `freed` (the windows just freed or closed), only the waiters near them are
    decided again: a waiter waits for a conflict, and a conflict far from every freed
    window has not changed, so deciding it again would only cost time (a hot room can
    hold a long waitlist). Without it, every waiter is."""
    outcomes = []
    waiting = []
    reach = room.policy.buffer
    for waiter in sorted(snapshot.waitlist, key=lambda r: r.seq):
        payload = waiter.payload
        assert isinstance(payload, BookingPayload)
        if payload.start <= now:
            outcomes.append(rejected(waiter, Refusal("WAITLIST_EXPIRED", EXPIRED_MESSAGE)))
            continue
        if freed is not None and not any(
            s - reach < payload.end and payload.start < e + reach for s, e in freed
        ):
            waiting.append(waiter)
            continue
        outcome = _booking(room, snapshot, waiter, payload, new_id, now, from_waitlist=True)
        if outcome.status == RequestStatus.WAITLISTED:
            waiting.append(waiter)
            continue
        snapshot.apply(outcome.effects)
        outcomes.append(outcome)
    snapshot.waitlist = waiting
    return outcomes


EXPIRED_MESSAGE = "the booking's start time passed while it waited for the slot"


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
        return _booking(room, snapshot, request, payload, new_id, now)
    if isinstance(payload, SeriesPayload):
        return _series(room, snapshot, request, payload, new_id, now)
    if isinstance(payload, CancelPayload):
        return _cancel(snapshot, request, payload, now)
    if isinstance(payload, ClosurePayload):
        return _closure(snapshot, request, payload, new_id, now)
    if isinstance(payload, ApprovalPayload):
        return _approval(snapshot, request, payload, now)
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


def refuse_occurrence(
    room: RoomFacts,
    snapshot: RoomSnapshot,
    request: RoomRequest,
    booking: BookingPayload,
    occ: Occurrence,
    now: datetime,
) -> Refusal | None:
    """Why this occurrence cannot be booked for this request now, or None.

    The order matters for the waitlist: a CONFLICT is reported only when no other rule
    refuses, so "refused only because the slot is taken" is exactly a CONFLICT.
    """
    base = refuse_booking(
        room_active=room.active,
        capacity=room.capacity,
        calendar=None,
        start=occ.start,
        end=occ.end,
        attendees=booking.attendees,
    )
    if base is not None:
        return base
    closure = snapshot.closed(occ.start, occ.end)
    if closure is not None:
        return Refusal(
            ROOM_CLOSED,
            f"the room is closed from {closure.start.isoformat()} to {closure.end.isoformat()}",
        )
    policy = room.policy
    if not request.exempt(room):
        refusal = refuse_by_policy(
            policy, zone=room.timezone, start=occ.start, end=occ.end, now=now
        ) or refuse_by_quota(
            policy,
            zone=room.timezone,
            booked=snapshot.booked.get(request.requester_id) or Ledger(),
            start=occ.start,
            end=occ.end,
        )
        if refusal is not None:
            return refusal
    return refuse_booking(
        room_active=True,
        capacity=room.capacity,
        calendar=snapshot.calendar,
        start=occ.start,
        end=occ.end,
        attendees=(),
        buffer=policy.buffer,
    )


def _new_status(room: RoomFacts, request: RoomRequest) -> BookingStatus:
    if room.policy.requires_approval and not request.exempt(room):
        return BookingStatus.PENDING
    return BookingStatus.CONFIRMED


def _booking(
    room: RoomFacts,
    snapshot: RoomSnapshot,
    request: RoomRequest,
    payload: BookingPayload,
    new_id: Callable[[], uuid.UUID],
    now: datetime,
    *,
    from_waitlist: bool = False,
) -> Outcome:
    occ = Occurrence(payload.start, payload.end)
    refusal = refuse_occurrence(room, snapshot, request, payload, occ, now)
    if refusal is not None:
        if payload.waitlist and refusal.code == "CONFLICT":
            return Outcome(
                request.id, RequestStatus.WAITLISTED, None, refusal.as_error(), _waiting()
            )
        return rejected(request, refusal)
    status = _new_status(room, request)
    booking = NewBooking(
        new_id(),
        request.id,
        request.requester_id,
        payload.start,
        payload.end,
        payload,
        status=status,
        from_waitlist=from_waitlist,
    )
    result = {"booking_id": str(booking.id), "booking_status": status.value}
    return succeeded(request, result, [booking])


def _waiting() -> dict[str, int]:
    return {"total": 1, "done": 0, "confirmed": 0, "rejected": 0}


def _entry(
    occ: Occurrence, status: str, booking_id: str | None, refusal: Refusal | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "start_time": occ.start.isoformat(),
        "end_time": occ.end.isoformat(),
        "status": status,
        "booking_id": booking_id,
        "conflicts": refusal.conflicts if refusal else [],
    }
    if refusal is not None:
        entry["code"] = refusal.code
        if refusal.rule is not None:
            entry["rule"] = refusal.rule
    return entry


def _series(
    room: RoomFacts,
    snapshot: RoomSnapshot,
    request: RoomRequest,
    payload: SeriesPayload,
    new_id: Callable[[], uuid.UUID],
    now: datetime,
) -> Outcome:
    """Every occurrence against every rule, and against the series' own earlier
    occurrences (held while deciding: overlaps, buffers, quotas); then all or nothing,
    or skip what is refused."""
    occurrences = payload.occurrences
    total = len(occurrences)
    verdicts: list[tuple[Occurrence, Refusal | None]] = []
    held: list[uuid.UUID] = []
    try:
        for occ in occurrences:
            refusal = refuse_occurrence(room, snapshot, request, payload.booking, occ, now)
            if refusal is not None and refusal.code in WHOLE_REQUEST:
                return rejected(request, refusal, total=total)
            if refusal is None:
                hold = uuid.uuid4()
                snapshot.hold(hold, request.requester_id, occ.start, occ.end)
                held.append(hold)
            verdicts.append((occ, refusal))
    finally:
        for hold in held:
            snapshot.unhold(hold)
    blocked = sum(1 for _, r in verdicts if r is not None)
    if blocked and (payload.conflict_policy == ConflictPolicy.ALL_OR_NOTHING or blocked == total):
        return _series_rejected(request, verdicts, blocked)
    series = NewSeries(new_id(), request.id, request.requester_id, payload)
    effects: list[Effect] = [series]
    entries = []
    status = _new_status(room, request)
    for occ, refusal in verdicts:
        if refusal is not None:
            entries.append(_entry(occ, "SKIPPED", None, refusal))
            continue
        booking = NewBooking(
            new_id(),
            request.id,
            request.requester_id,
            occ.start,
            occ.end,
            payload.booking,
            series.id,
            status=status,
        )
        effects.append(booking)
        entries.append(_entry(occ, status.value, str(booking.id), None))
    result = {"series_id": str(series.id), "booking_status": status.value, "occurrences": entries}
    return succeeded(request, result, effects, total=total, confirmed=total - blocked)


def _series_rejected(
    request: RoomRequest, verdicts: list[tuple[Occurrence, Refusal | None]], blocked: int
) -> Outcome:
    """Nothing is booked: every occurrence is reported SKIPPED, the refused ones with
    their refusal. The error is the first refusal that is not a conflict, or else a
    CONFLICT naming every booking in the way."""
    refusals = [r for _, r in verdicts if r is not None]
    conflicts = {c["booking_id"]: c for r in refusals for c in r.conflicts}
    named = sorted(conflicts.values(), key=lambda c: c["start_time"])
    other = next((r for r in refusals if r.code != "CONFLICT"), None)
    if other is None:
        message = f"{blocked} of {len(verdicts)} occurrences conflict; nothing was booked"
        refusal = Refusal("CONFLICT", message, named)
    else:
        message = (
            f"{blocked} of {len(verdicts)} occurrences are refused ({other.message}); "
            "nothing was booked"
        )
        refusal = Refusal(other.code, message, named, other.rule)
    entries = [_entry(o, "SKIPPED", None, r) for o, r in verdicts]
    return rejected(
        request,
        refusal,
        result={"series_id": None, "occurrences": entries},
        total=len(verdicts),
        extra_error={"occurrences": [e for e in entries if "code" in e]},
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


def _closure(
    snapshot: RoomSnapshot,
    request: RoomRequest,
    payload: ClosurePayload,
    new_id: Callable[[], uuid.UUID],
    now: datetime,
) -> Outcome:
    """Close the room: every PENDING or CONFIRMED booking in the window that has not
    ended yet is cancelled with ROOM_CLOSED."""
    targets = sorted(
        (
            b
            for b in snapshot.bookings.values()
            if b.status in HOLDING
            and b.start < payload.end
            and payload.start < b.end
            and b.end > now
        ),
        key=lambda b: (b.start, b.id),
    )
    closure = NewClosure(
        new_id(), request.id, request.requester_id, payload.start, payload.end, payload.reason
    )
    cancels = [
        CancelBooking(b.id, request.requester_id, ROOM_CLOSED, BookingEvent.CLOSE, payload.reason)
        for b in targets
    ]
    result = {"closure_id": str(closure.id), "cancelled": [str(b.id) for b in targets]}
    return succeeded(request, result, [closure, *cancels])


def _approval(
    snapshot: RoomSnapshot, request: RoomRequest, payload: ApprovalPayload, now: datetime
) -> Outcome:
    booking = snapshot.bookings.get(payload.booking_id)
    if booking is None:
        return rejected(request, Refusal("NOT_FOUND", "the booking does not exist"))
    if booking.status != BookingStatus.PENDING:
        status = booking.status.lower()
        return rejected(request, Refusal("NOT_PENDING", f"the booking is {status}, not pending"))
    if booking.start <= now:
        # Undecided at its start: it expires now rather than at the next periodic run.
        expire = CancelBooking(booking.id, None, APPROVAL_EXPIRED, BookingEvent.EXPIRE)
        refusal = Refusal("NOT_PENDING", "the booking's approval expired at its start time")
        return Outcome(
            request.id,
            RequestStatus.REJECTED,
            None,
            refusal.as_error(),
            _progress(1, 0),
            (expire,),
        )
    effect: Effect
    if payload.approve:
        effect = ApproveBooking(booking.id, request.requester_id)
    else:
        effect = CancelBooking(
            booking.id, request.requester_id, DECLINED, BookingEvent.DECLINE, payload.reason
        )
    result = {
        "booking_id": str(booking.id),
        "booking_status": "CONFIRMED" if payload.approve else "CANCELLED",
    }
    return succeeded(request, result, [effect])


def _series_cancel(
    snapshot: RoomSnapshot, request: RoomRequest, payload: SeriesCancelPayload, now: datetime
) -> Outcome:
    cutoff = series_cancel_cutoff(payload, now)
    targets = sorted(
        (
            b
            for b in snapshot.bookings.values()
            if b.series_id == payload.series_id and b.status in HOLDING and b.start >= cutoff
        ),
        key=lambda b: (b.start, b.id),
    )
    cancels = [CancelBooking(b.id, request.requester_id, SERIES_CANCEL_REASON) for b in targets]
    result = {"series_id": str(payload.series_id), "cancelled": [str(b.id) for b in targets]}
    return succeeded(request, result, cancels, total=len(targets))


def series_cancel_cutoff(payload: SeriesCancelPayload, now: datetime) -> datetime:
    """Occurrences starting from here on are cancelled: `from`, but never in the past."""
    return max(payload.start_from, now) if payload.start_from else now
