"""The room processor: decides a room's QUEUED requests, in acceptance order, in one transaction."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from psycopg import errors as pg_errors
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from models.domain.calendar import RoomCalendar
from models.domain.decisions import Refusal
from models.domain.recurrence import Occurrence
from models.locks import LOCK_DECIDE, room_lock_key
from models.metrics import DECIDED, DECISION_LATENCY
from models.tables.base import utcnow
from models.tables.requests import BookingRequest, RequestKind, RequestStatus
from models.tables.rooms import Room
from worker.batches import complete_parents
from worker.room_state import RoomState, finish, load_calendar
from worker.series import decide_series
from worker.single import booking_window, decide_booking, decide_cancel

log = logging.getLogger(__name__)

BATCH_SIZE = 200

Decider = Callable[[RoomState, BookingRequest], None]
DECIDERS: dict[RequestKind, Decider] = {
    RequestKind.BOOKING: decide_booking,
    RequestKind.SERIES: decide_series,
    RequestKind.CANCEL: decide_cancel,
}


def _windows(request: BookingRequest) -> list[tuple[datetime, datetime]]:
    if request.kind == RequestKind.BOOKING:
        return [booking_window(request)]
    if request.kind == RequestKind.SERIES:
        occurrences = [Occurrence.from_json(p) for p in request.payload["occurrences"]]
        return [(o.start, o.end) for o in occurrences]
    return []


def _span(requests: list[BookingRequest]) -> tuple[datetime, datetime] | None:
    """One window covering every slot the batch asks for: one calendar query per batch."""
    windows = [w for r in requests for w in _windows(r)]
    if not windows:
        return None
    return min(w[0] for w in windows), max(w[1] for w in windows)


def decide_batch(
    sessions: sessionmaker[Session],
    room_id: uuid.UUID,
    *,
    batch_size: int = BATCH_SIZE,
    careful: bool = False,
) -> int:
    """Decide up to batch_size of the room's QUEUED requests; return how many were decided.

    The fast path decides the whole batch in memory and writes it in one flush. If the
    database refuses that write (a row that bypassed the room's lock, a join-code clash),
    the batch is decided again in careful mode: one savepoint per request, so one bad
    request is refused or failed alone and the others still go through.
    """
    with sessions.begin() as session:
        # Redis keeps workers from colliding; this keeps them from colliding even if a
        # Redis lock expired under a paused worker.
        session.execute(select(func.pg_advisory_xact_lock(LOCK_DECIDE, room_lock_key(room_id))))
        requests = list(
            session.scalars(
                select(BookingRequest)
                .where(
                    BookingRequest.room_id == room_id,
                    BookingRequest.status == RequestStatus.QUEUED,
                )
                .order_by(BookingRequest.seq)
                .limit(batch_size)
                .with_for_update()
            )
        )
        if not requests:
            return 0
        # FOR SHARE: a concurrent deactivation or capacity change waits for this batch.
        room = session.get(Room, room_id, with_for_update={"read": True})
        if room is None:  # a foreign key makes this impossible; say so loudly if it happens
            raise LookupError(f"room {room_id} of queued requests does not exist")
        span = None if careful else _span(requests)  # careful mode loads per request
        calendar = load_calendar(session, room_id, *span) if span else RoomCalendar()
        state = RoomState(session, room, calendar, utcnow())
        for request in requests:
            if careful:
                _decide_alone(state, request)
            else:
                DECIDERS[request.kind](state, request)
        session.flush()
        complete_parents(session, {r.parent_id for r in requests if r.parent_id}, state.now)
        outcomes = [(r.kind.value, r.status.value, r.accepted_at) for r in requests]
    for kind, outcome, accepted_at in outcomes:  # counted once committed
        DECIDED.labels(kind, outcome).inc()
        DECISION_LATENCY.observe((state.now - accepted_at).total_seconds())
    return len(requests)


def _decide_alone(state: RoomState, request: BookingRequest) -> None:
    """Decide one request inside its own savepoint, against the database's current state."""
    session = state.session
    try:
        span = _span([request])
        if span:
            state.calendar = load_calendar(session, state.room.id, *span)
        with session.begin_nested():
            DECIDERS[request.kind](state, request)
            session.flush()
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.ExclusionViolation):
            refusal = Refusal("CONFLICT", "the room is already booked in that window")
            finish(request, state.now, refusal=refusal)
        else:
            log.exception("request %s refused by the database", request.id)
            finish(request, state.now, failure="the database refused the write")
    except Exception:
        # A request that breaks its decider must not block its room forever: it is
        # recorded as FAILED (a fault, not a business outcome) and logged with its trace.
        log.exception("request %s could not be decided", request.id)
        finish(request, state.now, failure="the request could not be decided")


def drain_room(
    sessions: sessionmaker[Session],
    room_id: uuid.UUID,
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int = 50,
    between_batches: Callable[[], object] = lambda: None,
) -> int:
    """Decide batches until the room has nothing QUEUED (or max_batches); return the count."""
    total = 0
    for _ in range(max_batches):
        try:
            done = decide_batch(sessions, room_id, batch_size=batch_size)
        except (OperationalError, InterfaceError):
            raise  # the database is away: the task retries the whole room later
        except Exception:
            # One request the fast path could not take (the database refused the batch, or
            # a decider broke): decide one by one, so only that request fails.
            log.warning("room %s: batch failed, deciding one by one", room_id, exc_info=True)
            done = decide_batch(sessions, room_id, batch_size=batch_size, careful=True)
        total += done
        if done < batch_size:
            break
        between_batches()
    return total
