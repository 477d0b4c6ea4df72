"""Every statement the decider runs, behind one store: lock rooms, read their queues,
load what the engine needs, write what it decided, record the outcomes.

models/services/decide.py drives it through the `RoomStore` protocol it defines, so
that deciding can be unit-tested with an in-memory store (tests/unit/fake_store.py).
The hot path is plain SQL: building these statements each time cost more than running
them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from psycopg import errors as pg_errors
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.domain.calendar import RoomCalendar, Slot
from models.domain.engine import (
    FREEING,
    BookingFacts,
    Closure,
    Effect,
    Outcome,
    RoomFacts,
    RoomRequest,
    Snapshot,
    windows,
)
from models.domain.payloads import (
    ApprovalPayload,
    CancelPayload,
    ChangePayload,
    ClosurePayload,
    GroupCancelPayload,
    SeriesCancelPayload,
    SeriesChangePayload,
)
from models.domain.policy import stored_policy
from models.domain.rules import MAX_DURATION
from models.domain.states import HOLDING, RequestKind, utcnow
from models.locks import LOCK_DECIDE, room_lock_key, room_lock_keys
from models.services.booking_writes import write_effects
from models.services.decide import Overlap, QueuedRequest, WriteRefused, parse
from models.services.json_rows import json_rows
from models.services.outbox import TASK_FINISHED, emit, mail_on, outcome_events
from models.services.task_status import complete_batches
from models.tables.bookings import Booking

log = logging.getLogger(__name__)


def _queued(row: Any) -> QueuedRequest:
    id_, seq, kind, requester, payload, room_id, parent, accepted, rooms, requeued, admin, _ = row
    return QueuedRequest(
        id_,
        seq,
        RequestKind(kind),
        requester,
        payload,
        room_id,
        frozenset(rooms) if rooms else None,
        parent,
        accepted,
        admin,
        requeued,
    )


class PgRoomStore:
    """The store on Postgres: one transaction per `transaction()`."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    @contextmanager
    def transaction(self, *, careful: bool = False) -> Iterator[PgRoomTx]:
        with self.sessions.begin() as session:
            if careful:
                # One request at a time, each in a savepoint: the overlap constraint is
                # checked at each statement, so a refusal is caught where it belongs.
                session.connection().exec_driver_sql(
                    "SET CONSTRAINTS ex_bookings_no_overlap IMMEDIATE"
                )
            yield PgRoomTx(session)


class PgRoomTx:
    def __init__(self, session: Session) -> None:
        self.session = session
        # A webhook is active, or mail is on: outcomes write their events.
        self.hooked = mail_on(session)

    def _run(self, statement: str, params: dict[str, Any]) -> Any:
        return self.session.connection().exec_driver_sql(statement, params)

    def now(self) -> datetime:
        return utcnow()

    # -- locks and facts ------------------------------------------------------------------

    def connected(self, rooms: Sequence[uuid.UUID], cap: int) -> set[uuid.UUID]:
        """The rooms and every room QUEUED several-rooms requests connect them to, at
        most `cap` (read before any lock: the locks are then taken all at once)."""
        found = self._run(_CONNECTED, {"rooms": list(rooms), "cap": cap})
        return {room for (room,) in found}

    def lock(self, rooms: Sequence[uuid.UUID]) -> dict[uuid.UUID, RoomFacts]:
        """The rooms' decide locks, in the order of their keys (every decider taking more
        than one takes them so: none waits on another holding what it wants), then
        their facts, shared-locked (a concurrent room update waits for us)."""
        if len(rooms) == 1:
            params = {"namespace": LOCK_DECIDE, "key": room_lock_key(rooms[0]), "room": rooms[0]}
            return _facts(self._run(_LOCK_ROOM, params))
        lock_rooms(self.session, rooms)
        return _facts(self._run(_ROOMS, {"rooms": list(rooms)}))

    def room_facts(self, rooms: Sequence[uuid.UUID]) -> dict[uuid.UUID, RoomFacts]:
        """The rooms' facts without their locks (the dry run only reads)."""
        return _facts(self._run(_ROOMS_UNLOCKED, {"rooms": list(rooms)}))

    # -- the queue ------------------------------------------------------------------------

    def queued(self, rooms: Sequence[uuid.UUID], limit: int) -> list[QueuedRequest]:
        """The oldest QUEUED requests of the rooms, by seq (those naming several rooms
        too); whether a webhook is active is read with them, once the locks are held."""
        statement = _QUEUE_ONE if len(rooms) == 1 else _QUEUE_SEVERAL
        params = {"room": rooms[0], "rooms": list(rooms), "limit": limit}
        found = self._run(statement, params).all()
        active = bool(found) and bool(found[0][-1])  # the same on every row
        self.hooked = active or mail_on(self.session)
        return [_queued(row) for row in found]

    def _waitlist(self, rooms: Sequence[uuid.UUID]) -> list[RoomRequest]:
        found = self._run(_WAITLIST, {"rooms": list(rooms)}).all()
        waiters, _unreadable = parse([_queued(row) for row in found])
        return waiters

    # -- what the engine needs ------------------------------------------------------------

    def load(
        self,
        facts: dict[uuid.UUID, RoomFacts],
        requests: Sequence[RoomRequest],
        now: datetime,
        *,
        waitlist: bool = True,
    ) -> Snapshot:
        """The rooms' PENDING and CONFIRMED slots near every window asked for (widened by
        the widest buffer), their closures there, the organizers' bookings for quotas,
        the bookings the requests name (locked), and where a request may free a slot,
        the waitlist of its rooms (locked)."""
        freeing = {room for r in requests if isinstance(r.payload, FREEING) for room in r.rooms}
        waiters = self._waitlist(sorted(freeing & facts.keys())) if waitlist and freeing else []
        snapshot = Snapshot.of(*facts.values(), waitlist=waiters)
        snapshot.bookings = self._named(requests, now)
        asked = [*requests, *waiters]
        spans = [w for r in asked for w in windows(r.payload, snapshot.bookings)]
        if not spans:
            return snapshot
        buffer = max(f.policy.buffer for f in facts.values())
        start = min(s for s, _ in spans) - buffer
        end = max(e for _, e in spans) + buffer
        quota_rooms = [f.id for f in facts.values() if f.policy.has_quota]
        users = {r.organizer_id for r in asked} | {
            b.organizer_id for b in snapshot.bookings.values()
        }
        params = {
            "rooms": list(facts),
            "start": start,
            "end": end,
            # No booking lasts longer than MAX_DURATION, so this bounds the index scan
            # from below too: without it a room's whole history before `end` is read
            # (docs/performance.md has both plans).
            "floor": start - MAX_DURATION,
            "quota_rooms": quota_rooms,
            "users": list(users),
            "quota_start": start - _QUOTA_MARGIN,
            "quota_end": end + _QUOTA_MARGIN,
        }
        statement = _SNAPSHOT + _QUOTA_ROWS if quota_rooms else _SNAPSHOT
        slots: dict[uuid.UUID, list[Slot]] = {room: [] for room in facts}
        for s, e, i, kind, organizer, room in self._run(statement, params):
            if kind == _SLOT:
                slots[room].append(Slot(s, e, i))
            elif kind == _CLOSURE:
                snapshot.room(room).closures.append(Closure(i, s, e))
            else:
                snapshot.hold_quota(room, organizer, i, s, e)
        for room, found in slots.items():
            snapshot.room(room).calendar = RoomCalendar(found)
        return snapshot

    def _named(
        self, requests: Sequence[RoomRequest], now: datetime
    ) -> dict[uuid.UUID, BookingFacts]:
        """The bookings the requests name, locked: those cancelled, approved or changed
        (with their group where a change moves it), a group's, a series' future ones,
        those a closure closes over."""
        payloads = [r.payload for r in requests]
        ids = [
            p.booking_id
            for p in payloads
            if isinstance(p, CancelPayload | ApprovalPayload | ChangePayload)
        ]
        groups = [p.group_id for p in payloads if isinstance(p, GroupCancelPayload)]
        groups += [p.group_id for p in payloads if isinstance(p, ChangePayload) and p.group_id]
        series = [
            p.series_id
            for p in payloads
            if isinstance(p, SeriesCancelPayload | SeriesChangePayload)
        ]
        closed = [
            and_(
                Booking.room_id == p.room_id,
                Booking.status.in_(HOLDING),
                Booking.start_time < p.end,
                Booking.end_time > p.start,
                Booking.start_time > p.start - MAX_DURATION,
            )
            for p in payloads
            if isinstance(p, ClosurePayload)
        ]
        if not (ids or groups or series or closed):
            return {}
        holding = Booking.status.in_(HOLDING)
        rows = self.session.execute(
            select(
                Booking.id,
                Booking.room_id,
                Booking.start_time,
                Booking.end_time,
                Booking.status,
                Booking.organizer_id,
                Booking.series_id,
                Booking.group_id,
                Booking.version,
                Booking.title,
                Booking.description,
                Booking.attendees,
                Booking.external_meeting_url,
            )
            .where(
                or_(
                    Booking.id.in_(ids),
                    and_(Booking.group_id.in_(groups), holding),
                    and_(Booking.series_id.in_(series), holding, Booking.start_time >= now),
                    *closed,
                )
            )
            .with_for_update()
        ).all()
        return {
            row.id: BookingFacts(
                row.id,
                row.room_id,
                row.start_time,
                row.end_time,
                row.status,
                row.organizer_id,
                row.series_id,
                row.group_id,
                row.version,
                row.title,
                row.description,
                tuple(row.attendees or ()),
                row.external_meeting_url,
            )
            for row in rows
        }

    # -- writing --------------------------------------------------------------------------

    def write(self, effects: Sequence[Effect], now: datetime) -> None:
        if effects:
            write_effects(self.session, effects, now)

    def record(self, outcomes: Sequence[Outcome], now: datetime) -> int:
        """Every request's status and task document in one statement (a request decided
        twice keeps its last outcome); then, while a webhook is active, the events of
        the tasks and bookings they decided. Answers how many events."""
        if not outcomes:
            return 0
        last = list({o.request_id: o for o in outcomes}.values())
        self._run(
            _RECORD,
            {
                "rows": json_rows(
                    [
                        {
                            "id": o.request_id,
                            "status": o.status.value,
                            "result": o.result,
                            "error": o.error,
                            "progress": o.progress,
                        }
                        for o in last
                    ]
                ),
                "id": [o.request_id for o in last],
                "now": now,
            },
        )
        if not self.hooked:
            return 0
        tasks, bookings = outcome_events(outcomes)
        return emit(self.session, tasks=tasks, bookings=bookings, now=now)

    def finish_batches(self, parent_ids: set[uuid.UUID], now: datetime) -> int:
        """Batches whose last item was decided here are SUCCEEDED; their events."""
        done = complete_batches(self.session, parent_ids, now)
        if not done:
            return 0
        return emit(self.session, tasks=[(b, TASK_FINISHED) for b in done], now=now)

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """A savepoint for one request: on a refusal by the database, it is undone alone
        (Overlap, WriteRefused); a lost connection is not caught here."""
        try:
            with self.session.begin_nested():
                yield
                self.session.flush()
        except IntegrityError as exc:
            if isinstance(exc.orig, pg_errors.ExclusionViolation):
                raise Overlap(str(exc.orig)) from exc
            raise WriteRefused(str(exc.orig)) from exc


def lock_rooms(session: Session, rooms: Sequence[uuid.UUID]) -> None:
    """The rooms' decide locks for this transaction, in one statement, in the one order
    every holder of several takes them (deciders, housekeeping)."""
    params = {"ns": LOCK_DECIDE, "keys": room_lock_keys(rooms)}
    session.connection().exec_driver_sql(_LOCK_ROOMS, params)


def _facts(rows: Any) -> dict[uuid.UUID, RoomFacts]:
    return {
        room_id: RoomFacts(room_id, active, capacity, timezone, stored_policy(policy))
        for room_id, active, capacity, timezone, policy, *_ in rows
    }


# The room's decide lock and its facts in one round trip. The Redis lock keeps deciders
# from colliding; this advisory lock keeps them apart even if a Redis lock expired under
# a paused worker, and housekeeping takes it too. FOR SHARE: a concurrent deactivation
# or capacity change waits for this transaction. The QUEUED rows are read by the next
# statement, whose snapshot is taken once the lock is held.
_LOCK_ROOM = """
SELECT id, active, capacity, timezone, policy, pg_advisory_xact_lock(%(namespace)s, %(key)s)
FROM rooms WHERE id = %(room)s
FOR SHARE
"""
# Several rooms' decide locks in one round trip, one after the other in the order of
# their keys (a function scan yields an array's elements in order).
_LOCK_ROOMS = """
SELECT count(pg_advisory_xact_lock(%(ns)s, key))
FROM unnest(%(keys)s::int[]) WITH ORDINALITY AS k(key, position)
"""
# Rooms reachable from these through QUEUED requests that name several rooms (by the GIN
# index of their rooms), breadth first, cut at `cap`.
_CONNECTED = """
WITH RECURSIVE reach(room) AS (
    SELECT unnest(%(rooms)s::uuid[])
    UNION
    SELECT unnest(r.rooms) FROM reach
    JOIN booking_requests r
      ON r.rooms @> ARRAY[reach.room] AND r.status = 'QUEUED' AND r.rooms IS NOT NULL
)
SELECT room FROM reach LIMIT %(cap)s
"""
_ROOMS = """
SELECT id, active, capacity, timezone, policy FROM rooms WHERE id = ANY(%(rooms)s::uuid[])
FOR SHARE
"""
_ROOMS_UNLOCKED = (
    "SELECT id, active, capacity, timezone, policy FROM rooms WHERE id = ANY(%(rooms)s::uuid[])"
)

# The rooms' oldest QUEUED requests: those of one room by the partial index of such rows
# (in seq order, so LIMIT stops early), and those naming several rooms by the GIN index
# of their `rooms`; with whether the requester is an admin (policies spare admins), and
# whether any webhook is active. Not locked: only a decider holding every room a QUEUED
# request names changes it, and the rooms' advisory locks keep those apart.
_QUEUE = """
SELECT r.id, r.seq, r.kind, r.requester_id, r.payload, r.room_id, r.parent_id, r.accepted_at,
       r.rooms, r.decided_at IS NOT NULL, u.role = 'ADMIN',
       EXISTS (SELECT 1 FROM webhooks WHERE active)
FROM booking_requests r JOIN users u ON u.id = r.requester_id
WHERE r.status = 'QUEUED' AND r.id IN (
    (SELECT id FROM booking_requests
     WHERE status = 'QUEUED' AND {own} AND rooms IS NULL
     ORDER BY seq LIMIT %(limit)s)
    UNION ALL
    (SELECT id FROM booking_requests
     WHERE status = 'QUEUED' AND rooms && %(rooms)s::uuid[] AND rooms IS NOT NULL
     ORDER BY seq LIMIT %(limit)s)
)
ORDER BY r.seq
LIMIT %(limit)s
"""
# One room by equality: its index scan comes in seq order and stops at the LIMIT.
_QUEUE_ONE = _QUEUE.format(own="room_id = %(room)s")
_QUEUE_SEVERAL = _QUEUE.format(own="room_id = ANY(%(rooms)s::uuid[])")
# The rooms' WAITLISTED requests, locked (a withdrawal waits for this transaction).
_WAITLIST = """
SELECT r.id, r.seq, r.kind, r.requester_id, r.payload, r.room_id, r.parent_id, r.accepted_at,
       r.rooms, r.decided_at IS NOT NULL, u.role = 'ADMIN', false
FROM booking_requests r JOIN users u ON u.id = r.requester_id
WHERE r.status = 'WAITLISTED' AND r.id IN (
    SELECT id FROM booking_requests
    WHERE status = 'WAITLISTED' AND room_id = ANY(%(rooms)s::uuid[]) AND rooms IS NULL
    UNION ALL
    SELECT id FROM booking_requests
    WHERE status = 'WAITLISTED' AND rooms && %(rooms)s::uuid[] AND rooms IS NOT NULL
)
ORDER BY r.seq
LIMIT 10000
FOR UPDATE OF r
"""

# A week on either side: the ISO weeks of every window asked for lie inside.
_QUOTA_MARGIN = MAX_DURATION * 8
_SLOT, _CLOSURE, _QUOTA = 0, 1, 2  # what a row of the snapshot's statement is

# The rooms' PENDING and CONFIRMED slots near the windows asked for and their closures
# there, in one round trip (most rooms have no closure).
_SNAPSHOT = """
SELECT start_time, end_time, id, 0 AS kind, organizer_id, room_id FROM bookings
WHERE room_id = ANY(%(rooms)s::uuid[]) AND status IN ('PENDING', 'CONFIRMED')
  AND start_time < %(end)s AND end_time > %(start)s AND start_time > %(floor)s
UNION ALL
SELECT start_time, end_time, id, 1, NULL, room_id FROM room_closures
WHERE room_id = ANY(%(rooms)s::uuid[]) AND start_time < %(end)s AND end_time > %(start)s
"""
# With a quota: the organizers' PENDING and CONFIRMED bookings of the rooms around the
# windows asked for, so quotas count the whole day and week.
_QUOTA_ROWS = """
UNION ALL
SELECT start_time, end_time, id, 2, organizer_id, room_id FROM bookings
WHERE room_id = ANY(%(quota_rooms)s::uuid[]) AND organizer_id = ANY(%(users)s::uuid[])
  AND status IN ('PENDING', 'CONFIRMED')
  AND start_time < %(quota_end)s AND start_time > %(quota_start)s
"""
assert _SLOT == 0 and _CLOSURE == 1 and _QUOTA == 2  # as the statements number them
assert {s.value for s in HOLDING} == {"PENDING", "CONFIRMED"}  # as they name them

# Every decided request's status and task document in one statement (the rows as one JSON
# array, models/services/json_rows.py).
# A waiter put back in the queue (QUEUED) keeps a decided_at: it was decided before.
# waitlisted_at: when it first joined a waitlist (a promotion is told by mail).
_RECORD = """
UPDATE booking_requests AS r
SET status = v.status, result = v.result, error = v.error, progress = v.progress,
    decided_at = %(now)s, updated_at = %(now)s,
    waitlisted_at = CASE WHEN v.status = 'WAITLISTED'
                         THEN coalesce(r.waitlisted_at, %(now)s) ELSE r.waitlisted_at END
FROM jsonb_to_recordset(%(rows)s)
    AS v(id uuid, status text, result jsonb, error jsonb, progress jsonb)
WHERE r.id = v.id AND r.id = ANY(%(id)s::uuid[])  -- the planner cannot size the rows
"""
