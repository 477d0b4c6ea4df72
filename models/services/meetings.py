"""Checking in to a booking's meeting, and finding a meeting by its join code."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.domain.identity import Viewer
from models.domain.lifecycle import AUDIT_ACTIONS, MeetingEvent, meeting_after
from models.domain.states import BookingStatus, MeetingState
from models.errors import Conflict, Forbidden, NotFound
from models.services.outbox import BOOKING_CHECKED_IN, emit
from models.tables.audit import AuditEvent
from models.tables.bookings import Booking, Meeting

CHECK_IN_OPENS = timedelta(minutes=15)


def check_in(session: Session, *, booking_id: uuid.UUID, user: Viewer, now: datetime) -> Meeting:
    """Make the meeting ACTIVE: organizer only, within [start - 15 min, end).

    The booking row is locked, so a check-in and a no-show release of the same booking
    cannot both win: whichever locks first decides, the other sees its outcome.
    """
    booking = session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if booking is None or not (user.is_admin or booking.organizer_id == user.id):
        raise NotFound("no such booking")
    if booking.organizer_id != user.id:
        raise Forbidden("only the organizer checks in")
    meeting = booking.meeting
    if booking.status != BookingStatus.CONFIRMED or meeting is None:
        raise Conflict("the booking is not confirmed", code="NOT_CONFIRMED")
    if meeting.state == MeetingState.ACTIVE:
        return meeting
    if not booking.start_time - CHECK_IN_OPENS <= now < booking.end_time:
        raise Conflict(
            "check-in is open from 15 minutes before the start until the end",
            code="OUTSIDE_CHECK_IN_WINDOW",
            details={
                "opens": (booking.start_time - CHECK_IN_OPENS).isoformat(),
                "closes": booking.end_time.isoformat(),
            },
        )
    if meeting.state == MeetingState.ENDED:
        raise Conflict("the meeting has ended", code="MEETING_ENDED")
    meeting.state = meeting_after(meeting.state, MeetingEvent.CHECK_IN) or meeting.state
    meeting.checked_in_at = now
    meeting.updated_at = now
    session.add(
        AuditEvent(
            actor_id=user.id,
            action=AUDIT_ACTIONS[MeetingEvent.CHECK_IN],
            booking_id=booking.id,
            room_id=booking.room_id,
            data={},
            at=now,
        )
    )
    session.flush()
    emit(session, bookings=[(booking.id, BOOKING_CHECKED_IN)], now=now)
    return meeting


def meeting_by_code(session: Session, join_code: str) -> Meeting:
    """A meeting that has not ended; 404 once it has (the code no longer resolves)."""
    meeting = session.scalars(
        select(Meeting).where(Meeting.join_code == join_code.strip().upper())
    ).first()
    if meeting is None or meeting.state == MeetingState.ENDED:
        raise NotFound("no such meeting")
    return meeting
