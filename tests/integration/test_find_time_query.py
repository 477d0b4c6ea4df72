"""models/services/find_time.py's query over ranges (range_agg, a multirange difference)
finds what the bookings and closures leave free: for any calendar of a room (hypothesis,
rows written directly), the service answers exactly what the pure search answers over
the free spans worked out here in Python (tests/unit/test_free_windows.py checks those
answers against the decider)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from models.domain.free_windows import RoomTimes, earliest_windows
from models.domain.identity import Principal
from models.domain.policy import parse_policy
from models.domain.states import BookingStatus, Role
from models.services import accounts, room_catalog
from models.services.find_time import free_windows
from models.tables.bookings import Booking, RoomClosure
from models.tables.rooms import Room

NOW = datetime(2030, 1, 7, 8, tzinfo=UTC)
STEP = timedelta(minutes=5)
Span = tuple[datetime, datetime]


@pytest.fixture
def calendar(sessions: sessionmaker[Session]) -> tuple[uuid.UUID, uuid.UUID]:
    """A room and its bookings' organizer."""
    with sessions.begin() as session:
        user = accounts.register(
            session, email="query@example.com", name="Q", password="password-123", cost=4
        )
        room = room_catalog.create_room(session, {"name": "Query", "capacity": 4})
        return room.id, user.id


def laid_out(steps: list[tuple[int, int]], base: datetime) -> list[Span]:
    """Spans one after another: each (gap, length) in steps of 5 minutes."""
    spans, at = [], base
    for gap, length in steps:
        at += gap * STEP
        spans.append((at, at + length * STEP))
        at += length * STEP
    return spans


def free_of(blocked: list[Span], start: datetime, end: datetime) -> list[Span]:
    free, at = [], start
    for block_start, block_end in sorted(blocked):
        if block_start > at:
            free.append((at, block_start))
        at = max(at, block_end)
    free.append((at, end))
    return [(s, min(e, end)) for s, e in free if s < min(e, end)]


_steps = st.lists(st.tuples(st.integers(0, 30), st.integers(1, 40)), max_size=15)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    bookings=_steps,
    statuses=st.lists(st.sampled_from(list(BookingStatus)), min_size=15, max_size=15),
    closures=st.lists(st.tuples(st.integers(-50, 300), st.integers(1, 60)), max_size=2),
    buffer=st.sampled_from([0, 5, 15, 60]),
    duration=st.integers(1, 36),
    search=st.tuples(st.integers(-40, 200), st.integers(1, 400)),
)
def test_the_query_finds_what_the_bookings_and_closures_leave_free(
    sessions: sessionmaker[Session],
    calendar: tuple[uuid.UUID, uuid.UUID],
    bookings: list[tuple[int, int]],
    statuses: list[BookingStatus],
    closures: list[tuple[int, int]],
    buffer: int,
    duration: int,
    search: tuple[int, int],
) -> None:
    room, user = calendar
    spans = laid_out(bookings, NOW - timedelta(hours=3))
    shut = [(NOW + a * STEP, NOW + (a + n) * STEP) for a, n in closures]
    with sessions.begin() as session:
        session.execute(delete(Booking).where(Booking.room_id == room))
        session.execute(delete(RoomClosure).where(RoomClosure.room_id == room))
        policy = {"buffer_minutes": buffer}
        session.execute(update(Room).where(Room.id == room).values(policy=policy))
        for (start, end), status in zip(spans, statuses, strict=False):
            session.add(
                Booking(
                    room_id=room,
                    organizer_id=user,
                    start_time=start,
                    end_time=end,
                    title="t",
                    status=status,
                )
            )
        session.add_all(RoomClosure(room_id=room, start_time=s, end_time=e) for s, e in shut)
    start = NOW + search[0] * STEP
    end = start + search[1] * STEP
    length = duration * STEP

    with sessions() as session:
        found = free_windows(
            session,
            caller=Principal(user, Role.ADMIN),
            duration=length,
            start=start,
            end=end,
            now=NOW,
            limit=1000,
        )

    wide = timedelta(minutes=buffer)
    holding = [
        (s - wide, e + wide)
        for (s, e), status in zip(spans, statuses, strict=False)
        if status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
    ]
    free = free_of(holding + shut, NOW - timedelta(days=1), NOW + timedelta(days=2))
    rules = parse_policy(policy)
    expected = earliest_windows(
        [RoomTimes(room, "UTC", rules, free, exempt=True)],
        duration=length,
        start=start,
        end=end,
        now=NOW,
        limit=1000,
    )
    assert found == expected
