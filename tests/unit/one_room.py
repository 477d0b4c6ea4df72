"""A snapshot holding one room, as the engine's unit tests decide in one room only."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from models.domain.calendar import RoomCalendar
from models.domain.engine import BookingFacts, Closure, RoomFacts, RoomRequest, RoomState, Snapshot


def one_room(
    room: uuid.UUID | RoomFacts,
    *,
    calendar: RoomCalendar | None = None,
    bookings: Iterable[BookingFacts] = (),
    closures: Iterable[Closure] = (),
    waitlist: Iterable[RoomRequest] = (),
) -> Snapshot:
    """A snapshot of the one room (its facts, or only its id), its slots, the bookings
    requests may name, its closures and its waiters.

    Given only an id, the room is inactive until a test's `run()` sets its facts (so a
    test that forgets to is refused, not silently decided against other facts)."""
    facts = room if isinstance(room, RoomFacts) else RoomFacts(room, active=False, capacity=0)
    state = RoomState(facts, calendar=calendar or RoomCalendar(), closures=list(closures))
    return Snapshot.of(state, bookings={b.id: b for b in bookings}, waitlist=list(waitlist))
