"""The room processor: decides a room's QUEUED requests, in acceptance order, in one transaction."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import errors as pg_errors
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.acceptance import LOCK_DECIDE
from models.audit import AuditEvent
from models.base import utcnow
from models.booking_request import BookingRequest, RequestKind, RequestStatus
from models.bookings import Booking, BookingStatus, Meeting, MeetingState
from models.calendar import RoomCalendar, Slot
from models.decisions import Refusal, refuse_booking, refuse_cancel
from models.meetings import new_join_code
from models.rooms import Room, room_lock_key

log = logging.getLogger(__name__)

BATCH_SIZE = 200


@dataclass
class RoomState:
    """What one transaction knows of a room while it decides."""

    session: Session
    room: Room
    calendar: RoomCalendar
    now: datetime


def _window(payload: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(payload["start_time"]), datetime.fromisoformat(
        payload["end_time"]
    )


def load_calendar(
    session: Session, room_id: uuid.UUID, start: datetime, end: datetime
) -> RoomCalendar:
    rows = session.execute(
        select(Booking.start_time, Booking.end_time, Booking.id).where(
            Booking.room_id == room_id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.start_time < end,
            Booking.end_time > start,
        )
    ).all()
    return RoomCalendar([Slot(s, e, i) for s, e, i in rows])


def _span(requests: list[BookingRequest]) -> tuple[datetime, datetime] | None:
    windows = [_window(r.payload) for r in requests if r.kind == RequestKind.BOOKING]
    if not windows:
        return None
    return min(w[0] for w in windows), max(w[1] for w in windows)


def _finish(
    request: BookingRequest,
    now: datetime,
    *,
    result: dict[str, Any] | None = None,
    refusal: Refusal | None = None,
    failure: str | None = None,
) -> None:
    if failure is not None:
        request.status = RequestStatus.FAILED
        request.error = {"code": "INTERNAL_ERROR", "message": failure}
    elif refusal is not None:
        request.status = RequestStatus.REJECTED
        request.error = refusal.as_error()
    else:
        request.status = RequestStatus.SUCCEEDED
    request.result = result
    succeeded = request.status == RequestStatus.SUCCEEDED
    request.progress = {
        "total": 1,
        "done": 1,
        "confirmed": int(succeeded),
        "rejected": int(not succeeded),
    }
    request.decided_at = now
    request.updated_at = now


def confirm_booking(
    state: RoomState,
    *,
    organizer_id: uuid.UUID,
    request_id: uuid.UUID,
    payload: dict[str, Any],
    start: datetime,
    end: datetime,
    series_id: uuid.UUID | None = None,
) -> Booking:
    """Write a confirmed booking, its meeting and its audit event; book the slot in memory."""
    booking = Booking(
        id=uuid.uuid4(),
        room_id=state.room.id,
        organizer_id=organizer_id,
        series_id=series_id,
        request_id=request_id,
        start_time=start,
        end_time=end,
        title=payload["title"],
        description=payload.get("description"),
        attendees=list(payload.get("attendees") or []),
        status=BookingStatus.CONFIRMED,
        created_at=state.now,
        updated_at=state.now,
    )
    meeting = Meeting(
        id=uuid.uuid4(),
        booking_id=booking.id,
        join_code=new_join_code(),
        external_meeting_url=payload.get("external_meeting_url"),
        state=MeetingState.SCHEDULED,
        created_at=state.now,
        updated_at=state.now,
    )
    audit = AuditEvent(
        id=uuid.uuid4(),
        at=state.now,
        actor_id=organizer_id,
        action="booking.created",
        booking_id=booking.id,
        room_id=state.room.id,
        data={
            "request_id": str(request_id),
            "start_time": start.isoformat(),
            "end_time": end.isoformat(),
        },
    )
    state.session.add_all([booking, meeting, audit])
    state.calendar.add(Slot(start, end, booking.id))
    return booking


def decide_booking(state: RoomState, request: BookingRequest) -> None:
    payload = request.payload
    start, end = _window(payload)
    refusal = refuse_booking(
        room_active=state.room.active,
        capacity=state.room.capacity,
        calendar=state.calendar,
        start=start,
        end=end,
        attendees=list(payload.get("attendees") or []),
    )
    if refusal is not None:
        _finish(request, state.now, refusal=refusal)
        return
    booking = confirm_booking(
        state,
        organizer_id=request.requester_id,
        request_id=request.id,
        payload=payload,
        start=start,
        end=end,
    )
    _finish(request, state.now, result={"booking_id": str(booking.id)})


def cancel_booking(
    state: RoomState,
    booking: Booking,
    *,
    actor_id: uuid.UUID | None,
    reason: str | None,
    action: str,
) -> None:
    """Cancel a confirmed booking: free its slot, end its meeting, write its audit event."""
    booking.status = BookingStatus.CANCELLED
    booking.cancel_reason = reason
    booking.updated_at = state.now
    if booking.meeting is not None:
        booking.meeting.state = MeetingState.ENDED
        booking.meeting.updated_at = state.now
    state.session.add(
        AuditEvent(
            id=uuid.uuid4(),
            at=state.now,
            actor_id=actor_id,
            action=action,
            booking_id=booking.id,
            room_id=booking.room_id,
            data={"reason": reason} if reason else {},
        )
    )
    state.calendar.remove(booking.id)


def decide_cancel(state: RoomState, request: BookingRequest) -> None:
    booking_id = uuid.UUID(request.payload["booking_id"])
    booking = state.session.get(Booking, booking_id, with_for_update=True)
    if booking is None:
        _finish(request, state.now, refusal=Refusal("NOT_FOUND", "the booking does not exist"))
        return
    refusal = refuse_cancel(status=booking.status.value, end=booking.end_time, now=state.now)
    if refusal is not None:
        _finish(request, state.now, refusal=refusal)
        return
    cancel_booking(
        state,
        booking,
        actor_id=request.requester_id,
        reason=request.payload.get("reason"),
        action="booking.cancelled",
    )
    _finish(request, state.now, result={"booking_id": str(booking.id)})


Decider = Callable[[RoomState, BookingRequest], None]
DECIDERS: dict[RequestKind, Decider] = {
    RequestKind.BOOKING: decide_booking,
    RequestKind.CANCEL: decide_cancel,
}


def register(kind: RequestKind, decider: Decider) -> None:
    DECIDERS[kind] = decider


def _is_exclusion_violation(exc: IntegrityError) -> bool:
    return isinstance(exc.orig, pg_errors.ExclusionViolation)


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
                    BookingRequest.room_id == room_id, BookingRequest.status == RequestStatus.QUEUED
                )
                .order_by(BookingRequest.seq)
                .limit(batch_size)
                .with_for_update()
            )
        )
        if not requests:
            return 0
        now = utcnow()
        room = session.get(Room, room_id)
        if room is None:  # a foreign key makes this impossible; say so loudly if it happens
            raise LookupError(f"room {room_id} of queued requests does not exist")
        span = _span(requests)
        calendar = load_calendar(session, room_id, *span) if span else RoomCalendar()
        state = RoomState(session, room, calendar, now)
        for request in requests:
            if careful:
                _decide_alone(state, request)
            else:
                DECIDERS[request.kind](state, request)
        session.flush()
        return len(requests)


def _decide_alone(state: RoomState, request: BookingRequest) -> None:
    """Decide one request inside its own savepoint, against the database's current state."""
    session = state.session
    if request.kind == RequestKind.BOOKING:
        state.calendar = load_calendar(session, state.room.id, *_window(request.payload))
    try:
        with session.begin_nested():
            DECIDERS[request.kind](state, request)
            session.flush()
    except IntegrityError as exc:
        if _is_exclusion_violation(exc):
            refusal = Refusal("CONFLICT", "the room is already booked in that window")
            _finish(request, state.now, refusal=refusal)
        else:
            log.exception("request %s refused by the database", request.id)
            _finish(request, state.now, failure="the database refused the write")
    except Exception:
        # A request that breaks the decider must not block its room forever: it is
        # recorded as FAILED (an infrastructure fault, not a business outcome) and logged.
        log.exception("request %s could not be decided", request.id)
        _finish(request, state.now, failure="the request could not be decided")


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
        except IntegrityError:
            log.warning("room %s: batch refused by the database, deciding one by one", room_id)
            done = decide_batch(sessions, room_id, batch_size=batch_size, careful=True)
        total += done
        if done < batch_size:
            break
        between_batches()
    return total
