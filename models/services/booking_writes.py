"""Writing the engine's effects: new series, bookings with their meetings, cancellations,
approvals and closures.

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

from models.domain.engine import (
    ApproveBooking,
    CancelBooking,
    Effect,
    NewBooking,
    NewClosure,
    NewSeries,
)
from models.domain.join_codes import new_join_code
from models.domain.lifecycle import AUDIT_ACTIONS, BookingEvent, booking_after
from models.domain.states import BookingStatus, MeetingState
from models.tables.audit import AuditEvent
from models.tables.base import table_of
from models.tables.bookings import Booking, BookingSeries, Meeting, RoomClosure

ROOM_CLOSED_ACTION = "room.closed"
ROOM_REOPENED_ACTION = "room.reopened"


def write_effects(
    session: Session, room_id: uuid.UUID, effects: Sequence[Effect], now: datetime
) -> None:
    """Apply the effects: approvals, cancellations, closures, new series, then their
    bookings.

    Approvals go first: they take no new slot, and a booking approved and then cancelled
    in one batch must be cancelled after its approval. Cancellations of committed
    bookings go before the inserts so a slot freed and taken again in one batch does not
    trip the exclusion constraint. A booking granted and then closed over in the same
    batch (a closure names every booking in its window, new ones too) is inserted and
    cancelled before the other new bookings, which may take its slot.
    """
    series = [e for e in effects if isinstance(e, NewSeries)]
    bookings = [e for e in effects if isinstance(e, NewBooking)]
    new_ids = {b.id for b in bookings}
    cancels = [e for e in effects if isinstance(e, CancelBooking) and e.booking_id not in new_ids]
    undone = [e for e in effects if isinstance(e, CancelBooking) and e.booking_id in new_ids]
    approvals = [e for e in effects if isinstance(e, ApproveBooking)]
    closures = [e for e in effects if isinstance(e, NewClosure)]
    if approvals:
        approve_bookings(session, room_id, approvals, now)
    if cancels:
        cancel_bookings(session, room_id, cancels, now)
    if closures:
        insert_closures(session, room_id, closures, now)
    if series:
        session.execute(
            insert(table_of(BookingSeries)), [_series_row(s, room_id, now) for s in series]
        )
    if undone:
        undone_ids = {c.booking_id for c in undone}
        insert_bookings(session, room_id, [b for b in bookings if b.id in undone_ids], now)
        cancel_bookings(session, room_id, undone, now)
        bookings = [b for b in bookings if b.id not in undone_ids]
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


# New bookings with their meetings and audit events, in one statement and one round trip
# however many there are: the rows travel as arrays, unnest() turns them back into rows,
# and each CTE inserts into its table. (The foreign keys from meetings to bookings are
# checked at the end of the statement, when every row is in.) A PENDING booking gets its
# meeting when it is approved.
_INSERT_BOOKINGS = """
WITH v AS (
    SELECT * FROM unnest(
        %(id)s::uuid[], %(organizer_id)s::uuid[], %(series_id)s::uuid[],
        %(request_id)s::uuid[], %(start_time)s::timestamptz[], %(end_time)s::timestamptz[],
        %(title)s::text[], %(description)s::text[], %(attendees)s::jsonb[],
        %(meeting_id)s::uuid[], %(join_code)s::text[], %(meeting_url)s::text[],
        %(audit_id)s::uuid[], %(audit_data)s::jsonb[], %(status)s::text[], %(action)s::text[]
    ) AS v(id, organizer_id, series_id, request_id, start_time, end_time, title,
           description, attendees, meeting_id, join_code, meeting_url, audit_id, audit_data,
           status, action)
), booked AS (
    INSERT INTO bookings (id, room_id, organizer_id, series_id, request_id, start_time,
                          end_time, title, description, attendees, status, created_at,
                          updated_at)
    SELECT id, %(room_id)s, organizer_id, series_id, request_id, start_time, end_time,
           title, description,
           ARRAY(SELECT jsonb_array_elements_text(attendees))::varchar(320)[],
           status, %(now)s, %(now)s
    FROM v
), met AS (
    INSERT INTO meetings (id, booking_id, join_code, external_meeting_url, state,
                          created_at, updated_at)
    SELECT meeting_id, id, join_code, meeting_url, %(meeting_state)s, %(now)s, %(now)s
    FROM v WHERE status = 'CONFIRMED'
)
INSERT INTO audit_events (id, at, actor_id, action, booking_id, room_id, data)
SELECT audit_id, %(now)s, organizer_id, action, id, %(room_id)s, audit_data FROM v
"""

# The event that makes a booking of each status, and its audit name.
_MADE_BY = {
    status: (event, AUDIT_ACTIONS[event])
    for event in (BookingEvent.CONFIRM, BookingEvent.REQUEST)
    if (status := booking_after(None, event)) is not None
}


def insert_bookings(
    session: Session, room_id: uuid.UUID, bookings: Sequence[NewBooking], now: datetime
) -> None:
    """New bookings (CONFIRMED with a SCHEDULED meeting and a fresh join code, or PENDING
    without one) and their audit events."""
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
        "status": [b.status.value for b in bookings],
        "action": [_MADE_BY[b.status][1] for b in bookings],
    }
    session.connection().exec_driver_sql(
        _INSERT_BOOKINGS,
        {
            **columns,
            "room_id": room_id,
            "meeting_state": MeetingState.SCHEDULED.value,
            "now": now,
        },
    )


def _created_data(booking: NewBooking) -> dict[str, Any]:
    return {
        "request_id": str(booking.request_id),
        "start_time": booking.start.isoformat(),
        "end_time": booking.end.isoformat(),
        **({"series_id": str(booking.series_id)} if booking.series_id else {}),
        **({"from_waitlist": True} if booking.from_waitlist else {}),
    }


# PENDING bookings become CONFIRMED and get their meeting (its URL from the request that
# asked for the booking, when that request is still kept), with an audit event each.
_APPROVE = """
WITH v AS (
    SELECT * FROM unnest(%(id)s::uuid[], %(actor_id)s::uuid[], %(meeting_id)s::uuid[],
                         %(join_code)s::text[], %(audit_id)s::uuid[])
        AS v(id, actor_id, meeting_id, join_code, audit_id)
), approved AS (
    UPDATE bookings b SET status = 'CONFIRMED', updated_at = %(now)s
    FROM v WHERE b.id = v.id AND b.status = 'PENDING'
    RETURNING b.id, b.request_id
), met AS (
    INSERT INTO meetings (id, booking_id, join_code, external_meeting_url, state,
                          created_at, updated_at)
    SELECT v.meeting_id, a.id, v.join_code, r.payload->>'external_meeting_url',
           %(meeting_state)s, %(now)s, %(now)s
    FROM approved a JOIN v ON v.id = a.id
    LEFT JOIN booking_requests r ON r.id = a.request_id
)
INSERT INTO audit_events (id, at, actor_id, action, booking_id, room_id, data)
SELECT v.audit_id, %(now)s, v.actor_id, %(action)s, a.id, %(room_id)s, '{}'::jsonb
FROM approved a JOIN v ON v.id = a.id
"""


def approve_bookings(
    session: Session, room_id: uuid.UUID, approvals: Sequence[ApproveBooking], now: datetime
) -> None:
    assert booking_after(BookingStatus.PENDING, BookingEvent.APPROVE) == BookingStatus.CONFIRMED
    session.connection().exec_driver_sql(
        _APPROVE,
        {
            "id": [a.booking_id for a in approvals],
            "actor_id": [a.actor_id for a in approvals],
            "meeting_id": [uuid.uuid4() for _ in approvals],
            "join_code": [new_join_code() for _ in approvals],
            "audit_id": [uuid.uuid4() for _ in approvals],
            "meeting_state": MeetingState.SCHEDULED.value,
            "action": AUDIT_ACTIONS[BookingEvent.APPROVE],
            "room_id": room_id,
            "now": now,
        },
    )


def insert_closures(
    session: Session, room_id: uuid.UUID, closures: Sequence[NewClosure], now: datetime
) -> None:
    """The closures, each with its audit event (the room's, with no booking)."""
    session.execute(
        insert(table_of(RoomClosure)),
        [
            {
                "id": c.id,
                "room_id": room_id,
                "start_time": c.start,
                "end_time": c.end,
                "reason": c.reason,
                "created_by": c.actor_id,
                "request_id": c.request_id,
                "created_at": now,
                "updated_at": now,
            }
            for c in closures
        ],
    )
    session.execute(
        insert(table_of(AuditEvent)),
        [
            {
                "id": uuid.uuid4(),
                "at": now,
                "actor_id": c.actor_id,
                "action": ROOM_CLOSED_ACTION,
                "booking_id": None,
                "room_id": room_id,
                "data": closure_data(c.id, c.start, c.end, c.reason),
            }
            for c in closures
        ],
    )


def closure_data(
    closure_id: uuid.UUID, start: datetime, end: datetime, reason: str | None
) -> dict[str, Any]:
    return {
        "closure_id": str(closure_id),
        "start_time": start.isoformat(),
        "end_time": end.isoformat(),
        "reason": reason,
    }


def cancel_bookings(
    session: Session, room_id: uuid.UUID, cancels: Sequence[CancelBooking], now: datetime
) -> None:
    """Cancel PENDING or CONFIRMED bookings (cancel, release, decline, expire, close):
    free the slot, end the meeting, audit.

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
                "b_status": BookingStatus.CANCELLED,
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
                "data": {
                    **({"reason": c.reason} if c.reason else {}),
                    **({"note": c.note} if c.note else {}),
                },
            }
            for c in cancels
        ],
    )
