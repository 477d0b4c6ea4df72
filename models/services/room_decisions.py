"""Deciding a room's QUEUED requests: load what the engine needs, decide, write, commit.

One call is one transaction under the room's advisory lock: the oldest QUEUED requests
(a bounded batch) are loaded with the bookings they touch, `engine.decide` rules on
them, and `booking_writes` plus one multi-row update of the requests record it all.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from models.domain.calendar import RoomCalendar, Slot
from models.domain.decisions import Refusal
from models.domain.engine import (
    BookingFacts,
    Outcome,
    RoomFacts,
    RoomRequest,
    RoomSnapshot,
    decide,
    decide_one,
    failed,
    rejected,
    windows,
)
from models.domain.payloads import (
    CancelPayload,
    SeriesCancelPayload,
    room_payload_from_json,
)
from models.domain.rules import MAX_DURATION
from models.locks import LOCK_DECIDE, room_lock_key
from models.services.booking_writes import write_effects
from models.services.task_status import complete_batches
from models.tables.base import utcnow
from models.tables.bookings import Booking, BookingStatus
from models.tables.requests import RequestKind

log = logging.getLogger(__name__)

BATCH_SIZE = 200  # requests per transaction at most
# Occurrences per transaction at most (the first request always goes in, however large):
# keeps one transaction well under a second, so a huge series cannot hold a room's lock
# for long nor starve the rooms that share its worker.
MAX_OCCURRENCES = 2000


@dataclass(frozen=True)
class Decided:
    """What one transaction decided, for the caller's metrics and wake-up bookkeeping."""

    count: int
    last_seq: int | None  # the highest seq decided: every earlier request of the room is too
    # (request id, kind, status, accepted_at) of each request decided, for logs and metrics
    outcomes: list[tuple[uuid.UUID, str, str, datetime]]
    full: bool  # the batch was cut by a limit: more may be QUEUED


def decide_queued(
    sessions: sessionmaker[Session],
    room_id: uuid.UUID,
    *,
    batch_size: int = BATCH_SIZE,
    careful: bool = False,
) -> Decided:
    """Decide the room's oldest QUEUED requests in one transaction.

    The fast path decides the batch in memory and writes it with one statement per table.
    If the database refuses that (a row that bypassed the room's lock, a join-code clash),
    call again with careful=True: one savepoint per request, each against the database's
    current state, so one bad request is refused or failed alone.
    """
    with sessions.begin() as session:
        room = _lock_room(session, room_id)
        rows, more = _queued(session, room_id, batch_size)
        if not rows:
            return Decided(0, None, [], False)
        now = utcnow()
        requests, outcomes = _parse(rows, room_id)
        if careful:
            outcomes += [_decide_alone(session, room, request, now) for request in requests]
        else:
            snapshot = load_snapshot(session, room_id, requests, now)
            decided = decide(room, snapshot, requests, now=now)
            write_effects(session, room_id, [e for o in decided for e in o.effects], now)
            outcomes += decided
        record_outcomes(session, outcomes, now)
        complete_batches(session, {r.parent_id for r in rows if r.parent_id}, now)
        by_id = {o.request_id: o for o in outcomes}
        report = [(r.id, r.kind.value, by_id[r.id].status.value, r.accepted_at) for r in rows]
    return Decided(len(rows), rows[-1].seq, report, more)


@dataclass(frozen=True)
class _Row:
    id: uuid.UUID
    seq: int
    kind: RequestKind
    requester_id: uuid.UUID
    payload: dict
    parent_id: uuid.UUID | None
    accepted_at: datetime


# The room's oldest QUEUED requests, by the partial index of QUEUED rows, row-locked.
_QUEUED = """
SELECT id, seq, kind, requester_id, payload, parent_id, accepted_at
FROM booking_requests
WHERE room_id = %(room_id)s AND status = 'QUEUED'
ORDER BY seq
LIMIT %(limit)s
FOR UPDATE
"""


def _queued(session: Session, room_id: uuid.UUID, batch_size: int) -> tuple[list[_Row], bool]:
    """The room's oldest QUEUED requests, locked, cut to MAX_OCCURRENCES occurrences;
    and whether more may be waiting (the batch was full or cut)."""
    params = {"room_id": room_id, "limit": batch_size}
    found = session.connection().exec_driver_sql(_QUEUED, params).all()
    rows: list[_Row] = []
    weight = 0
    for id_, seq, kind, requester_id, payload, parent_id, accepted_at in found:
        row = _Row(id_, seq, RequestKind(kind), requester_id, payload, parent_id, accepted_at)
        weight += _weight(row.payload)
        if rows and weight > MAX_OCCURRENCES:
            break
        rows.append(row)
    return rows, len(found) == batch_size or len(rows) < len(found)


def _weight(payload: object) -> int:
    """How many occurrences a stored payload asks for (a malformed one counts as one)."""
    occurrences = payload.get("occurrences") if isinstance(payload, dict) else None
    return len(occurrences) if isinstance(occurrences, list) and occurrences else 1


def _parse(rows: list[_Row], room_id: uuid.UUID) -> tuple[list[RoomRequest], list[Outcome]]:
    """The rows as typed requests; a row that cannot be read is FAILED, never retried."""
    requests: list[RoomRequest] = []
    unreadable: list[Outcome] = []
    for row in rows:
        try:
            payload = room_payload_from_json(row.kind, row.payload, room_id)
        except Exception:  # whatever is wrong with it, it must not jam its room
            log.exception("request %s has an unreadable payload", row.id)
            unreadable.append(failed(row.id, "the request could not be decided"))
            continue
        requests.append(RoomRequest(row.id, row.seq, row.requester_id, payload))
    return requests, unreadable


# The room's decide lock and its facts in one round trip. The Redis lock keeps deciders
# from colliding; this advisory lock keeps them apart even if a Redis lock expired under
# a paused worker, and housekeeping takes it too. FOR SHARE: a concurrent deactivation
# or capacity change waits for this transaction. The QUEUED rows are read by the next
# statement, whose snapshot is taken once the lock is held.
_LOCK_ROOM = """
SELECT pg_advisory_xact_lock(%(namespace)s, %(key)s), active, capacity
FROM rooms WHERE id = %(room_id)s
FOR SHARE
"""


def _lock_room(session: Session, room_id: uuid.UUID) -> RoomFacts:
    params = {"namespace": LOCK_DECIDE, "key": room_lock_key(room_id), "room_id": room_id}
    _, active, capacity = session.connection().exec_driver_sql(_LOCK_ROOM, params).one()
    return RoomFacts(room_id, active, capacity)


def load_snapshot(
    session: Session, room_id: uuid.UUID, requests: Sequence[RoomRequest], now: datetime
) -> RoomSnapshot:
    """The confirmed bookings overlapping the windows asked for, and those cancels name."""
    spans = [w for r in requests for w in windows(r.payload)]
    calendar = RoomCalendar()
    if spans:
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
        rows = session.execute(
            select(Booking.start_time, Booking.end_time, Booking.id).where(
                Booking.room_id == room_id,
                Booking.status == BookingStatus.CONFIRMED,
                Booking.start_time < end,
                Booking.end_time > start,
                # No booking lasts longer than MAX_DURATION, so this bounds the index
                # scan from below too: without it a room's whole history before `end`
                # is read (docs/performance.md has both plans).
                Booking.start_time > start - MAX_DURATION,
            )
        ).all()
        calendar = RoomCalendar([Slot(s, e, i) for s, e, i in rows])
    booking_ids = [r.payload.booking_id for r in requests if isinstance(r.payload, CancelPayload)]
    series_ids = [
        r.payload.series_id for r in requests if isinstance(r.payload, SeriesCancelPayload)
    ]
    bookings: dict[uuid.UUID, BookingFacts] = {}
    if booking_ids or series_ids:
        named = session.execute(
            select(
                Booking.id, Booking.start_time, Booking.end_time, Booking.status, Booking.series_id
            )
            .where(
                or_(
                    Booking.id.in_(booking_ids),
                    and_(
                        Booking.series_id.in_(series_ids),
                        Booking.status == BookingStatus.CONFIRMED,
                        Booking.start_time >= now,
                    ),
                )
            )
            .with_for_update()
        ).all()
        bookings = {row.id: BookingFacts(*row) for row in named}
    return RoomSnapshot(calendar, bookings)


# Every decided request's status and task document in one statement (arrays + unnest).
_RECORD_OUTCOMES = """
UPDATE booking_requests AS r
SET status = v.status, result = v.result, error = v.error, progress = v.progress,
    decided_at = %(now)s, updated_at = %(now)s
FROM unnest(%(id)s::uuid[], %(status)s::text[], %(result)s::jsonb[], %(error)s::jsonb[],
            %(progress)s::jsonb[]) AS v(id, status, result, error, progress)
WHERE r.id = v.id AND r.id = ANY(%(id)s::uuid[])  -- the planner cannot size unnest()
"""


def record_outcomes(session: Session, outcomes: Sequence[Outcome], now: datetime) -> None:
    """Every request's status and task document, in one statement."""
    if not outcomes:
        return
    session.connection().exec_driver_sql(
        _RECORD_OUTCOMES,
        {
            "id": [o.request_id for o in outcomes],
            "status": [o.status.value for o in outcomes],
            "result": [_json(o.result) for o in outcomes],
            "error": [_json(o.error) for o in outcomes],
            "progress": [Jsonb(o.progress) for o in outcomes],
            "now": now,
        },
    )


def _json(value: dict[str, Any] | None) -> Jsonb | None:
    return None if value is None else Jsonb(value)


def _decide_alone(
    session: Session, room: RoomFacts, request: RoomRequest, now: datetime
) -> Outcome:
    """Decide one request in its own savepoint, against the database's current state."""
    total = len(windows(request.payload)) or 1
    try:
        with session.begin_nested():
            snapshot = load_snapshot(session, room.id, [request], now)
            outcome = decide_one(room, snapshot, request, now=now)
            write_effects(session, room.id, outcome.effects, now)
            session.flush()
        return outcome
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.ExclusionViolation):
            refusal = Refusal("CONFLICT", "the room is already booked in that window")
            return rejected(request, refusal, total=total)
        log.exception("request %s refused by the database", request.id)
        return failed(request.id, "the database refused the write", total=total)
    except (OperationalError, InterfaceError):
        raise  # the database is away, not the request at fault: the whole room retries
    except Exception:
        # A request that breaks its decider must not block its room forever: it is
        # recorded as FAILED (a fault, not a business outcome) and logged with its trace.
        log.exception("request %s could not be decided", request.id)
        return failed(request.id, "the request could not be decided", total=total)
