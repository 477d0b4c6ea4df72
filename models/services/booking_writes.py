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

from psycopg.types.json import Jsonb
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
    """Apply the effects: cancellations first, then new series, then their bookings.

    Cancellations go first so a slot freed and taken again in one batch does not trip
    the exclusion constraint. It is safe: a batch never cancels a booking it creates (a
    cancel is accepted only for a booking already committed).
    """
    series = [e for e in effects if isinstance(e, NewSeries)]
    bookings = [e for e in effects if isinstance(e, NewBooking)]
    cancels = [e for e in effects if isinstance(e, CancelBooking)]
    if cancels:
        cancel_bookings(session, room_id, cancels, now)
    if series:
        session.execute(
            insert(table_of(BookingSeries)), [_series_row(s, room_id, now) for s in series]
        )
    if bookings:
        insert_bookings(session, room_id, bookings, now)


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


# Confirmed bookings with their meetings and audit events, in one statement and one
# round trip however many there are: the rows travel as arrays, unnest() turns them
# back into rows, and each CTE inserts into its table. (The foreign keys from meetings
# to bookings are checked at the end of the statement, when every row is in.)
_INSERT_BOOKINGS = """
WITH v AS (
    SELECT * FROM unnest(
        %(id)s::uuid[], %(organizer_id)s::uuid[], %(series_id)s::uuid[],
        %(request_id)s::uuid[], %(start_time)s::timestamptz[], %(end_time)s::timestamptz[],
        %(title)s::text[], %(description)s::text[], %(attendees)s::jsonb[],
        %(meeting_id)s::uuid[], %(join_code)s::text[], %(meeting_url)s::text[],
        %(audit_id)s::uuid[], %(audit_data)s::jsonb[]
    ) AS v(id, organizer_id, series_id, request_id, start_time, end_time, title,
           description, attendees, meeting_id, join_code, meeting_url, audit_id, audit_data)
), booked AS (
    INSERT INTO bookings (id, room_id, organizer_id, series_id, request_id, start_time,
                          end_time, title, description, attendees, status, created_at,
                          updated_at)
    SELECT id, %(room_id)s, organizer_id, series_id, request_id, start_time, end_time,
           title, description,
           ARRAY(SELECT jsonb_array_elements_text(attendees))::varchar(320)[],
           %(status)s, %(now)s, %(now)s
    FROM v
), met AS (
    INSERT INTO meetings (id, booking_id, join_code, external_meeting_url, state,
                          created_at, updated_at)
    SELECT meeting_id, id, join_code, meeting_url, %(meeting_state)s, %(now)s, %(now)s FROM v
)
INSERT INTO audit_events (id, at, actor_id, action, booking_id, room_id, data)
SELECT audit_id, %(now)s, organizer_id, %(action)s, id, %(room_id)s, audit_data FROM v
"""


def insert_bookings(
    session: Session, room_id: uuid.UUID, bookings: Sequence[NewBooking], now: datetime
) -> None:
    """Confirmed bookings, a SCHEDULED meeting with a fresh join code each, and audit events."""
    assert booking_after(None, BookingEvent.CONFIRM) == BookingStatus.CONFIRMED
    columns: dict[str, list[Any]] = {
        "id": [b.id for b in bookings],
        "organizer_id": [b.organizer_id for b in bookings],
        "series_id": [b.series_id for b in bookings],
        "request_id": [b.request_id for b in bookings],
        "start_time": [b.start for b in bookings],
        "end_time": [b.end for b in bookings],
        "title": [b.details.title for b in bookings],
        "description": [b.details.description for b in bookings],
        "attendees": [Jsonb(list(b.details.attendees)) for b in bookings],
        "meeting_id": [uuid.uuid4() for _ in bookings],
        "join_code": [new_join_code() for _ in bookings],
        "meeting_url": [b.details.external_meeting_url for b in bookings],
        "audit_id": [uuid.uuid4() for _ in bookings],
        "audit_data": [Jsonb(_created_data(b)) for b in bookings],
    }
    session.connection().exec_driver_sql(
        _INSERT_BOOKINGS,
        {
            **columns,
            "room_id": room_id,
            "status": BookingStatus.CONFIRMED.value,
            "meeting_state": MeetingState.SCHEDULED.value,
            "action": AUDIT_ACTIONS[BookingEvent.CONFIRM],
            "now": now,
        },
    )


def _created_data(booking: NewBooking) -> dict[str, str]:
    return {
        "request_id": str(booking.request_id),
        "start_time": booking.start.isoformat(),
        "end_time": booking.end.isoformat(),
        **({"series_id": str(booking.series_id)} if booking.series_id else {}),
    }


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
