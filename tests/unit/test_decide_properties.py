"""Properties of deciding across rooms (hypothesis, the in-memory store): for any mix of
bookings, several-room bookings, moves, series changes and cancellations, accepted
while rooms' turns come in any order and any batch size,

- held bookings never overlap, and no commit needed the one-by-one fallback to say so;
- a several-room booking is booked in every room it names, or in none;
- every request is decided, and the outcome is what deciding the requests one at a time,
  in acceptance order, holding every room, gives.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from models.domain.engine import RoomFacts
from models.domain.payloads import (
    BookingPayload,
    CancelPayload,
    ChangePayload,
    GroupCancelPayload,
    RoomPayload,
    SeriesChangePayload,
    SeriesPayload,
)
from models.domain.policy import parse_policy
from models.domain.recurrence import Occurrence
from models.domain.states import HOLDING, ConflictPolicy, RequestStatus
from models.services import decide as deciding
from models.services.decide import decide_turn, drain_room
from tests.unit.fake_store import FakeStore, overlaps

ROOMS = [uuid.UUID(int=n) for n in (1, 2, 3)]
USERS = [uuid.UUID(int=100 + n) for n in range(3)]
T0 = datetime(2030, 1, 7, 8, tzinfo=UTC)
NOW = T0 - timedelta(days=1)
UNIT = timedelta(minutes=30)
FACTS = [
    RoomFacts(ROOMS[0], True, 10),
    RoomFacts(ROOMS[1], True, 10, "UTC", parse_policy({"buffer_minutes": 30})),
    RoomFacts(ROOMS[2], True, 10),
]

_book = st.tuples(
    st.just("book"),
    st.lists(st.sampled_from(ROOMS), min_size=1, max_size=3, unique=True),
    st.integers(0, 16),  # start, in half-hours
    st.integers(1, 4),  # length
    st.booleans(),  # waitlist (single rooms only)
    st.sampled_from(USERS),
)
_series = st.tuples(
    st.just("series"),
    st.lists(st.sampled_from(ROOMS), min_size=1, max_size=2, unique=True),
    st.integers(0, 16),
    st.integers(1, 3),
    st.booleans(),  # skip_conflicts
    st.sampled_from(USERS),
)
_move = st.tuples(
    st.just("move"),
    st.integers(0, 30),  # which booking
    st.one_of(st.none(), st.sampled_from(ROOMS)),
    st.one_of(st.none(), st.integers(-2, 2)),  # a shift in half-hours
)
_cancel = st.tuples(st.just("cancel"), st.integers(0, 30))
_group_cancel = st.tuples(st.just("group_cancel"), st.integers(0, 10))
_shift = st.tuples(st.just("shift"), st.integers(0, 10), st.integers(-2, 2), st.booleans())
_turn = st.tuples(st.just("turn"), st.sampled_from(ROOMS), st.integers(1, 4))
_steps = st.lists(
    st.one_of(_book, _book, _series, _move, _move, _cancel, _group_cancel, _shift, _turn, _turn),
    min_size=1,
    max_size=30,
)


def _at(unit: int) -> datetime:
    return T0 + unit * UNIT


def _payload(store: FakeStore, step: tuple[Any, ...]) -> tuple[uuid.UUID, RoomPayload] | None:
    """The request a step asks for, and who asks; None when it names nothing there is."""
    bookings = sorted(store.state.bookings.values(), key=lambda b: str(b.id))
    kind = step[0]
    if kind == "book":
        _, rooms, start, length, waitlist, who = step
        several = tuple(rooms) if len(rooms) > 1 else ()
        return who, BookingPayload(
            rooms[0],
            _at(start),
            _at(start + length),
            "b",
            waitlist=waitlist and not several,
            room_ids=several,
        )
    if kind == "series":
        _, rooms, start, length, skip, who = step
        occurrences = tuple(
            Occurrence(_at(start) + timedelta(days=d), _at(start + length) + timedelta(days=d))
            for d in range(3)
        )
        several = tuple(rooms) if len(rooms) > 1 else ()
        first = BookingPayload(
            rooms[0], occurrences[0].start, occurrences[0].end, "s", room_ids=several
        )
        policy = ConflictPolicy.SKIP_CONFLICTS if skip else ConflictPolicy.ALL_OR_NOTHING
        return who, SeriesPayload(first, "UTC", {"freq": "DAILY", "count": 3}, policy, occurrences)
    if kind in ("move", "cancel") and bookings:
        booking = bookings[step[1] % len(bookings)]
        if kind == "cancel":
            return booking.organizer_id, CancelPayload(booking.room_id, booking.id)
        _, _, room, shift = step
        if room is None and shift is None:
            return None
        start = booking.start + shift * UNIT if shift is not None else None
        end = booking.end + shift * UNIT if shift is not None else None
        moved = room if room is not None and room != booking.room_id else None
        if moved is not None and booking.group_id is not None:
            return None  # the API refuses a swap into a room the group holds (422)
        return booking.organizer_id, ChangePayload(
            moved or booking.room_id, booking.id, start, end, moved, group_id=booking.group_id
        )
    groups = sorted({b.group_id for b in bookings if b.group_id and b.series_id is None}, key=str)
    if kind == "group_cancel" and groups:
        group = groups[step[1] % len(groups)]
        member = next(b for b in bookings if b.group_id == group)
        return member.organizer_id, GroupCancelPayload(member.room_id, group)
    series = sorted({b.series_id for b in bookings if b.series_id}, key=str)
    if kind == "shift" and series and step[2]:
        series_id = series[step[1] % len(series)]
        members = sorted((b for b in bookings if b.series_id == series_id), key=lambda b: b.start)
        policy = ConflictPolicy.SKIP_CONFLICTS if step[3] else ConflictPolicy.ALL_OR_NOTHING
        return members[0].organizer_id, SeriesChangePayload(
            members[0].room_id, series_id, members[0].start, "UTC", policy, step[2] * 30
        )
    return None


def _settle(store: FakeStore, rooms: list[uuid.UUID], batch: int) -> None:
    """Every room's turn, again and again, until nothing is QUEUED."""
    for _ in range(200):
        if not any(r.status == RequestStatus.QUEUED for r in store.state.rows.values()):
            return
        for room in rooms:
            drain_room(store, room, batch_size=batch)
    raise AssertionError("requests left undecided")


def _outcomes(store: FakeStore) -> dict[uuid.UUID, Any]:
    return {
        r.id: (r.status, (r.error or {}).get("code"), (r.result or {}).get("booking_status"))
        for r in store.state.rows.values()
    }


def _bookings(store: FakeStore) -> dict[uuid.UUID, Any]:
    return {
        b.id: (b.room_id, b.start, b.end, b.status, b.version, b.group_id)
        for b in store.state.bookings.values()
    }


@settings(max_examples=300, deadline=None)
@given(_steps)
def test_deciding_across_rooms_in_any_order_is_deciding_in_acceptance_order(
    steps: list[tuple[Any, ...]],
) -> None:
    careful: list[object] = []
    store = FakeStore(FACTS, NOW)
    original = deciding.decide_turn

    def counting(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("careful"):
            careful.append(args)
        return original(*args, **kwargs)

    deciding.decide_turn = counting  # type: ignore[assignment]
    try:
        for step in steps:
            if step[0] == "turn":
                drain_room(store, step[1], batch_size=step[2])
                overlaps(store.state)
                continue
            asked = _payload(store, step)
            if asked is not None:
                store.submit(asked[0], asked[1])
        _settle(store, ROOMS, 3)
    finally:
        deciding.decide_turn = original  # type: ignore[assignment]

    assert careful == [], "a commit was refused: the engine let two bookings overlap"
    overlaps(store.state)
    _groups_all_or_none(store)

    # The same requests, in acceptance order, one at a time, every room held.
    reference = FakeStore(FACTS, NOW)
    for row in sorted(store.state.rows.values(), key=lambda r: r.seq):
        reference.submit_as(row)
    while any(r.status == RequestStatus.QUEUED for r in reference.state.rows.values()):
        decide_turn(reference, ROOMS, home=ROOMS[0], batch_size=1)
    assert _outcomes(store) == _outcomes(reference)
    assert _bookings(store) == _bookings(reference)


def _groups_all_or_none(store: FakeStore) -> None:
    """A group's bookings hold the same window in distinct rooms, all made by one request;
    a rejected several-rooms request made none."""
    made: defaultdict[uuid.UUID, list[Any]] = defaultdict(list)
    for booking in store.state.bookings.values():
        if booking.group_id is not None:
            made[booking.group_id].append(booking)
    for members in made.values():
        rooms = [b.room_id for b in members]
        assert len(set(rooms)) == len(rooms)
        held = [b for b in members if b.status in HOLDING]
        assert len({(b.start, b.end) for b in held}) <= 1
    for row in store.state.rows.values():
        payload = row.payload
        if isinstance(payload, BookingPayload) and payload.room_ids:
            if row.status == RequestStatus.SUCCEEDED:
                assert len((row.result or {})["booking_ids"]) == len(payload.room_ids)
            else:
                assert not row.result
