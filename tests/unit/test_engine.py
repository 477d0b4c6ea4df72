"""models/domain/engine/: every rule of a decision in one room, without a server."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from models.domain.calendar import RoomCalendar, Slot
from models.domain.engine import (
    BookingFacts,
    CancelBooking,
    ChangeBooking,
    NewBooking,
    NewSeries,
    Outcome,
    RoomFacts,
    RoomRequest,
    Snapshot,
    decide,
    decide_one,
)
from models.domain.payloads import (
    BookingPayload,
    CancelPayload,
    RoomPayload,
    SeriesCancelPayload,
    SeriesChangePayload,
    SeriesPayload,
)
from models.domain.recurrence import Occurrence
from models.domain.states import BookingStatus, ConflictPolicy, RequestStatus
from tests.unit.one_room import one_room

ROOM = RoomFacts(uuid.UUID(int=7), active=True, capacity=4)
ALICE = uuid.UUID(int=100)
BOB = uuid.UUID(int=200)
T0 = datetime(2030, 1, 7, 9, tzinfo=UTC)  # a Monday
NOW = T0 - timedelta(days=1)
HOUR = timedelta(hours=1)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def booking(start: float, hours: float = 1, **extra: object) -> BookingPayload:
    return BookingPayload(ROOM.id, at(start), at(start + hours), "Planning", **extra)  # type: ignore[arg-type]


def series(
    starts: list[float], hours: float = 1, policy: ConflictPolicy = ConflictPolicy.ALL_OR_NOTHING
) -> SeriesPayload:
    occurrences = tuple(Occurrence(at(s), at(s + hours)) for s in starts)
    return SeriesPayload(
        booking=booking(starts[0], hours),
        timezone="UTC",
        rule={"freq": "DAILY", "count": len(starts)},
        conflict_policy=policy,
        occurrences=occurrences,
    )


def requests(*payloads: RoomPayload, requester: uuid.UUID = ALICE) -> list[RoomRequest]:
    return [RoomRequest(uuid.UUID(int=10_000 + i), i, requester, p) for i, p in enumerate(payloads)]


def existing(*windows: tuple[float, float], series_id: uuid.UUID | None = None) -> Snapshot:
    """A snapshot holding BOB's confirmed bookings at the given (start, hours) windows."""
    facts = [
        BookingFacts(
            uuid.UUID(int=500 + i),
            ROOM.id,
            at(s),
            at(s + h),
            BookingStatus.CONFIRMED,
            BOB,
            series_id,
        )
        for i, (s, h) in enumerate(windows)
    ]
    calendar = RoomCalendar([Slot(f.start, f.end, f.id) for f in facts])
    return one_room(ROOM.id, calendar=calendar, bookings=facts)


def ids() -> Callable[..., uuid.UUID]:
    counter = itertools.count(1)
    return lambda *_: uuid.UUID(int=next(counter))


def run(snapshot: Snapshot, *payloads: RoomPayload, room: RoomFacts = ROOM) -> list[Outcome]:
    """Decide the payloads (ALICE's, in order) in the room with these facts."""
    snapshot.rooms[room.id].facts = room
    return decide(snapshot, requests(*payloads), now=NOW, new_id=ids()).outcomes


# Single bookings


def test_a_free_slot_is_confirmed_with_its_details() -> None:
    [outcome] = run(one_room(ROOM.id), booking(0, attendees=("ann@example.com",)))

    assert outcome.status == RequestStatus.SUCCEEDED
    [new] = outcome.effects
    assert isinstance(new, NewBooking)
    assert (new.start, new.end, new.organizer_id, new.series_id) == (at(0), at(1), ALICE, None)
    assert new.details.attendees == ("ann@example.com",)
    assert outcome.result == {"booking_id": str(new.id), "booking_status": "CONFIRMED"}
    assert outcome.progress == {"total": 1, "done": 1, "confirmed": 1, "rejected": 0}
    assert outcome.error is None


def test_an_overlap_is_a_conflict_naming_the_booking() -> None:
    snapshot = existing((0, 1))
    [outcome] = run(snapshot, booking(0.5))

    assert outcome.status == RequestStatus.REJECTED
    assert outcome.effects == ()
    assert outcome.error is not None and outcome.error["code"] == "CONFLICT"
    assert "room_id" not in outcome.error  # only a request naming several rooms names one
    assert outcome.error["conflicts"] == [
        {
            "booking_id": str(uuid.UUID(int=500)),
            "start_time": at(0).isoformat(),
            "end_time": at(1).isoformat(),
        }
    ]
    assert outcome.progress == {"total": 1, "done": 1, "confirmed": 0, "rejected": 1}


def test_back_to_back_is_not_a_conflict() -> None:
    outcomes = run(existing((0, 1), (2, 1)), booking(1))

    assert [o.status for o in outcomes] == [RequestStatus.SUCCEEDED]


def test_of_two_overlapping_requests_the_first_accepted_wins() -> None:
    first, second = run(one_room(ROOM.id), booking(0, 2), booking(1, 2))

    assert first.status == RequestStatus.SUCCEEDED
    assert second.status == RequestStatus.REJECTED
    assert second.error is not None
    assert second.error["conflicts"][0]["booking_id"] == first.result["booking_id"]  # type: ignore[index]


def test_an_inactive_room_refuses_everything() -> None:
    closed = RoomFacts(ROOM.id, active=False, capacity=4)
    outcomes = run(one_room(ROOM.id), booking(0), series([0, 24]), room=closed)

    assert [o.error["code"] for o in outcomes] == ["ROOM_INACTIVE", "ROOM_INACTIVE"]  # type: ignore[index]
    assert outcomes[1].progress["total"] == 2


def test_more_attendees_than_seats_is_refused() -> None:
    party = tuple(f"guest{i}" for i in range(5))
    [outcome] = run(one_room(ROOM.id), booking(0, attendees=party))

    assert outcome.error is not None and outcome.error["code"] == "CAPACITY_EXCEEDED"


def test_deciding_one_request_leaves_the_snapshot_as_it_was() -> None:
    snapshot = existing((0, 1))
    snapshot.rooms[ROOM.id].facts = ROOM
    decide_one(snapshot, requests(booking(3))[0], now=NOW)

    assert len(snapshot.room(ROOM.id).calendar) == 1


# Series


def test_a_free_series_books_every_occurrence_in_one_series() -> None:
    [outcome] = run(one_room(ROOM.id), series([0, 24, 48]))

    assert outcome.status == RequestStatus.SUCCEEDED
    made, *bookings = outcome.effects
    assert isinstance(made, NewSeries)
    assert [b.series_id for b in bookings if isinstance(b, NewBooking)] == [made.id] * 3
    assert outcome.result is not None and outcome.result["series_id"] == str(made.id)
    assert [o["status"] for o in outcome.result["occurrences"]] == ["CONFIRMED"] * 3
    assert outcome.progress == {"total": 3, "done": 3, "confirmed": 3, "rejected": 0}


def test_all_or_nothing_rejects_the_series_for_one_conflict() -> None:
    [outcome] = run(existing((24, 1)), series([0, 24, 48]))

    assert outcome.status == RequestStatus.REJECTED
    assert outcome.effects == ()
    assert outcome.error is not None
    assert outcome.error["message"] == "1 of 3 occurrences conflict; nothing was booked"
    assert "room_id" not in outcome.error
    assert [o["start_time"] for o in outcome.error["occurrences"]] == [at(24).isoformat()]
    assert outcome.result is not None
    assert [o["status"] for o in outcome.result["occurrences"]] == ["SKIPPED"] * 3
    assert outcome.progress == {"total": 3, "done": 3, "confirmed": 0, "rejected": 3}


def test_skip_conflicts_books_the_free_occurrences() -> None:
    [outcome] = run(existing((24, 1)), series([0, 24, 48], policy=ConflictPolicy.SKIP_CONFLICTS))

    assert outcome.status == RequestStatus.SUCCEEDED
    assert outcome.result is not None
    assert [o["status"] for o in outcome.result["occurrences"]] == [
        "CONFIRMED",
        "SKIPPED",
        "CONFIRMED",
    ]
    assert outcome.result["occurrences"][1]["conflicts"][0]["booking_id"] == str(uuid.UUID(int=500))
    assert outcome.progress == {"total": 3, "done": 3, "confirmed": 2, "rejected": 1}


def test_skip_conflicts_with_nothing_free_is_rejected() -> None:
    [outcome] = run(
        existing((0, 1), (24, 1)), series([0, 24], policy=ConflictPolicy.SKIP_CONFLICTS)
    )

    assert outcome.status == RequestStatus.REJECTED


def test_a_series_is_checked_against_itself() -> None:
    [outcome] = run(one_room(ROOM.id), series([0, 0.5], hours=1))

    assert outcome.status == RequestStatus.REJECTED
    assert outcome.error is not None and outcome.error["code"] == "CONFLICT"


def test_a_series_holds_its_slots_against_later_requests() -> None:
    first, second = run(one_room(ROOM.id), series([0, 24]), booking(24.5))

    assert first.status == RequestStatus.SUCCEEDED
    assert second.status == RequestStatus.REJECTED


# Cancellations


def test_a_cancel_frees_the_slot_for_the_next_request() -> None:
    victim = uuid.UUID(int=500)
    cancel, rebook = run(existing((0, 1)), CancelPayload(ROOM.id, victim, "moved"), booking(0))

    assert cancel.status == RequestStatus.SUCCEEDED
    assert cancel.effects == (CancelBooking(victim, ROOM.id, ALICE, "moved"),)
    assert rebook.status == RequestStatus.SUCCEEDED


def test_cancelling_twice_is_refused_the_second_time() -> None:
    victim = uuid.UUID(int=500)
    first, second = run(existing((0, 1)), *[CancelPayload(ROOM.id, victim)] * 2)

    assert first.status == RequestStatus.SUCCEEDED
    assert second.error is not None and second.error["code"] == "NOT_CANCELLABLE"


def test_cancelling_an_unknown_or_ended_booking_is_refused() -> None:
    snapshot = one_room(ROOM.id)
    snapshot.bookings[uuid.UUID(int=9)] = BookingFacts(
        uuid.UUID(int=9), ROOM.id, NOW - 2 * HOUR, NOW - HOUR, BookingStatus.CONFIRMED, BOB
    )
    unknown, ended = run(
        snapshot, CancelPayload(ROOM.id, uuid.UUID(int=8)), CancelPayload(ROOM.id, uuid.UUID(int=9))
    )

    assert unknown.error is not None and unknown.error["code"] == "NOT_FOUND"
    assert ended.error is not None and ended.error["code"] == "NOT_CANCELLABLE"


def test_a_series_cancel_takes_the_occurrences_from_its_cutoff_on() -> None:
    series_id = uuid.UUID(int=77)
    snapshot = existing((0, 1), (24, 1), (48, 1), series_id=series_id)
    [outcome] = run(snapshot, SeriesCancelPayload(ROOM.id, series_id, at(24)))

    cancelled = [e.booking_id for e in outcome.effects if isinstance(e, CancelBooking)]
    assert cancelled == [uuid.UUID(int=501), uuid.UUID(int=502)]
    assert {e.reason for e in outcome.effects if isinstance(e, CancelBooking)} == {
        "series cancelled"
    }
    assert outcome.progress["total"] == 2


# Properties

UNITS = 48  # half-hours in a day: windows fall on a 24 h grid from T0


def _unit(n: int) -> datetime:
    return T0 + timedelta(minutes=30 * n)


_booking = st.builds(
    lambda start, length: BookingPayload(ROOM.id, _unit(start), _unit(start + length), "b"),
    st.integers(0, UNITS),
    st.integers(1, 6),
)
_series = st.builds(
    lambda start, length, count, gap, policy: SeriesPayload(
        booking=BookingPayload(ROOM.id, _unit(start), _unit(start + length), "s"),
        timezone="UTC",
        rule={"freq": "DAILY", "count": count},
        conflict_policy=policy,
        occurrences=tuple(
            Occurrence(_unit(start + i * gap), _unit(start + i * gap + length))
            for i in range(count)
        ),
    ),
    st.integers(0, UNITS),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(4, 12),  # gap ≥ length: a series never overlaps itself here
    st.sampled_from(list(ConflictPolicy)),
)
# Booking ids come from a counter (1, 2, …) and pre-existing ones are 1000+: a cancel
# of a small id often hits a booking granted earlier in the same sequence.
_cancel = st.builds(
    lambda n: CancelPayload(ROOM.id, uuid.UUID(int=n)),
    st.one_of(st.integers(1, 12), st.integers(1000, 1003)),
)
_payloads = st.lists(st.one_of(_booking, _series, _cancel), min_size=1, max_size=12)
_existing = st.lists(st.tuples(st.integers(0, UNITS), st.integers(1, 4)), max_size=4)


def _initial(windows: list[tuple[int, int]]) -> dict[uuid.UUID, BookingFacts]:
    """Non-overlapping confirmed bookings (later overlapping windows are dropped)."""
    kept: dict[uuid.UUID, BookingFacts] = {}
    for i, (start, length) in enumerate(windows):
        facts = BookingFacts(
            uuid.UUID(int=1000 + i),
            ROOM.id,
            _unit(start),
            _unit(start + length),
            BookingStatus.CONFIRMED,
            BOB,
        )
        if all(not (facts.start < k.end and k.start < facts.end) for k in kept.values()):
            kept[facts.id] = facts
    return kept


def _snapshot(bookings: dict[uuid.UUID, BookingFacts]) -> Snapshot:
    confirmed = [b for b in bookings.values() if b.status == BookingStatus.CONFIRMED]
    calendar = RoomCalendar([Slot(b.start, b.end, b.id) for b in confirmed])
    return one_room(ROOM, calendar=calendar, bookings=bookings.values())


@settings(max_examples=300, deadline=None)
@given(_existing, _payloads)
def test_a_batch_decides_as_its_requests_one_by_one_and_never_overlaps(
    windows: list[tuple[int, int]], payloads: list[RoomPayload]
) -> None:
    initial = _initial(windows)
    pending = requests(*payloads)

    together = _snapshot(initial)
    at_once = decide(together, pending, now=NOW, new_id=ids()).outcomes

    # One at a time, as separate transactions would: reload the state before each.
    state = dict(initial)
    new_id = ids()
    one_by_one = []
    for request in pending:
        snapshot = _snapshot(state)
        [outcome] = decide(snapshot, [request], now=NOW, new_id=new_id).outcomes
        one_by_one.append(outcome)
        state = snapshot.bookings

    assert at_once == one_by_one
    confirmed = sorted(
        (b.start, b.end) for b in together.bookings.values() if b.status == BookingStatus.CONFIRMED
    )
    for (_, end), (next_start, _) in itertools.pairwise(confirmed):
        assert end <= next_start, confirmed
    granted = [e for o in at_once for e in o.effects if isinstance(e, NewBooking)]
    assert all(o.status != RequestStatus.FAILED for o in at_once)
    assert len({b.id for b in granted}) == len(granted)


def test_a_series_shifted_into_the_past_is_refused_or_skips_what_would_be_there() -> None:
    """A shift is applied at decision: an occurrence it would put in the past is
    NOT_CHANGEABLE (the whole change with all_or_nothing; that one with skip_conflicts)."""
    series_id = uuid.UUID(int=77)
    back = -60 * 60  # minutes: the first occurrence (in 48 hours) to 12 hours ago

    def shift(policy: ConflictPolicy) -> Outcome:
        payload = SeriesChangePayload(ROOM.id, series_id, NOW, "UTC", policy, shift_minutes=back)
        [outcome] = run(existing((24, 1), (48, 1), series_id=series_id), payload)
        return outcome

    whole, skipping = shift(ConflictPolicy.ALL_OR_NOTHING), shift(ConflictPolicy.SKIP_CONFLICTS)

    assert whole.status == RequestStatus.REJECTED and whole.effects == ()
    assert whole.error is not None and whole.error["code"] == "NOT_CHANGEABLE"
    assert skipping.status == RequestStatus.SUCCEEDED
    assert [o["status"] for o in skipping.result["occurrences"]] == ["SKIPPED", "CONFIRMED"]
    assert skipping.result["occurrences"][0]["code"] == "NOT_CHANGEABLE"
    [moved] = skipping.effects
    assert isinstance(moved, ChangeBooking) and moved.start == at(-12)
