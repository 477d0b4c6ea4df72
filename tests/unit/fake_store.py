"""An in-memory RoomStore (models/services/decide.py), as cosmicpython tests its handlers
with a FakeUnitOfWork: requests, bookings and closures in dicts, a transaction that is
undone on an error, and the overlap constraint checked where Postgres checks it (at
commit, or after each request in the careful path).

`submit` queues a request as models/services/accept does: a new booking in the rooms it
names, a request on a booking, series or group in every room its subject may be in.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from models.domain.engine import (
    FREEING,
    ApproveBooking,
    BookingFacts,
    CancelBooking,
    ChangeBooking,
    Closure,
    Effect,
    NewBooking,
    NewClosure,
    Outcome,
    RoomFacts,
    RoomRequest,
    Snapshot,
)
from models.domain.payloads import (
    ApprovalPayload,
    BookingPayload,
    CancelPayload,
    ChangePayload,
    ClosurePayload,
    GroupCancelPayload,
    RoomPayload,
    SeriesCancelPayload,
    SeriesChangePayload,
    SeriesPayload,
)
from models.domain.states import HOLDING, BookingStatus, RequestStatus
from models.services.decide import Overlap, QueuedRequest, parse


class Refused(Exception):
    """The fake database refused a commit: two held bookings of a room overlap."""


@dataclass
class Row:
    id: uuid.UUID
    seq: int
    payload: RoomPayload
    requester_id: uuid.UUID
    room_id: uuid.UUID
    rooms: frozenset[uuid.UUID]
    admin: bool = False
    subject_id: uuid.UUID | None = None
    status: RequestStatus = RequestStatus.QUEUED
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    decided: bool = False


@dataclass
class State:
    rows: dict[uuid.UUID, Row] = field(default_factory=dict)
    bookings: dict[uuid.UUID, BookingFacts] = field(default_factory=dict)
    closures: dict[uuid.UUID, list[Closure]] = field(default_factory=dict)


class FakeStore:
    def __init__(self, rooms: Sequence[RoomFacts], now: datetime) -> None:
        self.rooms = {r.id: r for r in rooms}
        self.now = now
        self.state = State()
        self.locked: list[tuple[uuid.UUID, ...]] = []  # the rooms each transaction locked
        self.fail_next_commit = False
        self._seq = itertools.count(1)

    # -- the accepting side ---------------------------------------------------------------

    def submit(
        self, requester: uuid.UUID, payload: RoomPayload, *, admin: bool = False
    ) -> uuid.UUID:
        """Queue a request where models/services/accept would."""
        room_id, rooms, subject = self._where(payload)
        row = Row(uuid.uuid4(), next(self._seq), payload, requester, room_id, rooms, admin, subject)
        self.state.rows[row.id] = row
        return row.id

    def submit_as(self, row: Row) -> None:
        """Another store's request, as it was queued there (same id, seq and rooms)."""
        self.state.rows[row.id] = Row(
            row.id,
            row.seq,
            row.payload,
            row.requester_id,
            row.room_id,
            row.rooms,
            row.admin,
            row.subject_id,
        )

    def _where(
        self, payload: RoomPayload
    ) -> tuple[uuid.UUID, frozenset[uuid.UUID], uuid.UUID | None]:
        if isinstance(payload, BookingPayload | SeriesPayload):
            rooms = payload.booking.rooms if isinstance(payload, SeriesPayload) else payload.rooms
            return rooms[0], frozenset(rooms), None
        if isinstance(payload, ClosurePayload):
            return payload.room_id, frozenset({payload.room_id}), None
        if isinstance(payload, CancelPayload | ApprovalPayload | ChangePayload):
            booking = self.state.bookings[payload.booking_id]
            subject = booking.series_id or booking.group_id or booking.id
        elif isinstance(payload, GroupCancelPayload):
            subject = payload.group_id
            member = next(b for b in self.state.bookings.values() if b.group_id == subject)
            subject = member.series_id or subject
        else:
            assert isinstance(payload, SeriesCancelPayload | SeriesChangePayload)
            subject = payload.series_id
        rooms = self.footprint(subject) | {payload.room_id}
        return payload.room_id, frozenset(rooms), subject

    def footprint(self, subject: uuid.UUID) -> set[uuid.UUID]:
        found = {
            b.room_id
            for b in self.state.bookings.values()
            if subject in (b.id, b.series_id, b.group_id)
        }
        for row in self.state.rows.values():
            if row.status == RequestStatus.QUEUED and row.subject_id == subject:
                found |= row.rooms
        return found

    # -- RoomStore ------------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, careful: bool = False) -> Iterator[FakeTx]:
        before = copy.deepcopy(self.state)
        try:
            yield FakeTx(self, careful)
            if self.fail_next_commit:
                self.fail_next_commit = False
                raise Refused("the commit failed")
            overlaps(self.state)
        except BaseException:
            self.state = before
            raise

    def holding(self, room_id: uuid.UUID) -> list[BookingFacts]:
        return sorted(
            (
                b
                for b in self.state.bookings.values()
                if b.room_id == room_id and b.status in HOLDING
            ),
            key=lambda b: b.start,
        )


def overlaps(state: State) -> None:
    """Raise Refused when two held bookings of a room overlap (the exclusion constraint)."""
    by_room: dict[uuid.UUID, list[BookingFacts]] = {}
    for booking in state.bookings.values():
        if booking.status in HOLDING:
            by_room.setdefault(booking.room_id, []).append(booking)
    for held in by_room.values():
        held.sort(key=lambda b: b.start)
        for a, b in itertools.pairwise(held):
            if b.start < a.end:
                raise Refused(f"{a.id} overlaps {b.id}")


class FakeTx:
    hooked = False

    def __init__(self, store: FakeStore, careful: bool) -> None:
        self.store = store
        self.careful = careful

    def now(self) -> datetime:
        return self.store.now

    def connected(self, rooms: Sequence[uuid.UUID], cap: int) -> set[uuid.UUID]:
        """As the recursive query reads them: the rooms first, then those QUEUED requests
        connect them to, breadth first, `cap` in all. The query promises no order past
        the rooms given; this takes the newest requests' rooms first, the least help to
        a turn that must decide the oldest."""
        found = list(dict.fromkeys(rooms))
        todo = list(found)
        while todo and len(found) < cap:
            room = todo.pop(0)
            for row in sorted(self.store.state.rows.values(), key=lambda r: -r.seq):
                if row.status == RequestStatus.QUEUED and room in row.rooms:
                    fresh = sorted(row.rooms - set(found))
                    found += fresh
                    todo += fresh
        return set(found[:cap]) | set(rooms)

    def lock(self, rooms: Sequence[uuid.UUID]) -> dict[uuid.UUID, RoomFacts]:
        self.store.locked.append(tuple(rooms))
        return {r: self.store.rooms[r] for r in rooms}

    def queued(self, rooms: Sequence[uuid.UUID], limit: int) -> list[QueuedRequest]:
        wanted = set(rooms)
        rows = sorted(
            (
                r
                for r in self.store.state.rows.values()
                if r.status == RequestStatus.QUEUED and r.rooms & wanted
            ),
            key=lambda r: r.seq,
        )
        return [_queued(r) for r in rows[:limit]]

    def load(
        self, facts: dict[uuid.UUID, RoomFacts], requests: Sequence[RoomRequest], now: datetime
    ) -> Snapshot:
        """Every booking of the rooms (the real store loads those near the windows asked
        for: a subset the engine cannot tell apart), and every booking as named."""
        state = self.store.state
        freeing = {room for r in requests if isinstance(r.payload, FREEING) for room in r.rooms}
        waiting = sorted(
            (
                r
                for r in state.rows.values()
                if r.status == RequestStatus.WAITLISTED and r.rooms & freeing & facts.keys()
            ),
            key=lambda r: r.seq,
        )
        waiters, _ = parse([_queued(r) for r in waiting])
        snapshot = Snapshot.of(*facts.values(), waitlist=waiters)
        snapshot.bookings = dict(state.bookings)
        for booking in state.bookings.values():
            if booking.room_id in facts and booking.status in HOLDING:
                snapshot.hold(
                    booking.room_id, booking.id, booking.organizer_id, booking.start, booking.end
                )
        for room_id in facts:
            snapshot.room(room_id).closures = list(state.closures.get(room_id, []))
        return snapshot

    def write(self, effects: Sequence[Effect], now: datetime) -> None:
        state = self.store.state
        for effect in effects:
            if isinstance(effect, NewBooking):
                state.bookings[effect.id] = effect.facts()
            elif isinstance(effect, ChangeBooking):
                state.bookings[effect.booking_id] = effect.after()
            elif isinstance(effect, CancelBooking):
                booking = state.bookings[effect.booking_id]
                state.bookings[booking.id] = _with(booking, BookingStatus.CANCELLED)
            elif isinstance(effect, ApproveBooking):
                booking = state.bookings[effect.booking_id]
                state.bookings[booking.id] = _with(booking, BookingStatus.CONFIRMED)
            elif isinstance(effect, NewClosure):
                closure = Closure(effect.id, effect.start, effect.end)
                state.closures.setdefault(effect.room_id, []).append(closure)

    def record(self, outcomes: Sequence[Outcome], now: datetime) -> int:
        for outcome in outcomes:
            row = self.store.state.rows[outcome.request_id]
            row.status, row.result, row.error = outcome.status, outcome.result, outcome.error
            row.decided = True
        return 0

    def finish_batches(self, parent_ids: set[uuid.UUID], now: datetime) -> int:
        return 0

    @contextmanager
    def attempt(self) -> Iterator[None]:
        before = copy.deepcopy(self.store.state)
        try:
            yield
            overlaps(self.store.state)
        except Refused as exc:
            self.store.state = before
            raise Overlap(str(exc)) from exc
        except BaseException:
            self.store.state = before
            raise


def _with(booking: BookingFacts, status: BookingStatus) -> BookingFacts:
    return replace(booking, status=status)


def _queued(row: Row) -> QueuedRequest:
    return QueuedRequest(
        row.id,
        row.seq,
        row.payload.kind,
        row.requester_id,
        row.payload.to_json(),
        row.room_id,
        row.rooms if len(row.rooms) > 1 else None,
        None,
        None,
        row.admin,
        row.decided and row.status == RequestStatus.QUEUED,
    )
