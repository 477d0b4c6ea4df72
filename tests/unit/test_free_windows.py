"""models/domain/free_windows.py: the windows find-time offers are windows the decider
would grant (hypothesis, against the engine's own checks, in zones with clock changes),
and in a zone without clock changes they are exactly the starts of the free stretches.

The search is given a room's free spans, as the service's query over ranges computes
them (models/services/find_time.py): here `free_of` works them out from the bookings,
the buffer and the closures, and the checks look at the bookings themselves."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.domain.calendar import RoomCalendar, Slot
from models.domain.engine import Closure, RoomFacts, RoomRequest
from models.domain.engine.checks import refuse_in_room
from models.domain.free_windows import FreeWindow, RoomTimes, earliest_windows
from models.domain.payloads import BookingPayload
from models.domain.policy import WEEKDAYS, RoomPolicy, parse_policy
from models.domain.rules import check_window
from models.errors import ValidationFailed
from tests.unit.one_room import one_room

ROOM = uuid.UUID(int=7)
STEP = timedelta(minutes=5)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
STEADY_ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu"]  # no clock changes


def clock_changes(zone: str) -> list[datetime]:
    """Midnight UTC the day before each of the zone's clock changes in 2030."""
    tz = ZoneInfo(zone)
    days = [datetime(2030, 1, 1, tzinfo=UTC) + timedelta(days=i) for i in range(366)]
    return [
        day - timedelta(days=1)
        for day, after in itertools.pairwise(days)
        if day.astimezone(tz).utcoffset() != after.astimezone(tz).utcoffset()
    ]


BASES = [datetime(2030, 1, 7, tzinfo=UTC)] + [d for z in ZONES for d in clock_changes(z)]


@dataclass(frozen=True)
class Room:
    """A room's calendar, as the decider sees it."""

    zone: str
    policy: RoomPolicy
    bookings: list[tuple[datetime, datetime]]
    closures: list[tuple[datetime, datetime]]
    exempt: bool  # the caller is an admin


@dataclass(frozen=True)
class Case:
    room: Room
    duration: timedelta
    start: datetime
    end: datetime
    now: datetime
    limit: int
    only_long_spans: bool = False  # as the database sends them


def free_of(room: Room, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) no booking (widened by the buffer) nor closure covers."""
    buffer = room.policy.buffer
    blocked = sorted([(s - buffer, e + buffer) for s, e in room.bookings] + room.closures)
    free, at = [], start
    for block_start, block_end in blocked:
        if block_start > at:
            free.append((at, min(block_start, end)))
        at = max(at, block_end)
    free.append((at, end))
    return [(s, e) for s, e in free if s < e]


def room_times(case: Case) -> RoomTimes:
    room = case.room
    free = free_of(room, case.start - timedelta(days=2), case.end + timedelta(days=2))
    if case.only_long_spans:
        free = [(s, e) for s, e in free if e - s >= case.duration]
    return RoomTimes(ROOM, room.zone, room.policy, free, exempt=room.exempt)


def _clock(quarter: int) -> str:
    return "24:00" if quarter == 96 else f"{quarter // 4:02d}:{quarter % 4 * 15:02d}"


@st.composite
def opening_hours(draw: st.DrawFn, *, lowest: int) -> dict[str, list[list[str]]] | None:
    """Intervals on a 15-minute grid, apart from each other (never end to end)."""
    if draw(st.booleans()):
        return None
    hours = {}
    for day in draw(st.sets(st.sampled_from(WEEKDAYS))):
        near_a_clock_change = st.integers(6, 14)  # 01:30-03:30, where clocks change
        points = sorted(draw(st.sets(st.integers(lowest, 96) | near_a_clock_change, max_size=6)))
        hours[day] = [
            [_clock(a), _clock(b)] for a, b in zip(points[::2], points[1::2], strict=False)
        ]
    return hours


@st.composite
def policies(draw: st.DrawFn, *, lowest: int = 0) -> RoomPolicy:
    low = draw(st.none() | st.integers(1, 24).map(lambda n: 5 * n))
    high = draw(st.none() | st.integers(low or 5, 600))
    return parse_policy(
        {
            "opening_hours": draw(opening_hours(lowest=lowest)),
            "buffer_minutes": draw(st.none() | st.sampled_from([0, 5, 10, 30, 60])),
            "min_notice_minutes": draw(st.none() | st.integers(0, 48).map(lambda n: 30 * n)),
            "horizon_days": draw(st.none() | st.integers(0, 3)),
            "min_duration_minutes": low,
            "max_duration_minutes": high,
        }
    )


def _spans(base: datetime, count: int) -> st.SearchStrategy[list[tuple[datetime, datetime]]]:
    span = st.tuples(st.integers(-200, 1000), st.integers(1, 60)).map(
        lambda s: (base + s[0] * STEP, base + (s[0] + s[1]) * STEP)
    )
    return st.lists(span, max_size=count)


@st.composite
def cases(draw: st.DrawFn, *, zones: list[str], steady: bool = False) -> Case:
    base = draw(st.sampled_from(BASES))
    start = base + draw(st.integers(0, 200)) * STEP
    end = start + draw(st.integers(1, 500)) * STEP
    now = base + draw(st.integers(-300, 300)) * STEP
    if not steady:  # a clock that is not on the grid: windows still start on a minute
        now += timedelta(seconds=draw(st.integers(0, 299)), microseconds=draw(st.integers(0, 9)))
    room = Room(
        draw(st.sampled_from(zones)),
        draw(policies(lowest=1 if steady else 0)),  # steady: no 00:00 after a 24:00
        draw(_spans(base, 12)),
        draw(_spans(base, 2)),
        exempt=draw(st.booleans()),
    )
    duration = draw(st.integers(1, 72)) * STEP
    limit, long_spans = draw(st.integers(1, 30)), draw(st.booleans())
    return Case(room, duration, start, end, now, limit, long_spans)


def decider_grants(case: Case, start: datetime) -> bool:
    """What the worker would say of a booking of this room for [start, start + duration),
    asked now by an admin (the exempt case) or a user: the acceptance checks, then the
    room's own (closures, policy, buffered conflicts), in models/domain/engine/checks.py."""
    end = start + case.duration
    try:
        check_window(start, end, now=case.now)
    except ValidationFailed:
        return False
    room = case.room
    facts = RoomFacts(ROOM, True, 10, room.zone, room.policy)
    calendar = RoomCalendar([Slot(s, e, uuid.uuid4()) for s, e in room.bookings])
    closures = [Closure(uuid.uuid4(), s, e) for s, e in room.closures]
    snapshot = one_room(facts, calendar=calendar, closures=closures)
    requester = uuid.UUID(int=1)
    payload = BookingPayload(ROOM, start, end, "t")
    request = RoomRequest(uuid.uuid4(), 1, requester, payload, requester_is_admin=room.exempt)
    return (
        refuse_in_room(snapshot, request, ROOM, start, end, organizer=requester, now=case.now)
        is None
    )


def found(case: Case, limit: int | None = None) -> list[FreeWindow]:
    return earliest_windows(
        [room_times(case)],
        duration=case.duration,
        start=case.start,
        end=case.end,
        now=case.now,
        limit=limit or case.limit,
    )


@settings(max_examples=500, deadline=None)
@given(cases(zones=ZONES))
def test_every_window_is_one_the_decider_would_grant(case: Case) -> None:
    windows = found(case)
    assert len(windows) <= case.limit
    starts = [w.start_time for w in windows]
    assert starts == sorted(starts), "earliest first"
    for window in windows:
        assert window.room_id == ROOM
        assert window.end_time - window.start_time == case.duration
        assert case.start <= window.start_time and window.end_time <= case.end, "in [from, to)"
        assert window.start_time >= case.now and window.start_time.second == 0
        assert window.start_time.utcoffset() == timedelta(0)
        buffer = case.room.policy.buffer
        for s, e in case.room.bookings:
            assert not (s < window.end_time + buffer and window.start_time < e + buffer)
        for s, e in case.room.closures:
            assert not (s < window.end_time and window.start_time < e)
        assert decider_grants(case, window.start_time), window  # hours, notice, horizon, ...


@settings(max_examples=300, deadline=None)
@given(cases(zones=STEADY_ZONES, steady=True))
def test_the_windows_are_the_starts_of_the_free_stretches(case: Case) -> None:
    """On a 5-minute grid (every input is on it), the windows start exactly where a run
    of starts the decider grants begins: none is missed, and one per free stretch."""
    granted = set()
    at = case.start
    while at + case.duration <= case.end:
        if at >= case.now and decider_grants(case, at):
            granted.add(at)
        at += STEP
    expected = sorted(t for t in granted if t - STEP not in granted)
    assert [w.start_time for w in found(case, limit=10_000)] == expected


def test_rooms_merge_earliest_first_and_a_tie_goes_to_the_room_given_first() -> None:
    now = datetime(2030, 1, 7, 6, tzinfo=UTC)
    nine = datetime(2030, 1, 7, 9, tzinfo=UTC)
    hour = timedelta(hours=1)
    day = (nine - 9 * hour, nine + 15 * hour)
    rooms = [
        RoomTimes(uuid.UUID(int=1), "UTC", RoomPolicy(), [(day[0], nine), (nine + hour, day[1])]),
        RoomTimes(uuid.UUID(int=2), "UTC", RoomPolicy(), [day]),
        RoomTimes(uuid.UUID(int=3), "UTC", RoomPolicy(), [(day[0], nine - hour), (nine, day[1])]),
    ]
    windows = earliest_windows(
        rooms, duration=hour, start=nine - hour, end=nine + 3 * hour, now=now, limit=4
    )
    assert [(w.room_id.int, w.start_time - nine) for w in windows] == [
        (1, -hour),  # before its booking
        (2, -hour),  # free all along: one window, at the start of its stretch
        (3, timedelta(0)),  # after its booking
        (1, hour),  # after its booking
    ]


@pytest.mark.parametrize(
    ("policy", "exempt", "expected"),
    [
        ({"max_duration_minutes": 30}, False, []),  # an hour is too long for a user
        ({"max_duration_minutes": 30}, True, [9]),  # not for an admin or an approver
        ({"min_notice_minutes": 240}, False, [10]),  # now is 06:00
        ({"horizon_days": 0}, False, []),  # nothing after now
        ({"opening_hours": {"MO": [["10:00", "12:00"]]}}, False, [9]),  # 10:00 in Berlin
        ({"opening_hours": {"TU": [["10:00", "12:00"]]}}, False, []),
    ],
)
def test_the_policy_binds_the_caller_it_binds(
    policy: dict[str, Any], exempt: bool, expected: list[int]
) -> None:
    now = datetime(2030, 1, 7, 6, tzinfo=UTC)  # a Monday
    free = [(now - timedelta(days=1), now + timedelta(days=1))]
    room = RoomTimes(ROOM, "Europe/Berlin", parse_policy(policy), free, exempt=exempt)
    windows = earliest_windows(
        [room],
        duration=timedelta(hours=1),
        start=now + timedelta(hours=3),
        end=now + timedelta(hours=8),
        now=now,
        limit=5,
    )
    assert [w.start_time.hour for w in windows] == expected


def test_spans_too_short_or_outside_the_search_change_nothing() -> None:
    now = datetime(2030, 1, 7, 6, tzinfo=UTC)
    nine, hour = now + 3 * timedelta(hours=1), timedelta(hours=1)
    free = [(now - 2 * hour, now + hour), (nine, nine + hour / 2), (nine + hour, nine + 3 * hour)]
    room = RoomTimes(ROOM, "UTC", RoomPolicy(), free)
    windows = earliest_windows(
        [room], duration=hour, start=nine - hour, end=nine + 2 * hour, now=now, limit=5
    )
    assert [(w.start_time, w.end_time) for w in windows] == [(nine + hour, nine + 2 * hour)]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


SPRING_BERLIN, FALL_BERLIN, SPRING_NEW_YORK = "2030-03-31", "2030-10-27", "2030-03-10"


@pytest.mark.parametrize(
    ("zone", "day", "hours", "booked", "minutes", "expected"),
    [
        # Berlin springs forward at 02:00 (to 03:00): 02:30 never happens. A room open
        # 01:00-02:30 is taken to close at 01:30 CET (00:30 UTC), the earlier of the two
        # ways to read 02:30: an hour from 01:00 CET would end at 03:00 CEST, past 02:30
        # on the wall clock.
        ("Europe/Berlin", SPRING_BERLIN, [["01:00", "02:30"]], [], 60, []),
        ("Europe/Berlin", SPRING_BERLIN, [["01:00", "02:30"]], [], 30, ["00:00"]),
        # Berlin falls back at 03:00 (to 02:00): 02:30 happens twice. Open from 02:30, a
        # start at 02:10 of the second pass (01:10 UTC) reads before it: the first
        # window is at the second 02:30 (01:30 UTC).
        ("Europe/Berlin", FALL_BERLIN, [["02:30", "05:00"]], [("00:30", "01:10")], 30, ["01:30"]),
        # New York springs forward at 02:00 (to 03:00): the same, five hours later.
        ("America/New_York", SPRING_NEW_YORK, [["01:00", "02:30"]], [], 60, []),
        ("America/New_York", SPRING_NEW_YORK, [["01:00", "02:30"]], [], 30, ["06:00"]),
    ],
)
def test_a_clock_change_never_yields_a_window_the_decider_refuses(
    zone: str,
    day: str,
    hours: list[list[str]],
    booked: list[tuple[str, str]],
    minutes: int,
    expected: list[str],
) -> None:
    def at(clock: str) -> datetime:  # UTC on the day of the change
        return _utc(f"{day}T{clock}Z")

    start = at("00:00") - timedelta(days=1)
    room = Room(
        zone,
        parse_policy({"opening_hours": {"SU": hours}}),
        [(at(s), at(e)) for s, e in booked],
        [],
        exempt=False,
    )
    case = Case(room, timedelta(minutes=minutes), start, start + timedelta(days=2), start, 5)
    windows = found(case)
    assert [w.start_time for w in windows] == [at(clock) for clock in expected]
    assert all(decider_grants(case, w.start_time) for w in windows)
