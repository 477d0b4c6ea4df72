"""models/domain/engine/ with room rules: policies, buffers, quotas, closures,
approvals and the waitlist, decided without a server (issue 11)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from models.domain.calendar import RoomCalendar, Slot
from models.domain.engine import (
    ApproveBooking,
    BookingFacts,
    CancelBooking,
    Closure,
    NewBooking,
    NewClosure,
    RoomFacts,
    RoomRequest,
    Snapshot,
    decide,
)
from models.domain.lifecycle import BookingEvent
from models.domain.payloads import (
    ApprovalPayload,
    BookingPayload,
    CancelPayload,
    ClosurePayload,
    RoomPayload,
    SeriesPayload,
)
from models.domain.policy import RoomPolicy, parse_policy
from models.domain.recurrence import Occurrence
from models.domain.states import BookingStatus, ConflictPolicy, RequestStatus
from tests.unit.one_room import one_room

ROOM_ID = uuid.UUID(int=7)
ALICE, BOB, CAROL, APPROVER = (uuid.UUID(int=n) for n in (100, 200, 300, 400))
T0 = datetime(2030, 1, 7, 9, tzinfo=UTC)  # a Monday, 09:00 UTC
NOW = T0 - timedelta(days=1)
MIN = timedelta(minutes=1)
# run()'s requests are accepted after every waiter a test puts on the waitlist (seqs
# below this), as in a room's queue: the engine orders waiters and requests by seq.
FIRST_SEQ = 100


def room(active: bool = True, zone: str = "UTC", **policy: object) -> RoomFacts:
    return RoomFacts(ROOM_ID, active, 10, zone, parse_policy(policy))


def at(minutes: float, base: datetime = T0) -> datetime:
    return base + timedelta(minutes=minutes)


def booking(start: float, minutes: float = 60, **extra: object) -> BookingPayload:
    return BookingPayload(ROOM_ID, at(start), at(start + minutes), "b", **extra)  # type: ignore[arg-type]


def series(
    starts: list[datetime],
    minutes: float = 60,
    policy: ConflictPolicy = ConflictPolicy.SKIP_CONFLICTS,
) -> SeriesPayload:
    occurrences = tuple(Occurrence(s, s + timedelta(minutes=minutes)) for s in starts)
    first = BookingPayload(ROOM_ID, occurrences[0].start, occurrences[0].end, "s")
    return SeriesPayload(first, "UTC", {"freq": "DAILY"}, policy, occurrences)


def run(
    facts: RoomFacts,
    snapshot: Snapshot,
    *payloads: RoomPayload | tuple[uuid.UUID, RoomPayload],
    admin: bool = False,
    now: datetime = NOW,
) -> list:
    """Decide the payloads (ALICE's, or (requester, payload)) in the room with these facts."""
    snapshot.rooms[ROOM_ID].facts = facts
    requests = []
    for i, item in enumerate(payloads):
        who, payload = item if isinstance(item, tuple) else (ALICE, item)
        request = RoomRequest(uuid.UUID(int=10_000 + i), FIRST_SEQ + i, who, payload, admin)
        requests.append(request)
    counter = iter(range(1, 1_000_000))
    decision = decide(snapshot, requests, now=now, new_id=lambda *_: uuid.UUID(int=next(counter)))
    return decision.outcomes


def held(
    *windows: tuple[float, float],
    status: BookingStatus = BookingStatus.CONFIRMED,
    organizer: uuid.UUID = BOB,
) -> Snapshot:
    """A snapshot holding bookings at (start minute, minutes) windows from T0."""
    snapshot = one_room(ROOM_ID)
    for i, (start, minutes) in enumerate(windows):
        facts = BookingFacts(
            uuid.UUID(int=500 + i), ROOM_ID, at(start), at(start + minutes), status, organizer
        )
        snapshot.bookings[facts.id] = facts
        snapshot.hold(ROOM_ID, facts.id, organizer, facts.start, facts.end)
    return snapshot


def code(outcome: object) -> str | None:
    error = outcome.error  # type: ignore[attr-defined]
    return None if error is None else error["code"]


# Policies, to every occurrence


def test_a_policy_refusal_names_its_rule() -> None:
    [outcome] = run(room(max_duration_minutes=30), one_room(ROOM_ID), booking(0, 45))

    assert outcome.status == RequestStatus.REJECTED
    assert outcome.error["code"] == "DURATION_OUT_OF_POLICY"
    assert outcome.error["rule"] == {"name": "max_duration_minutes", "limit": 30}
    assert "room_id" not in outcome.error  # only a request naming several rooms names one


def test_admins_and_approvers_are_held_to_conflicts_buffers_and_closures_only() -> None:
    strict = room(
        max_duration_minutes=30,
        min_notice_minutes=10_000,
        buffer_minutes=15,
        approvers=[str(APPROVER)],
    )
    [by_admin] = run(strict, one_room(ROOM_ID), booking(0, 45), admin=True)
    [by_approver] = run(strict, one_room(ROOM_ID), (APPROVER, booking(0, 45)))
    [too_close] = run(strict, held((-60, 50)), booking(0, 45), admin=True)
    closed = one_room(ROOM_ID, closures=[Closure(uuid.UUID(int=1), at(-10), at(10))])
    [in_closure] = run(strict, closed, booking(0, 45), admin=True)

    assert by_admin.status == by_approver.status == RequestStatus.SUCCEEDED
    assert code(too_close) == "CONFLICT"
    assert code(in_closure) == "ROOM_CLOSED"


def test_a_buffer_blocks_a_start_too_close_and_names_the_booking() -> None:
    buffered = room(buffer_minutes=10)
    [early] = run(buffered, held((-60, 60)), booking(5))  # the booking ends at T0
    [just] = run(buffered, held((-60, 60)), booking(10))
    [before] = run(buffered, held((70, 60)), booking(0))  # ends 60, next starts 70: fine
    [tight] = run(buffered, held((65, 60)), booking(0))

    assert code(early) == "CONFLICT"
    assert early.error["conflicts"][0]["booking_id"] == str(uuid.UUID(int=500))
    assert "10 minutes" in early.error["message"]
    assert just.status == before.status == RequestStatus.SUCCEEDED
    assert code(tight) == "CONFLICT"


def test_every_occurrence_of_a_series_is_held_to_the_policy() -> None:
    starts = [at(0) + timedelta(days=d) for d in range(5)]  # Monday to Friday 09:00 UTC
    hours = {"MO": [["08:00", "18:00"]], "WE": [["08:00", "18:00"]], "FR": [["08:00", "18:00"]]}
    [skipping] = run(room(opening_hours=hours), one_room(ROOM_ID), series(starts))
    [strict] = run(
        room(opening_hours=hours),
        one_room(ROOM_ID),
        series(starts, policy=ConflictPolicy.ALL_OR_NOTHING),
    )

    entries = skipping.result["occurrences"]
    assert [e["status"] for e in entries] == [
        "CONFIRMED",
        "SKIPPED",
        "CONFIRMED",
        "SKIPPED",
        "CONFIRMED",
    ]
    assert {e.get("code") for e in entries if e["status"] == "SKIPPED"} == {"OUTSIDE_OPENING_HOURS"}
    assert skipping.progress == {"total": 5, "done": 5, "confirmed": 3, "rejected": 2}
    assert strict.status == RequestStatus.REJECTED
    assert strict.error["code"] == "OUTSIDE_OPENING_HOURS"
    assert strict.error["rule"]["name"] == "opening_hours"
    assert [e["start_time"] for e in strict.error["occurrences"]] == [
        starts[1].isoformat(),
        starts[3].isoformat(),
    ]


def test_the_horizon_holds_for_the_last_occurrences_too() -> None:
    starts = [at(0) + timedelta(days=30 * i) for i in range(4)]
    [outcome] = run(room(horizon_days=70), one_room(ROOM_ID), series(starts))

    assert [e.get("code") for e in outcome.result["occurrences"]] == [
        None,
        None,
        None,
        "BEYOND_HORIZON",
    ]


# Quotas


def test_a_daily_quota_counts_pending_and_confirmed_minutes_of_the_requester() -> None:
    quota = room(max_minutes_per_user_per_day=120)
    snapshot = held((0, 60), organizer=ALICE)
    snapshot.hold(ROOM_ID, uuid.UUID(int=900), ALICE, at(120), at(150))  # a PENDING one counts too
    [over] = run(quota, snapshot, booking(200, 45))
    [fits] = run(quota, held((0, 60), organizer=ALICE), booking(200, 60))
    [other_user] = run(quota, held((0, 60), organizer=BOB), booking(200, 120))

    assert code(over) == "QUOTA_EXCEEDED"
    assert over.error["rule"] == {"name": "max_minutes_per_user_per_day", "limit": 120}
    assert fits.status == other_user.status == RequestStatus.SUCCEEDED


def test_a_series_counts_its_own_occurrences_toward_the_weekly_quota() -> None:
    starts = [at(0) + timedelta(days=d) for d in range(5)]  # 5 hours in one ISO week
    [outcome] = run(room(max_minutes_per_user_per_week=180), one_room(ROOM_ID), series(starts))

    assert [e["status"] for e in outcome.result["occurrences"]] == ["CONFIRMED"] * 3 + [
        "SKIPPED"
    ] * 2
    assert outcome.result["occurrences"][3]["rule"]["name"] == "max_minutes_per_user_per_week"


def test_a_quota_week_is_the_local_iso_week_across_a_dst_change() -> None:
    """Europe/Berlin springs forward on Sunday 2030-03-31: the week of Monday 25 March runs
    from 24:00 UTC on Sunday 24th (CET) to 22:00 UTC on Sunday 31st (CEST), 167 hours."""
    berlin = room(zone="Europe/Berlin", max_minutes_per_user_per_week=120)
    sunday_late = datetime(2030, 3, 31, 21, tzinfo=UTC)  # 23:00 CEST, still that week
    monday_early = datetime(2030, 3, 31, 22, 30, tzinfo=UTC)  # 00:30 CEST, the next week
    snapshot = one_room(ROOM_ID)
    snapshot.hold(
        ROOM_ID,
        uuid.UUID(int=1),
        ALICE,
        datetime(2030, 3, 25, 8, tzinfo=UTC),
        datetime(2030, 3, 25, 9, 30, tzinfo=UTC),
    )  # 90 minutes on Monday
    now = datetime(2030, 3, 1, tzinfo=UTC)
    same_week = BookingPayload(ROOM_ID, sunday_late, sunday_late + 45 * MIN, "late")
    next_week = BookingPayload(ROOM_ID, monday_early, monday_early + 45 * MIN, "early")
    [over, fits] = run(berlin, snapshot, same_week, next_week, now=now)

    assert code(over) == "QUOTA_EXCEEDED"
    assert fits.status == RequestStatus.SUCCEEDED


def test_a_quota_day_of_25_hours_counts_the_minutes_in_it() -> None:
    """Berlin falls back on Sunday 2030-10-27: that local day lasts 25 hours. A booking from
    22:00 to 01:00 local on the night before counts 120 minutes on Saturday, 60 on Sunday."""
    berlin = room(zone="Europe/Berlin", max_minutes_per_user_per_day=100)
    start = datetime(2030, 10, 26, 20, tzinfo=UTC)  # Saturday 22:00 CEST
    now = datetime(2030, 10, 1, tzinfo=UTC)
    [night] = run(
        berlin, one_room(ROOM_ID), BookingPayload(ROOM_ID, start, start + 180 * MIN, "n"), now=now
    )
    sunday = datetime(2030, 10, 27, 12, tzinfo=UTC)

    def with_sunday_hour() -> Snapshot:
        snapshot = one_room(ROOM_ID)
        snapshot.hold(ROOM_ID, uuid.UUID(int=1), ALICE, start + 120 * MIN, start + 180 * MIN)
        return snapshot

    [afternoon] = run(
        berlin, with_sunday_hour(), BookingPayload(ROOM_ID, sunday, sunday + 40 * MIN, "a"), now=now
    )
    [one_more] = run(
        berlin, with_sunday_hour(), BookingPayload(ROOM_ID, sunday, sunday + 41 * MIN, "a"), now=now
    )

    assert code(night) == "QUOTA_EXCEEDED"  # 120 minutes on the Saturday
    assert afternoon.status == RequestStatus.SUCCEEDED  # 60 + 40 = 100
    assert code(one_more) == "QUOTA_EXCEEDED"


# Closures


def test_a_closure_cancels_what_it_covers_and_refuses_later_requests() -> None:
    snapshot = held((0, 60), (120, 60), (600, 60))
    snapshot.bookings[uuid.UUID(int=510)] = BookingFacts(
        uuid.UUID(int=510),
        ROOM_ID,
        NOW - 3 * 60 * MIN,
        NOW - 60 * MIN,
        BookingStatus.CONFIRMED,
        BOB,
    )  # already over: stays as it was
    close = ClosurePayload(ROOM_ID, NOW - 4 * 60 * MIN, at(300), "painting")
    [closed, refused, after] = run(room(), snapshot, close, booking(200), booking(300))

    cancels = [e for e in closed.effects if isinstance(e, CancelBooking)]
    assert [c.booking_id for c in cancels] == [uuid.UUID(int=500), uuid.UUID(int=501)]
    assert {(c.reason, c.event, c.note) for c in cancels} == {
        ("ROOM_CLOSED", BookingEvent.CLOSE, "painting")
    }
    assert isinstance(closed.effects[0], NewClosure)
    assert closed.result["cancelled"] == [str(c.booking_id) for c in cancels]
    assert code(refused) == "ROOM_CLOSED"
    assert after.status == RequestStatus.SUCCEEDED  # back-to-back with the closure's end


# Approvals


def test_in_a_room_that_requires_approval_a_booking_is_pending_and_holds_its_slot() -> None:
    approval = room(requires_approval=True, approvers=[str(APPROVER)])
    first, second, own = run(
        approval, one_room(ROOM_ID), booking(0), (BOB, booking(30)), (APPROVER, booking(120))
    )

    [new] = first.confirmed
    assert new.status == BookingStatus.PENDING
    assert first.result["booking_status"] == "PENDING"
    assert code(second) == "CONFLICT"
    assert own.confirmed[0].status == BookingStatus.CONFIRMED  # an approver needs nobody


def test_approve_decline_and_not_pending() -> None:
    snapshot = held((0, 60), status=BookingStatus.PENDING)
    pending = uuid.UUID(int=500)
    approve, again = run(
        room(),
        snapshot,
        (APPROVER, ApprovalPayload(ROOM_ID, pending, approve=True)),
        (APPROVER, ApprovalPayload(ROOM_ID, pending, approve=False, reason="no")),
    )
    [decline] = run(
        room(),
        held((0, 60), status=BookingStatus.PENDING),
        (APPROVER, ApprovalPayload(ROOM_ID, pending, approve=False, reason="board only")),
    )

    assert approve.effects == (ApproveBooking(pending, ROOM_ID, APPROVER),)
    assert code(again) == "NOT_PENDING"
    assert decline.effects == (
        CancelBooking(pending, ROOM_ID, APPROVER, "DECLINED", BookingEvent.DECLINE, "board only"),
    )


def test_approving_after_the_start_expires_the_booking_instead() -> None:
    [late] = run(
        room(),
        held((0, 60), status=BookingStatus.PENDING),
        ApprovalPayload(ROOM_ID, uuid.UUID(int=500), approve=True),
        now=at(1),
    )

    assert code(late) == "NOT_PENDING"
    assert late.effects == (
        CancelBooking(uuid.UUID(int=500), ROOM_ID, None, "APPROVAL_EXPIRED", BookingEvent.EXPIRE),
    )


# The waitlist


def test_a_conflicting_booking_with_waitlist_waits_and_is_promoted_when_the_slot_frees() -> None:
    snapshot = held((0, 60))
    outcomes = run(
        room(),
        snapshot,
        (CAROL, booking(0, waitlist=True)),
        (ALICE, booking(30, waitlist=True)),
        CancelPayload(ROOM_ID, uuid.UUID(int=500)),
        (BOB, booking(0)),  # accepted after the waiters: they go first
    )
    by_request: dict[uuid.UUID, list[RequestStatus]] = {}
    for outcome in outcomes:
        by_request.setdefault(outcome.request_id, []).append(outcome.status)

    first_waiter, second_waiter, _, late = (uuid.UUID(int=10_000 + i) for i in range(4))
    assert by_request[first_waiter] == [RequestStatus.WAITLISTED, RequestStatus.SUCCEEDED]
    assert by_request[second_waiter] == [RequestStatus.WAITLISTED]  # still in the way
    assert by_request[late] == [RequestStatus.REJECTED]
    promoted = [o for o in outcomes if o.request_id == first_waiter][-1].confirmed[0]
    assert promoted.from_waitlist
    assert [w.id for w in snapshot.waitlist] == [second_waiter]


def test_only_a_conflict_puts_a_request_on_the_waitlist() -> None:
    [too_long] = run(room(max_duration_minutes=30), held((0, 60)), booking(0, 45, waitlist=True))
    [closed] = run(
        room(),
        one_room(ROOM_ID, closures=[Closure(uuid.UUID(int=1), at(0), at(60))]),
        booking(0, waitlist=True),
    )

    assert code(too_long) == "DURATION_OUT_OF_POLICY"
    assert too_long.status == closed.status == RequestStatus.REJECTED


def test_a_waiter_refused_by_another_rule_on_promotion_is_rejected_with_it() -> None:
    snapshot = held((0, 60))
    [waits] = run(room(), snapshot, booking(0, waitlist=True))
    snapshot.waitlist = [RoomRequest(waits.request_id, 1, ALICE, booking(0, waitlist=True))]
    # The room's policy changed meanwhile: an hour is now too long.
    [cancel, promoted] = run(
        room(max_duration_minutes=30), snapshot, CancelPayload(ROOM_ID, uuid.UUID(int=500))
    )

    assert waits.status == RequestStatus.WAITLISTED
    assert cancel.status == RequestStatus.SUCCEEDED
    assert promoted.request_id == waits.request_id
    assert code(promoted) == "DURATION_OUT_OF_POLICY"
    assert snapshot.waitlist == []


def test_a_waiter_whose_start_has_passed_expires_on_promotion() -> None:
    snapshot = held((0, 60))
    snapshot.waitlist = [RoomRequest(uuid.UUID(int=1), 1, ALICE, booking(0, waitlist=True))]
    [_, expired] = run(room(), snapshot, CancelPayload(ROOM_ID, uuid.UUID(int=500)), now=at(5))

    assert code(expired) == "WAITLIST_EXPIRED"


def test_two_cancellations_promote_each_waiter_once_in_acceptance_order() -> None:
    snapshot = held((0, 60), (120, 60))
    snapshot.waitlist = [
        RoomRequest(uuid.UUID(int=1), 1, ALICE, booking(0, 180, waitlist=True)),  # needs both
        RoomRequest(uuid.UUID(int=2), 2, BOB, booking(0, 60, waitlist=True)),
        RoomRequest(uuid.UUID(int=3), 3, CAROL, booking(120, 60, waitlist=True)),
    ]
    outcomes = run(
        room(),
        snapshot,
        CancelPayload(ROOM_ID, uuid.UUID(int=500)),
        CancelPayload(ROOM_ID, uuid.UUID(int=501)),
    )
    promoted = [o for o in outcomes if o.status == RequestStatus.SUCCEEDED and o.confirmed]

    # After the first cancel only BOB's slot is free (ALICE still blocked at 120); after
    # the second, CAROL's. ALICE is never skipped unfairly: her window is never free.
    assert [o.request_id for o in promoted] == [uuid.UUID(int=2), uuid.UUID(int=3)]
    assert [w.id for w in snapshot.waitlist] == [uuid.UUID(int=1)]
    bookings = [b for o in outcomes for b in o.confirmed]
    assert len({b.request_id for b in bookings}) == len(bookings)


def test_a_closure_promotes_or_rejects_the_waiters() -> None:
    snapshot = held((0, 60))
    snapshot.waitlist = [
        RoomRequest(uuid.UUID(int=1), 1, ALICE, booking(0, 60, waitlist=True)),
        RoomRequest(uuid.UUID(int=2), 2, BOB, booking(30, 60, waitlist=True)),
    ]
    close = ClosurePayload(ROOM_ID, at(0), at(60), None)
    closed, first, second = run(room(), snapshot, close)

    assert closed.status == RequestStatus.SUCCEEDED
    assert code(first) == "ROOM_CLOSED"
    assert code(second) == "ROOM_CLOSED"  # it overlaps the closure too


def test_the_snapshot_tracks_new_and_cancelled_bookings_for_quota_and_calendar() -> None:
    calendar = RoomCalendar([Slot(at(0), at(60), uuid.UUID(int=9))])
    snapshot = one_room(room(), calendar=calendar)
    new = NewBooking(
        uuid.UUID(int=1), uuid.UUID(int=2), ROOM_ID, ALICE, at(100), at(160), booking(100)
    )
    snapshot.apply([new])
    state = snapshot.room(ROOM_ID)
    assert state.booked[ALICE].windows == {new.id: (at(100), at(160))}
    snapshot.apply([CancelBooking(new.id, ROOM_ID, ALICE, None)])
    assert state.booked[ALICE].windows == {}
    assert len(state.calendar) == 1
    assert RoomPolicy().buffer == timedelta(0)
