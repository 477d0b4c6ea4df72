"""Writing the engine's effects: new series, bookings with their meetings, cancellations.

Every write goes through here, with its audit event in the same transaction: the room's
decider and housekeeping's no-show release alike. Rows are written with one Core
statement per table (no ORM unit of work), however many effects a transaction carries.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from models.domain.engine import CancelBooking, Effect, NewBooking, NewSeries
from models.domain.join_codes import new_join_code
from models.domain.lifecycle import AUDIT_ACTIONS, BookingEvent, booking_after
from models.tables.audit import AuditEvent
from models.tables.base import table_of
from models.tables.bookings import Booking, BookingSeries, BookingStatus, Meeting, MeetingState


def write_effects(
    session: Session, room_id: uuid.UUID, effects: Sequence[Effect], now: datetime
) -> None:
    """Apply the effects in order: series first, then bookings, then cancellations."""
    series = [e for e in effects if isinstance(e, NewSeries)]
    bookings = [e for e in effects if isinstance(e, NewBooking)]
    cancels = [e for e in effects if isinstance(e, CancelBooking)]
    if series:
        session.execute(
            insert(table_of(BookingSeries)), [_series_row(s, room_id, now) for s in series]
        )
    if bookings:
        insert_bookings(session, room_id, bookings, now)
    if cancels:
        cancel_bookings(session, room_id, cancels, now)


def _series_row(series: NewSeries, room_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    payload = series.payload
    return {
        "id": series.id,
        "room_id": room_id,
        "organizer_id": series.organizer_id,
        "request_id": series.request_id,
        "rule": payload.rule,
        "timezone": payload.timezone,
        "conflict_policy": payload.conflict_policy,
        "title": payload.booking.title,
        "created_at": now,
        "updated_at": now,
    }


def insert_bookings(
    session: Session, room_id: uuid.UUID, bookings: Sequence[NewBooking], now: datetime
) -> None:
    """Confirmed bookings, a SCHEDULED meeting with a fresh join code each, and audit events."""
    status = booking_after(None, BookingEvent.CONFIRM)
    session.execute(
        insert(table_of(Booking)),
        [
            {
                "id": b.id,
                "room_id": room_id,
                "organizer_id": b.organizer_id,
                "series_id": b.series_id,
                "request_id": b.request_id,
                "start_time": b.start,
                "end_time": b.end,
                "title": b.details.title,
                "description": b.details.description,
                "attendees": list(b.details.attendees),
                "status": status,
                "created_at": now,
                "updated_at": now,
            }
            for b in bookings
        ],
    )
    session.execute(
        insert(table_of(Meeting)),
        [
            {
                "id": uuid.uuid4(),
                "booking_id": b.id,
                "join_code": new_join_code(),
                "external_meeting_url": b.details.external_meeting_url,
                "state": MeetingState.SCHEDULED,
                "created_at": now,
                "updated_at": now,
            }
            for b in bookings
        ],
    )
    session.execute(
        insert(table_of(AuditEvent)),
        [
            {
                "id": uuid.uuid4(),
                "at": now,
                "actor_id": b.organizer_id,
                "action": AUDIT_ACTIONS[BookingEvent.CONFIRM],
                "booking_id": b.id,
                "room_id": room_id,
                "data": {
                    "request_id": str(b.request_id),
                    "start_time": b.start.isoformat(),
                    "end_time": b.end.isoformat(),
                    **({"series_id": str(b.series_id)} if b.series_id else {}),
                },
            }
            for b in bookings
        ],
    )


def cancel_bookings(
    session: Session, room_id: uuid.UUID, cancels: Sequence[CancelBooking], now: datetime
) -> None:
    """Cancel confirmed bookings (cancel or release): free the slot, end the meeting, audit.

    The caller holds the room's decide lock and has checked each transition.
    """
    bookings = table_of(Booking)
    session.execute(
        update(bookings)
        .where(bookings.c.id == bindparam("b_id"))
        .values(status=bindparam("b_status"), cancel_reason=bindparam("b_reason"), updated_at=now),
        [
            {
                "b_id": c.booking_id,
                "b_status": booking_after(BookingStatus.CONFIRMED, c.event),
                "b_reason": c.reason,
            }
            for c in cancels
        ],
    )
    session.execute(
        update(Meeting)
        .where(
            Meeting.booking_id.in_([c.booking_id for c in cancels]),
            Meeting.state != MeetingState.ENDED,
        )
        .values(state=MeetingState.ENDED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        insert(table_of(AuditEvent)),
        [
            {
                "id": uuid.uuid4(),
                "at": now,
                "actor_id": c.actor_id,
                "action": AUDIT_ACTIONS[c.event],
                "booking_id": c.booking_id,
                "room_id": room_id,
                "data": {"reason": c.reason} if c.reason else {},
            }
            for c in cancels
        ],
    )
