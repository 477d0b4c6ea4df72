"""Properties of the engine with room rules (hypothesis): for any sequence of requests,
cancellations and closures in a room with a buffer and quotas, bookings that hold a slot
never overlap (buffers respected), no quota is exceeded, every request is booked at most
once, and waitlist promotions follow acceptance order."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from models.domain.engine import (
    CancelBooking,
    NewBooking,
    Outcome,
    RoomFacts,
    RoomRequest,
    Snapshot,
    decide,
)
from models.domain.payloads import BookingPayload, CancelPayload, ClosurePayload, RoomPayload
from models.domain.policy import parse_policy
from models.domain.states import RequestStatus
from tests.unit.one_room import one_room

ROOM_ID = uuid.UUID(int=7)
T0 = datetime(2030, 1, 7, tzinfo=UTC)  # a Monday, midnight UTC
NOW = T0 - timedelta(days=1)
UNIT = timedelta(minutes=30)
BUFFER = UNIT
DAY_QUOTA = 6 * UNIT
USERS = [uuid.UUID(int=100 + i) for i in range(3)]
ADMIN = uuid.UUID(int=999)  # exempt from quotas, not from buffers
FACTS = RoomFacts(
    ROOM_ID,
    True,
    10,
    "UTC",
    parse_policy({"buffer_minutes": 30, "max_minutes_per_user_per_day": 180}),
)

_book = st.tuples(
    st.just("book"),
    st.sampled_from([*USERS, ADMIN]),
    st.integers(0, 2 * 48 - 8),  # start, in half-hours over two days
    st.integers(1, 6),  # length
    st.booleans(),  # waitlist
)
_cancel = st.tuples(st.just("cancel"), st.integers(0, 50))
_close = st.tuples(st.just("close"), st.integers(0, 2 * 48 - 8), st.integers(1, 6))
_steps = st.lists(st.one_of(_book, _book, _book, _cancel, _cancel, _close), min_size=1, max_size=40)


def _at(unit: int) -> datetime:
    return T0 + unit * UNIT


def _overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime], gap: timedelta) -> bool:
    return a[0] < b[1] + gap and b[0] < a[1] + gap


@settings(max_examples=400, deadline=None)
@given(_steps)
def test_rules_and_waitlist_hold_for_any_sequence(steps: list[tuple]) -> None:
    snapshot = one_room(FACTS)
    holding: dict[uuid.UUID, tuple[datetime, datetime, uuid.UUID]] = {}
    made: list[uuid.UUID] = []  # every booking made, in order
    booked_for: defaultdict[uuid.UUID, int] = defaultdict(int)  # request -> bookings made
    maker_seq: dict[uuid.UUID, int] = {}  # booking -> seq of the request it was made for
    seqs: dict[uuid.UUID, int] = {}
    counter = itertools.count(1)
    for seq, step in enumerate(steps, start=1):
        payload: RoomPayload
        requester = USERS[0]
        if step[0] == "book":
            _, requester, start, length, waitlist = step
            payload = BookingPayload(
                ROOM_ID, _at(start), _at(start + length), "b", waitlist=waitlist
            )
        elif step[0] == "cancel":
            if not made:
                continue
            payload = CancelPayload(ROOM_ID, made[step[1] % len(made)])
            requester = ADMIN
        else:
            _, start, length = step
            payload = ClosurePayload(ROOM_ID, _at(start), _at(start + length), "closed")
            requester = ADMIN
        request = RoomRequest(
            uuid.UUID(int=10_000 + seq), seq, requester, payload, requester == ADMIN
        )
        seqs[request.id] = seq
        outcomes = decide(
            snapshot, [request], now=NOW, new_id=lambda *_: uuid.UUID(int=next(counter))
        ).outcomes
        promoted_now: list[tuple[Outcome, NewBooking]] = []
        for outcome in outcomes:
            for effect in outcome.effects:
                if isinstance(effect, NewBooking):
                    holding[effect.id] = (effect.start, effect.end, effect.organizer_id)
                    made.append(effect.id)
                    booked_for[effect.request_id] += 1
                    maker_seq[effect.id] = seqs[effect.request_id]
                    if effect.from_waitlist:
                        promoted_now.append((outcome, effect))
                elif isinstance(effect, CancelBooking):
                    holding.pop(effect.booking_id, None)
        # Snapshot bookings of the room are what the database would hold.
        _check_no_overlap(holding)
        _check_quotas(holding)
        assert all(n == 1 for n in booked_for.values()), "a request was booked twice"
        _check_waiters_are_blocked(snapshot, holding, promoted_now, maker_seq)
        for outcome in outcomes:
            error = outcome.error
            assert outcome.status != RequestStatus.WAITLISTED or (
                error is not None and error["code"] == "CONFLICT"
            )


def _check_no_overlap(holding: dict[uuid.UUID, tuple[datetime, datetime, uuid.UUID]]) -> None:
    windows = sorted((s, e) for s, e, _ in holding.values())
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert start >= end + BUFFER, "two bookings closer than the buffer"


def _check_quotas(holding: dict[uuid.UUID, tuple[datetime, datetime, uuid.UUID]]) -> None:
    per_day: defaultdict[tuple[uuid.UUID, object], timedelta] = defaultdict(timedelta)
    for start, end, user in holding.values():
        if user == ADMIN:
            continue
        moment = start
        while moment < end:  # split at UTC midnight (the room is in UTC)
            midnight = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), UTC)
            part_end = min(end, midnight)
            per_day[(user, moment.date())] += part_end - moment
            moment = part_end
    assert all(used <= DAY_QUOTA for used in per_day.values()), "a daily quota was exceeded"


def _check_waiters_are_blocked(
    snapshot: Snapshot,
    holding: dict[uuid.UUID, tuple[datetime, datetime, uuid.UUID]],
    promoted_now: list[tuple[Outcome, NewBooking]],
    maker_seq: dict[uuid.UUID, int],
) -> None:
    """Every request still waiting is blocked by a booking: nobody waits for a free slot.
    And one a later waiter's promotion took in this round does not count: the earlier
    waiter was decided first, so it was blocked by something else already."""
    promoted_ids = {effect.id for _, effect in promoted_now}
    for waiter in snapshot.waitlist:
        payload = waiter.payload
        assert isinstance(payload, BookingPayload)
        window = (payload.start, payload.end)
        blockers = [
            booking_id
            for booking_id, (s, e, _) in holding.items()
            if _overlaps(window, (s, e), BUFFER)
            and not (booking_id in promoted_ids and maker_seq[booking_id] > waiter.seq)
        ]
        assert blockers, f"waiter {waiter.seq} waits for a slot that is free to it"
