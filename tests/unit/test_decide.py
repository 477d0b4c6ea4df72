"""models/services/decide.py with an in-memory store: which rooms a turn takes, in which
order requests are decided across rooms, and what a refused commit leaves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from models.domain.engine import RoomFacts
from models.domain.payloads import BookingPayload, CancelPayload, ChangePayload
from models.domain.states import RequestStatus
from models.services import decide
from models.services.decide import decide_turn, drain_room
from tests.unit.fake_store import FakeStore, Row

A, B, C = (uuid.UUID(int=n) for n in (1, 2, 3))
ALICE, BOB = uuid.UUID(int=100), uuid.UUID(int=200)
T0 = datetime(2030, 1, 7, 9, tzinfo=UTC)
NOW = T0 - timedelta(days=1)


def store() -> FakeStore:
    return FakeStore([RoomFacts(r, True, 10) for r in (A, B, C)], NOW)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def booking(
    *rooms: uuid.UUID, start: float = 0, hours: float = 1, **extra: object
) -> BookingPayload:
    several = rooms if len(rooms) > 1 else ()
    return BookingPayload(rooms[0], at(start), at(start + hours), "b", room_ids=several, **extra)  # type: ignore[arg-type]


def row(fake: FakeStore, request_id: uuid.UUID) -> Row:
    return fake.state.rows[request_id]


def status(fake: FakeStore, request_id: uuid.UUID) -> RequestStatus:
    return row(fake, request_id).status


def test_a_turn_of_one_room_locks_that_room_only() -> None:
    fake = store()
    first = fake.submit(ALICE, booking(A))
    second = fake.submit(BOB, booking(A))

    done = drain_room(fake, A)

    assert done.decided == 2
    assert fake.locked == [(A,)]
    assert (status(fake, first), status(fake, second)) == (
        RequestStatus.SUCCEEDED,
        RequestStatus.REJECTED,
    )
    assert done.last.through == {A: row(fake, second).seq}


def test_a_request_naming_another_room_waits_for_that_rooms_earlier_requests() -> None:
    """A's turn decides what comes before the two-room request, then takes B too (in
    order), decides B's earlier request, the two-room one, and A's later one."""
    fake = store()
    early_a = fake.submit(ALICE, booking(A, start=5))
    early_b = fake.submit(BOB, booking(B))  # accepted first: it gets B at 09:00
    both = fake.submit(ALICE, booking(A, B))  # wants A and B at 09:00
    late_a = fake.submit(BOB, booking(A))  # wants what `both` took in A

    done = drain_room(fake, A)

    assert fake.locked == [(A,), (A, B)]
    assert status(fake, early_a) == status(fake, early_b) == RequestStatus.SUCCEEDED
    assert status(fake, both) == RequestStatus.REJECTED
    assert row(fake, both).error["room_id"] == str(B)  # type: ignore[index]
    assert status(fake, late_a) == RequestStatus.SUCCEEDED  # A was left free: none booked
    assert done.decided == 4
    assert fake.holding(A)[0].start == at(0)


def test_the_first_turn_stops_before_the_request_it_cannot_decide() -> None:
    """Before it takes B, A's first transaction decides only what precedes the two-room
    request in A: acceptance order holds in A whatever B holds."""
    fake = store()
    both = fake.submit(ALICE, booking(A, B))
    after = fake.submit(BOB, booking(A))

    first = decide_turn(fake, [A], home=A)

    assert first.count == 0
    assert first.needs == {B}
    assert first.through == {A: row(fake, both).seq - 1}
    assert status(fake, after) == RequestStatus.QUEUED
    drain_room(fake, A)
    assert status(fake, both) == RequestStatus.SUCCEEDED
    assert status(fake, after) == RequestStatus.REJECTED  # the earlier one won A


def test_a_move_to_another_room_is_decided_in_both_rooms_orders_and_frees_its_slot() -> None:
    fake = store()
    made = fake.submit(ALICE, booking(A))
    drain_room(fake, A)
    booking_id = uuid.UUID(row(fake, made).result["booking_id"])  # type: ignore[index]
    waiter = fake.submit(BOB, booking(A, waitlist=True))
    drain_room(fake, A)
    assert status(fake, waiter) == RequestStatus.WAITLISTED

    move = fake.submit(ALICE, ChangePayload(B, booking_id, new_room_id=B))
    assert row(fake, move).rooms == {A, B}
    drain_room(fake, B)

    assert status(fake, move) == RequestStatus.SUCCEEDED
    assert fake.state.bookings[booking_id].room_id == B
    assert fake.state.bookings[booking_id].version == 2
    assert status(fake, waiter) == RequestStatus.SUCCEEDED  # promoted in the same turn
    assert [b.id for b in fake.holding(B)] == [booking_id]


def test_a_cancel_queued_behind_a_move_follows_the_booking_to_its_new_room() -> None:
    """The cancel is accepted while the move is still queued: it is queued in both rooms,
    so it is decided after the move, with both rooms held."""
    fake = store()
    made = fake.submit(ALICE, booking(A))
    drain_room(fake, A)
    booking_id = uuid.UUID(row(fake, made).result["booking_id"])  # type: ignore[index]
    move = fake.submit(ALICE, ChangePayload(B, booking_id, new_room_id=B))
    cancel = fake.submit(ALICE, CancelPayload(A, booking_id))

    assert row(fake, cancel).rooms == {A, B}
    drain_room(fake, A)

    assert status(fake, move) == status(fake, cancel) == RequestStatus.SUCCEEDED
    assert fake.holding(A) == fake.holding(B) == []


def test_a_refused_commit_is_decided_again_one_request_at_a_time() -> None:
    """The fast path's commit fails (as when Postgres refuses the batch): the same
    requests are decided again one by one, each in its savepoint."""
    fake = store()
    first = fake.submit(ALICE, booking(A))
    second = fake.submit(BOB, booking(A, start=2))
    fake.fail_next_commit = True

    drain_room(fake, A)

    assert status(fake, first) == status(fake, second) == RequestStatus.SUCCEEDED
    assert len(fake.holding(A)) == 2


def test_rooms_a_turn_cannot_take_are_left_to_be_woken() -> None:
    fake = store()
    fake.submit(ALICE, booking(A, B))
    done = drain_room(fake, B)
    assert done.decided == 1
    assert done.wake == frozenset()  # nothing left anywhere


def test_a_hub_with_more_spokes_than_a_turn_may_take_is_decided_a_spoke_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every request names the hub and one spoke, more spokes than a turn takes: a turn
    takes the rooms its first undecided request waits for, not those of every request
    behind it, so each goes on and all are decided (as the worker's wake-ups run them)."""
    monkeypatch.setattr(decide, "MAX_ROOMS", 4)
    hub, spokes = uuid.UUID(int=50), [uuid.UUID(int=60 + i) for i in range(8)]
    fake = FakeStore([RoomFacts(r, True, 10) for r in (hub, *spokes)], NOW)
    asked = [fake.submit(ALICE, booking(hub, spoke, start=i)) for i, spoke in enumerate(spokes)]

    woken, turns = [hub], 0
    while woken and turns < 40:
        room, turns = woken.pop(0), turns + 1
        done = drain_room(fake, room, batch_size=3)
        again = done.wake - done.last.rooms if done.last.full else done.wake - {room}
        woken += [room] * done.last.full + [r for r in sorted(again) if r not in woken]

    assert [status(fake, r) for r in asked] == [RequestStatus.SUCCEEDED] * len(spokes)
    assert max(len(rooms) for rooms in fake.locked) <= 4


def test_two_swaps_of_a_group_into_one_room_the_second_meets_the_first_there() -> None:
    """Both swaps were accepted while the group held only A and B; when the second is
    decided, the group's other booking is in C already: a CONFLICT naming it, decided
    by the engine (the database is not asked to refuse it)."""
    fake = store()
    made = fake.submit(ALICE, booking(A, B))
    drain_room(fake, A)
    first, second = (uuid.UUID(b) for b in row(fake, made).result["booking_ids"])  # type: ignore[index]
    group = fake.state.bookings[first].group_id
    into_c = [
        fake.submit(ALICE, ChangePayload(C, b, new_room_id=C, group_id=group))
        for b in (first, second)
    ]
    drain_room(fake, C)

    assert status(fake, into_c[0]) == RequestStatus.SUCCEEDED
    assert status(fake, into_c[1]) == RequestStatus.REJECTED
    error = row(fake, into_c[1]).error or {}
    assert error["code"] == "CONFLICT"
    assert [c["booking_id"] for c in error["conflicts"]] == [str(first)]
    assert {b.room_id for b in fake.holding(C)} == {C}
