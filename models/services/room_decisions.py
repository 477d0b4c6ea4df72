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
    Closure,
    Outcome,
    RoomFacts,
    RoomRequest,
    RoomSnapshot,
    decide,
    failed,
    promote,
    rejected,
    windows,
)
from models.domain.payloads import (
    ApprovalPayload,
    CancelPayload,
    ClosurePayload,
    SeriesCancelPayload,
    room_payload_from_json,
)
from models.domain.policy import stored_policy
from models.domain.rules import MAX_DURATION
from models.domain.states import HOLDING, RequestKind, utcnow
from models.locks import LOCK_DECIDE, room_lock_key
from models.services.booking_writes import write_effects
from models.services.outbox import (
    BOOKING_EVENTS,
    TASK_EVENTS,
    TASK_FINISHED,
    emit,
    event_params,
    outcome_events,
)
from models.services.task_status import complete_batches
from models.tables.bookings import Booking

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
    events: int = 0  # outbox rows written: the webhook dispatcher has work


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
        rows, more, hooked = _queued(session, room_id, batch_size)
        if not rows:
            return Decided(0, None, [], False)
        now = utcnow()
        requests, outcomes = _parse(rows, room_id)
        if careful:
            # Each request's outcome is recorded as it is decided, so the next request's
            # snapshot (the waitlist above all) reads the statuses as they now stand; the
            # overlap constraint is checked at each statement, inside its savepoint.
            session.connection().exec_driver_sql("SET CONSTRAINTS ex_bookings_no_overlap IMMEDIATE")
            events = record_outcomes(session, outcomes, now, with_events=hooked)
            for request in requests:
                alone, written = _decide_alone(session, room, request, now, hooked)
                outcomes += alone
                events += written
        else:
            snapshot = load_snapshot(session, room, requests, now)
            decided = decide(room, snapshot, requests, now=now)
            write_effects(session, room_id, [e for o in decided for e in o.effects], now)
            outcomes += decided
            events = record_outcomes(session, outcomes, now, with_events=hooked)
        batches = complete_batches(session, {r.parent_id for r in rows if r.parent_id}, now)
        if batches:
            events += emit(session, tasks=[(b, TASK_FINISHED) for b in batches], now=now)
        by_id = {o.request_id: o for o in outcomes}
        report = [(r.id, r.kind.value, by_id[r.id].status.value, r.accepted_at) for r in rows]
    return Decided(len(rows), rows[-1].seq, report, more, events)


def decide_waitlist(session: Session, room_id: uuid.UUID, now: datetime) -> int:
    """Decide the room's waitlist again after a slot was freed outside its decider (a
    no-show release, an expired approval), in the caller's transaction, which holds the
    room's decide lock. Answers how many waiters were decided."""
    room = room_facts(session, room_id)
    snapshot = load_snapshot(session, room, [], now, waitlist=True)
    if not snapshot.waitlist:
        return 0
    outcomes = promote(room, snapshot, now=now)
    write_effects(session, room_id, [e for o in outcomes for e in o.effects], now)
    record_outcomes(session, outcomes, now)
    return len(outcomes)


@dataclass(frozen=True)
class _Row:
    id: uuid.UUID
    seq: int
    kind: RequestKind
    requester_id: uuid.UUID
    payload: dict
    parent_id: uuid.UUID | None
    accepted_at: datetime
    requester_is_admin: bool = False


# The room's oldest QUEUED (or its WAITLISTED) requests, by the partial index of such
# rows, row-locked; with whether the requester is an admin (policies spare admins), and
# whether any webhook is active (read once the room's lock is held: a webhook committed
# before a batch reads its requests gets that batch's events).
_REQUESTS = """
SELECT r.id, r.seq, r.kind, r.requester_id, r.payload, r.parent_id, r.accepted_at,
       u.role = 'ADMIN', EXISTS (SELECT 1 FROM webhooks WHERE active)
FROM booking_requests r JOIN users u ON u.id = r.requester_id
WHERE r.room_id = %(room_id)s AND r.status = %(status)s
ORDER BY r.seq
LIMIT %(limit)s
FOR UPDATE OF r
"""


def _queued(session: Session, room_id: uuid.UUID, batch_size: int) -> tuple[list[_Row], bool, bool]:
    """The room's oldest QUEUED requests, locked, cut to MAX_OCCURRENCES occurrences;
    whether more may be waiting (the batch was full or cut); whether a webhook is active."""
    params = {"room_id": room_id, "limit": batch_size, "status": "QUEUED"}
    found = session.connection().exec_driver_sql(_REQUESTS, params).all()
    rows: list[_Row] = []
    weight = 0
    for id_, seq, kind, requester_id, payload, parent_id, accepted_at, admin, _ in found:
        row = _Row(
            id_, seq, RequestKind(kind), requester_id, payload, parent_id, accepted_at, admin
        )
        weight += _weight(row.payload)
        if rows and weight > MAX_OCCURRENCES:
            break
        rows.append(row)
    hooked = bool(found) and bool(found[0][-1])  # the same on every row
    return rows, len(found) == batch_size or len(rows) < len(found), hooked


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
        requests.append(
            RoomRequest(row.id, row.seq, row.requester_id, payload, row.requester_is_admin)
        )
    return requests, unreadable


# The room's decide lock and its facts in one round trip. The Redis lock keeps deciders
# from colliding; this advisory lock keeps them apart even if a Redis lock expired under
# a paused worker, and housekeeping takes it too. FOR SHARE: a concurrent deactivation
# or capacity change waits for this transaction. The QUEUED rows are read by the next
# statement, whose snapshot is taken once the lock is held.
_LOCK_ROOM = """
SELECT pg_advisory_xact_lock(%(namespace)s, %(key)s), active, capacity, timezone, policy
FROM rooms WHERE id = %(room_id)s
FOR SHARE
"""
_ROOM = "SELECT 0, active, capacity, timezone, policy FROM rooms WHERE id = %(room_id)s"


def _lock_room(session: Session, room_id: uuid.UUID) -> RoomFacts:
    """The room's facts, under its decide lock."""
    params = {"namespace": LOCK_DECIDE, "key": room_lock_key(room_id), "room_id": room_id}
    return _facts(room_id, session.connection().exec_driver_sql(_LOCK_ROOM, params).one())


def room_facts(session: Session, room_id: uuid.UUID) -> RoomFacts:
    """The room's facts, without its lock (the caller holds it, or only reads)."""
    return _facts(room_id, session.connection().exec_driver_sql(_ROOM, {"room_id": room_id}).one())


def _facts(room_id: uuid.UUID, row: Any) -> RoomFacts:
    _, active, capacity, timezone, policy = row
    return RoomFacts(room_id, active, capacity, timezone, stored_policy(policy))


# Statuses whose requests may free a slot of the room: the waitlist is loaded for them.
_FREEING = (CancelPayload, SeriesCancelPayload, ClosurePayload, ApprovalPayload)


def load_snapshot(
    session: Session,
    room: RoomFacts,
    requests: Sequence[RoomRequest],
    now: datetime,
    *,
    waitlist: bool | None = None,
) -> RoomSnapshot:
    """What the engine needs to decide these requests: the room's PENDING and CONFIRMED
    slots near the windows asked for (the buffer's width around them), the closures
    there, the requesters' bookings for quotas, the bookings that cancellations,
    approvals and closures name, and, when a request may free a slot (or waitlist=True),
    the room's waitlist, locked."""
    if waitlist is None:
        waitlist = any(isinstance(r.payload, _FREEING) for r in requests)
    waiters = _waitlist(session, room.id) if waitlist else []
    asked = [*requests, *waiters]
    buffer = room.policy.buffer
    spans = [w for r in asked for w in windows(r.payload)]
    snapshot = RoomSnapshot(waitlist=waiters)
    if spans:
        start = min(s for s, _ in spans) - buffer
        end = max(e for _, e in spans) + buffer
        users = [r.requester_id for r in asked if not r.exempt(room)]
        quota = room.policy.has_quota and bool(users)
        params = {
            "room_id": room.id,
            "start": start,
            "end": end,
            # No booking lasts longer than MAX_DURATION, so this bounds the index scan
            # from below too: without it a room's whole history before `end` is read
            # (docs/performance.md has both plans).
            "floor": start - MAX_DURATION,
            "users": list(set(users)),
            "quota_start": start - _QUOTA_MARGIN,
            "quota_end": end + _QUOTA_MARGIN,
        }
        statement = _SNAPSHOT + _QUOTA_ROWS if quota else _SNAPSHOT
        slots_found = []
        for s, e, i, kind, organizer in session.connection().exec_driver_sql(statement, params):
            if kind == _SLOT:
                slots_found.append(Slot(s, e, i))
            elif kind == _CLOSURE:
                snapshot.closures.append(Closure(i, s, e))
            else:
                snapshot.hold_quota(organizer, i, s, e)
        snapshot.calendar = RoomCalendar(slots_found)
    snapshot.bookings = _named_bookings(session, room.id, requests, now)
    return snapshot


def _waitlist(session: Session, room_id: uuid.UUID) -> list[RoomRequest]:
    params = {"room_id": room_id, "limit": 10_000, "status": "WAITLISTED"}
    found = session.connection().exec_driver_sql(_REQUESTS, params).all()
    rows = [_Row(r[0], r[1], RequestKind(r[2]), r[3], r[4], r[5], r[6], r[7]) for r in found]
    waiters, _unreadable = _parse(rows, room_id)
    return waiters


# A week on either side: the ISO weeks of every window asked for lie inside.
_QUOTA_MARGIN = MAX_DURATION * 8
_SLOT, _CLOSURE, _QUOTA = 0, 1, 2  # what a row of the snapshot's statement is

# The room's PENDING and CONFIRMED slots near the windows asked for and its closures
# there, in one round trip (most rooms have no closure); plain SQL, as on the rest of
# the hot path, since building the statement each time cost more than running it.
_SNAPSHOT = """
SELECT start_time, end_time, id, 0 AS kind, organizer_id FROM bookings
WHERE room_id = %(room_id)s AND status IN ('PENDING', 'CONFIRMED')
  AND start_time < %(end)s AND end_time > %(start)s AND start_time > %(floor)s
UNION ALL
SELECT start_time, end_time, id, 1, NULL FROM room_closures
WHERE room_id = %(room_id)s AND start_time < %(end)s AND end_time > %(start)s
"""
# With a quota: the requesters' PENDING and CONFIRMED bookings of the room around the
# windows asked for (exempt requesters left out), so quotas count the whole day and week.
_QUOTA_ROWS = """
UNION ALL
SELECT start_time, end_time, id, 2, organizer_id FROM bookings
WHERE room_id = %(room_id)s AND organizer_id = ANY(%(users)s::uuid[])
  AND status IN ('PENDING', 'CONFIRMED')
  AND start_time < %(quota_end)s AND start_time > %(quota_start)s
"""
assert _SLOT == 0 and _CLOSURE == 1 and _QUOTA == 2  # as the statements number them
assert {s.value for s in HOLDING} == {"PENDING", "CONFIRMED"}  # as they name them


def _named_bookings(
    session: Session, room_id: uuid.UUID, requests: Sequence[RoomRequest], now: datetime
) -> dict[uuid.UUID, BookingFacts]:
    """The bookings that cancellations and approvals name, a series cancel's future
    occurrences and a closure's bookings, locked."""
    booking_ids = [
        r.payload.booking_id
        for r in requests
        if isinstance(r.payload, CancelPayload | ApprovalPayload)
    ]
    series_ids = [
        r.payload.series_id for r in requests if isinstance(r.payload, SeriesCancelPayload)
    ]
    closed = [
        and_(
            Booking.room_id == room_id,
            Booking.status.in_(HOLDING),
            Booking.start_time < r.payload.end,
            Booking.end_time > r.payload.start,
            Booking.start_time > r.payload.start - MAX_DURATION,
        )
        for r in requests
        if isinstance(r.payload, ClosurePayload)
    ]
    if not (booking_ids or series_ids or closed):
        return {}
    named = session.execute(
        select(
            Booking.id,
            Booking.start_time,
            Booking.end_time,
            Booking.status,
            Booking.series_id,
            Booking.organizer_id,
        )
        .where(
            or_(
                Booking.id.in_(booking_ids),
                and_(
                    Booking.series_id.in_(series_ids),
                    Booking.status.in_(HOLDING),
                    Booking.start_time >= now,
                ),
                *closed,
            )
        )
        .with_for_update()
    ).all()
    return {row.id: BookingFacts(*row) for row in named}


# Every decided request's status and task document in one statement (arrays + unnest).
# Every decided request's status and task document in one statement (arrays + unnest),
# and in the same statement (so at no extra round trip) the outbox events of what was
# decided: the task documents as just written (from RETURNING: the other parts of one
# statement see the rows as they were before it), and the bookings as the earlier
# statements of this transaction left them. No event is written while no webhook is
# active (models/services/outbox.py).
_RECORD_HEAD = """
WITH updated AS (
    UPDATE booking_requests AS r
    SET status = v.status, result = v.result, error = v.error, progress = v.progress,
        decided_at = %(now)s, updated_at = %(now)s
    FROM unnest(%(id)s::uuid[], %(status)s::text[], %(result)s::jsonb[], %(error)s::jsonb[],
                %(progress)s::jsonb[]) AS v(id, status, result, error, progress)
    WHERE r.id = v.id AND r.id = ANY(%(id)s::uuid[])  -- the planner cannot size unnest()
    RETURNING r.*
)
INSERT INTO events (id, type, user_id, subject_id, data, created_at)
"""
_RECORD_OUTCOMES = "\n".join(
    (_RECORD_HEAD, TASK_EVENTS.replace("{requests}", "updated"), "UNION ALL", BOOKING_EVENTS)
)


def record_outcomes(
    session: Session, outcomes: Sequence[Outcome], now: datetime, *, with_events: bool = True
) -> int:
    """Every request's status and task document, in one statement, with the events of
    the tasks and bookings they decided (how many events; none without `with_events`:
    no webhook was active). A request decided twice in one transaction (WAITLISTED,
    then promoted) keeps its last outcome."""
    if not outcomes:
        return 0
    tasks, bookings = outcome_events(outcomes) if with_events else ([], [])
    outcomes = list({o.request_id: o for o in outcomes}.values())
    result: Any = session.connection().exec_driver_sql(
        _RECORD_OUTCOMES,
        {
            "id": [o.request_id for o in outcomes],
            "status": [o.status.value for o in outcomes],
            "result": [_json(o.result) for o in outcomes],
            "error": [_json(o.error) for o in outcomes],
            "progress": [Jsonb(o.progress) for o in outcomes],
            "now": now,
            **event_params(tasks, bookings),
        },
    )
    return int(result.rowcount or 0)


def _json(value: dict[str, Any] | None) -> Jsonb | None:
    return None if value is None else Jsonb(value)


def _decide_alone(
    session: Session, room: RoomFacts, request: RoomRequest, now: datetime, hooked: bool
) -> tuple[list[Outcome], int]:
    """Decide one request (and the waitlist it may free) in its own savepoint, against
    the database's current state, and record it; its outcomes and events. If the
    savepoint is rolled back, the refusal (or fault) alone is recorded."""
    total = len(windows(request.payload)) or 1
    try:
        with session.begin_nested():
            snapshot = load_snapshot(session, room, [request], now)
            outcomes = decide(room, snapshot, [request], now=now)
            write_effects(session, room.id, [e for o in outcomes for e in o.effects], now)
            written = record_outcomes(session, outcomes, now, with_events=hooked)
            session.flush()
        return outcomes, written
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.ExclusionViolation):
            refusal = Refusal("CONFLICT", "the room is already booked in that window")
            refused = rejected(request, refusal, total=total)
        else:
            log.exception("request %s refused by the database", request.id)
            refused = failed(request.id, "the database refused the write", total=total)
    except (OperationalError, InterfaceError):
        raise  # the database is away, not the request at fault: the whole room retries
    except Exception:
        # A request that breaks its decider must not block its room forever: it is
        # recorded as FAILED (a fault, not a business outcome) and logged with its trace.
        log.exception("request %s could not be decided", request.id)
        refused = failed(request.id, "the request could not be decided", total=total)
    return [refused], record_outcomes(session, [refused], now, with_events=hooked)
