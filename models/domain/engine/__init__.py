"""The decision engine: the rooms held and their requests in, outcomes out. No session, no
I/O, no clock.

`decide(snapshot, requests, now=...)` decides the requests in acceptance order (`seq`)
against the rooms' state and against what the requests before them were granted, and
returns one `Outcome` per request decided: the task's new status and document, and the
effects (new bookings, changes, cancellations) for a writer to apply in one transaction.
Deciding a batch at once equals deciding its requests one by one
(tests/unit/test_engine_properties.py checks this with hypothesis).

Order across rooms: a request is decided only when every room it names is held and no
earlier request of any of those rooms was left undecided. One that names a room not
held is left (a *blocker*), and so is every later request of its rooms: `Decision`
says which, so the decider can take those rooms too and come back. So in each room the
requests are decided in acceptance order, whichever other rooms they name.

When a request frees a slot (a cancellation, a move, a decline, a closure), the waiters
near the freed window go back to their acceptance place: they are decided again before
any later request, or, if they name a room not held, put back in the queue (QUEUED) for
a decider holding all their rooms.

The request kinds live beside this module: new_bookings (one room or several, series),
changes (a booking, a series from one on), releases (cancel, close, approve, decline).
"""

from __future__ import annotations

import bisect
import heapq
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from models.domain.engine.changes import decide_change, decide_series_change
from models.domain.engine.checks import ROOM_CLOSED, WHOLE_REQUEST
from models.domain.engine.new_bookings import decide_booking, decide_series
from models.domain.engine.outcomes import (
    EXPIRED_MESSAGE,
    expired,
    failed,
    rejected,
    requeued,
    succeeded,
)
from models.domain.engine.releases import (
    APPROVAL_EXPIRED,
    DECLINED,
    SERIES_CANCEL_REASON,
    decide_approval,
    decide_cancel,
    decide_closure,
    decide_group_cancel,
    decide_series_cancel,
    series_cancel_cutoff,
)
from models.domain.engine.state import (
    ApproveBooking,
    BookingFacts,
    CancelBooking,
    ChangeBooking,
    Closure,
    Effect,
    NewBooking,
    NewClosure,
    NewId,
    NewSeries,
    Outcome,
    RoomFacts,
    RoomRequest,
    RoomState,
    Snapshot,
    derived_id,
)
from models.domain.payloads import (
    ApprovalPayload,
    BookingPayload,
    CancelPayload,
    ChangePayload,
    ClosurePayload,
    GroupCancelPayload,
    SeriesCancelPayload,
    SeriesChangePayload,
    SeriesPayload,
)
from models.domain.states import RequestStatus

__all__ = [
    "APPROVAL_EXPIRED",
    "DECLINED",
    "EXPIRED_MESSAGE",
    "ROOM_CLOSED",
    "SERIES_CANCEL_REASON",
    "WHOLE_REQUEST",
    "ApproveBooking",
    "BookingFacts",
    "CancelBooking",
    "ChangeBooking",
    "Closure",
    "Decision",
    "Effect",
    "NewBooking",
    "NewClosure",
    "NewSeries",
    "Outcome",
    "RoomFacts",
    "RoomRequest",
    "RoomState",
    "Snapshot",
    "decide",
    "decide_one",
    "failed",
    "rejected",
    "series_cancel_cutoff",
    "succeeded",
    "windows",
]

# Requests that may free a slot: the decider loads the waitlist of their rooms.
FREEING = (
    CancelPayload,
    GroupCancelPayload,
    SeriesCancelPayload,
    ChangePayload,
    SeriesChangePayload,
    ClosurePayload,
    ApprovalPayload,
)


@dataclass
class Decision:
    """What one call decided, and what it had to leave.

    `blocked`: room -> the seq of the first request there left undecided (nothing after
    it in that room was decided); `blockers`: the requests left because they name a room
    not held (or a blocked one)."""

    outcomes: list[Outcome] = field(default_factory=list)
    blocked: dict[uuid.UUID, int] = field(default_factory=dict)
    blockers: list[RoomRequest] = field(default_factory=list)

    def needs(self, room_id: uuid.UUID) -> set[uuid.UUID]:
        """The rooms to hold for the room's first undecided request to be decided: its
        own, and those of the requests before it that it waits for (in a room it names,
        the first one left), and theirs, back to requests that wait for nothing held.
        Only that chain: what later requests name is not needed to go on."""
        first: dict[uuid.UUID, RoomRequest] = {}
        for blocker in self.blockers:  # in seq order: the first per room is kept
            for room in blocker.rooms:
                first.setdefault(room, blocker)
        chain = [first[room_id]] if room_id in first else []
        needed: set[uuid.UUID] = set()
        seen: set[uuid.UUID] = set()
        while chain:
            blocker = chain.pop()
            if blocker.id in seen:
                continue
            seen.add(blocker.id)
            needed |= blocker.rooms
            chain += [first[r] for r in blocker.rooms if first[r].seq < blocker.seq]
        return needed


def windows(
    payload: object, bookings: Mapping[uuid.UUID, BookingFacts] | None = None
) -> list[tuple[datetime, datetime]]:
    """The windows a request looks at: what the loader must put in the calendars. A
    change's depend on the bookings it names (where they are and where they go)."""
    if isinstance(payload, BookingPayload | ClosurePayload):
        return [(payload.start, payload.end)]
    if isinstance(payload, SeriesPayload):
        return [(o.start, o.end) for o in payload.occurrences]
    named = list((bookings or {}).values())
    if isinstance(payload, ChangePayload):
        group = payload.group_id
        moved = [b for b in named if b.id == payload.booking_id or (group and b.group_id == group)]
        found = [(b.start, b.end) for b in moved]
        return found + [(payload.start or s, payload.end or e) for s, e in found]
    if isinstance(payload, SeriesChangePayload):
        found = [(b.start, b.end) for b in named if b.series_id == payload.series_id]
        shift = timedelta(minutes=payload.shift_minutes)
        length = timedelta(minutes=payload.duration_minutes or 0)
        # Wall-clock arithmetic moves a time by at most a DST jump more than this.
        slack = timedelta(hours=3)
        return found + [(s + shift - slack, max(e, s + length) + shift + slack) for s, e in found]
    return []


def decide(
    snapshot: Snapshot,
    requests: Sequence[RoomRequest],
    *,
    now: datetime,
    new_id: NewId = derived_id,
    decision: Decision | None = None,
) -> Decision:
    """Decide the requests in seq order; the snapshot ends holding every granted effect.

    A request may have two outcomes (WAITLISTED, then promoted): the last one stands.
    `decision`: carry on one (its blocked rooms hold here too), as a decider that goes
    one request at a time does.
    """
    decision = decision or Decision()
    blocked = decision.blocked
    held = snapshot.rooms.keys()
    queue = [(r.seq, i, r, False) for i, r in enumerate(requests)]
    heapq.heapify(queue)
    tiebreak = len(queue)
    while queue:
        _, _, request, from_waitlist = heapq.heappop(queue)
        if not request.rooms <= held or any(
            blocked.get(room, request.seq) < request.seq for room in request.rooms
        ):
            for room in request.rooms & held:
                blocked[room] = min(blocked.get(room, request.seq), request.seq)
            decision.blockers.append(request)
            if from_waitlist:
                decision.outcomes.append(requeued(request))
            continue
        if (from_waitlist or request.requeued) and _started(request, now):
            decision.outcomes.append(expired(request))
            continue
        outcome = decide_one(snapshot, request, now=now, new_id=new_id, from_waitlist=from_waitlist)
        if outcome.status == RequestStatus.WAITLISTED:
            bisect.insort(snapshot.waitlist, request, key=lambda r: r.seq)
            if from_waitlist:
                continue  # it waits on, as it did: nothing to write
        freed = freed_windows(snapshot, outcome)
        snapshot.apply(outcome.effects)
        decision.outcomes.append(outcome)
        for waiter in near_waiters(snapshot, freed):
            tiebreak += 1
            heapq.heappush(queue, (waiter.seq, tiebreak, waiter, True))
    return decision


def _started(request: RoomRequest, now: datetime) -> bool:
    payload = request.payload
    return isinstance(payload, BookingPayload) and payload.start <= now


def freed_windows(
    snapshot: Snapshot, outcome: Outcome
) -> list[tuple[uuid.UUID, datetime, datetime]]:
    """The (room, start, end) an outcome frees: what it cancels, where a change moves a
    booking from, what a closure closes (its waiters are refused there)."""
    found = []
    for effect in outcome.effects:
        if isinstance(effect, CancelBooking):
            booking = snapshot.bookings.get(effect.booking_id)
            if booking is not None:
                found.append((booking.room_id, booking.start, booking.end))
        elif isinstance(effect, ChangeBooking):
            before = effect.before
            found.append((before.room_id, before.start, before.end))
        elif isinstance(effect, NewClosure):
            found.append((effect.room_id, effect.start, effect.end))
    return found


def near_waiters(
    snapshot: Snapshot, freed: Sequence[tuple[uuid.UUID, datetime, datetime]]
) -> list[RoomRequest]:
    """The waiters near a freed window, taken off the waitlist to be decided again.

    A waiter waits for a conflict, and a conflict far from every freed window (its
    room's buffer around it) has not changed: deciding it again would only cost time (a
    hot room can hold a long waitlist)."""
    if not freed or not snapshot.waitlist:
        return []
    near, waiting = [], []
    for waiter in snapshot.waitlist:
        payload = waiter.payload
        assert isinstance(payload, BookingPayload)
        if any(
            room in waiter.rooms
            and start - _buffer(snapshot, room) < payload.end
            and payload.start < end + _buffer(snapshot, room)
            for room, start, end in freed
        ):
            near.append(waiter)
        else:
            waiting.append(waiter)
    snapshot.waitlist = waiting
    return near


def _buffer(snapshot: Snapshot, room_id: uuid.UUID) -> timedelta:
    state = snapshot.rooms.get(room_id)
    return state.facts.policy.buffer if state else timedelta(0)


def decide_one(
    snapshot: Snapshot,
    request: RoomRequest,
    *,
    now: datetime,
    new_id: NewId = derived_id,
    from_waitlist: bool = False,
) -> Outcome:
    """Decide one request against the snapshot (which it does not change)."""
    payload = request.payload
    if isinstance(payload, BookingPayload):
        waited = from_waitlist or request.requeued
        return decide_booking(
            snapshot, request, payload, now=now, new_id=new_id, from_waitlist=waited
        )
    if isinstance(payload, SeriesPayload):
        return decide_series(snapshot, request, payload, now=now, new_id=new_id)
    if isinstance(payload, ChangePayload):
        return decide_change(snapshot, request, payload, now)
    if isinstance(payload, SeriesChangePayload):
        return decide_series_change(snapshot, request, payload, now)
    if isinstance(payload, CancelPayload):
        return decide_cancel(snapshot, request, payload, now)
    if isinstance(payload, GroupCancelPayload):
        return decide_group_cancel(snapshot, request, payload, now)
    if isinstance(payload, ClosurePayload):
        return decide_closure(snapshot, request, payload, new_id, now)
    if isinstance(payload, ApprovalPayload):
        return decide_approval(snapshot, request, payload, now)
    return decide_series_cancel(snapshot, request, payload, now)
