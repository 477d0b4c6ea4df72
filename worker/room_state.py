"""What a room's transaction knows while it decides, and the writes every decider shares."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.domain.calendar import RoomCalendar, Slot
from models.domain.decisions import Refusal
from models.domain.join_codes import new_join_code
from models.tables.audit import AuditEvent
from models.tables.bookings import Booking, BookingStatus, Meeting, MeetingState
from models.tables.requests import BookingRequest, RequestStatus
from models.tables.rooms import Room


@dataclass
class RoomState:
    session: Session
    room: Room
    calendar: RoomCalendar
    now: datetime


def load_calendar(
    session: Session, room_id: uuid.UUID, start: datetime, end: datetime
) -> RoomCalendar:
    """The room's confirmed bookings overlapping [start, end)."""
    rows = session.execute(
        select(Booking.start_time, Booking.end_time, Booking.id).where(
            Booking.room_id == room_id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.start_time < end,
            Booking.end_time > start,
        )
    ).all()
    return RoomCalendar([Slot(s, e, i) for s, e, i in rows])


def finish(
    request: BookingRequest,
    now: datetime,
    *,
    result: dict[str, Any] | None = None,
    refusal: Refusal | None = None,
    failure: str | None = None,
    total: int = 1,
    confirmed: int | None = None,
    extra_error: dict[str, Any] | None = None,
) -> None:
    """Record the request's outcome: SUCCEEDED, REJECTED (a rule) or FAILED (a fault)."""
    if failure is not None:
        request.status = RequestStatus.FAILED
        request.error = {"code": "INTERNAL_ERROR", "message": failure}
    elif refusal is not None:
        request.status = RequestStatus.REJECTED
        request.error = {**refusal.as_error(), **(extra_error or {})}
    else:
        request.status = RequestStatus.SUCCEEDED
    succeeded = request.status == RequestStatus.SUCCEEDED
    if confirmed is None:
        confirmed = total if succeeded else 0
    request.result = result
    request.progress = {
        "total": total,
        "done": total,
        "confirmed": confirmed,
        "rejected": total - confirmed,
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
    """Write a confirmed booking, its meeting and its audit event; take the slot in memory."""
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
            **({"series_id": str(series_id)} if series_id else {}),
        },
    )
    state.session.add_all([booking, meeting, audit])
    state.calendar.add(Slot(start, end, booking.id))
    return booking


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
