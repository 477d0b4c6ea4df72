"""Writing the engine's effects: new series, bookings with their meetings, changes,
cancellations, approvals and closures, each with its audit event.

Every booking write goes through here, in the same transaction as its audit event: the
room's decider and housekeeping's no-show release alike. Effects are written in the
order the engine decided them, each run of one kind in one statement however long it is
(a batch of 200 bookings is one INSERT). Every statement boundary is then a state the
engine passed through, so the overlap constraint holds whether it is checked at commit
(the fast path) or after each statement (one request at a time).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from models.domain.engine import (
    ApproveBooking,
    CancelBooking,
    ChangeBooking,
    Effect,
    NewBooking,
    NewClosure,
    NewSeries,
)
from models.domain.join_codes import new_join_code
from models.domain.lifecycle import AUDIT_ACTIONS, BookingEvent, booking_after
from models.domain.states import BookingStatus, MeetingState
from models.services.json_rows import json_rows
from models.tables.audit import AuditEvent
from models.tables.base import table_of
from models.tables.bookings import BookingSeries, RoomClosure

ROOM_CLOSED_ACTION = "room.closed"
ROOM_REOPENED_ACTION = "room.reopened"


def write_effects(session: Session, effects: Sequence[Effect], now: datetime) -> None:
    """Apply the effects in order, a run of one kind per statement."""
    for run in runs(effects):
        WRITERS[type(run[0])](session, run, now)


def runs(effects: Sequence[Effect]) -> list[list[Effect]]:
    """The effects in order, cut where the kind changes or a booking comes again: one
    statement touches a row once (an UPDATE … FROM that matches a row twice applies the
    first match only, so a second change of one booking would be lost)."""
    found: list[list[Effect]] = []
    touched: set[uuid.UUID] = set()
    for effect in effects:
        row = (
            effect.id
            if isinstance(effect, NewSeries | NewBooking | NewClosure)
            else effect.booking_id
        )
        if not found or type(found[-1][0]) is not type(effect) or row in touched:
            found.append([])
            touched = set()
        found[-1].append(effect)
        touched.add(row)
    return found


def _insert_series(session: Session, series: Sequence[Any], now: datetime) -> None:
    session.execute(
        insert(table_of(BookingSeries)),
        [
            {
                "id": s.id,
                "room_id": s.room_id,
                "organizer_id": s.organizer_id,
                "request_id": s.request_id,
                "rule": s.payload.rule,
                "timezone": s.payload.timezone,
                "conflict_policy": s.payload.conflict_policy,
                "title": s.payload.booking.title,
                "created_at": now,
                "updated_at": now,
            }
            for s in series
        ],
    )


# New bookings with their meetings and audit events, in one statement and one round trip
# however many there are: the rows travel as one JSON array (models/services/json_rows.py),
# jsonb_to_recordset() turns them back into rows, and each CTE inserts into its table.
# (The foreign keys from meetings to bookings are checked at the end of the statement,
# when every row is in.) A PENDING booking gets its meeting when it is approved.
_INSERT_BOOKINGS = """
WITH v AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s) AS v(
        id uuid, room_id uuid, organizer_id uuid, series_id uuid, request_id uuid,
        start_time timestamptz, end_time timestamptz, title text, description text,
        attendees jsonb, meeting_id uuid, join_code text, meeting_url text, audit_id uuid,
        audit_data jsonb, status text, action text, group_id uuid, booked_by uuid
    )
), booked AS (
    INSERT INTO bookings (id, room_id, organizer_id, series_id, request_id, start_time,
                          end_time, title, description, attendees, status, group_id,
                          booked_by, original_start, external_meeting_url, created_at,
                          updated_at)
    SELECT id, room_id, organizer_id, series_id, request_id, start_time, end_time,
           title, description,
           ARRAY(SELECT jsonb_array_elements_text(attendees))::varchar(320)[],
           status, group_id, booked_by,
           CASE WHEN series_id IS NULL THEN NULL ELSE start_time END, meeting_url,
           %(now)s, %(now)s
    FROM v
), met AS (
    INSERT INTO meetings (id, booking_id, join_code, external_meeting_url, state,
                          created_at, updated_at)
    SELECT meeting_id, id, join_code, meeting_url, %(meeting_state)s, %(now)s, %(now)s
    FROM v WHERE status = 'CONFIRMED'
)
INSERT INTO audit_events (id, at, actor_id, action, booking_id, room_id, data)
SELECT audit_id, %(now)s, COALESCE(booked_by, organizer_id), action, id, room_id, audit_data
FROM v
"""

# The event that makes a booking of each status, and its audit name.
_MADE_BY = {
    status: (event, AUDIT_ACTIONS[event])
    for event in (BookingEvent.CONFIRM, BookingEvent.REQUEST)
    if (status := booking_after(None, event)) is not None
}


def insert_bookings(session: Session, bookings: Sequence[NewBooking], now: datetime) -> None:
    """New bookings (CONFIRMED with a SCHEDULED meeting and a fresh join code, or PENDING
    without one) and their audit events."""
    rows = [
        {
            "id": b.id,
            "room_id": b.room_id,
            "organizer_id": b.organizer_id,
            "series_id": b.series_id,
            "request_id": b.request_id,
            "start_time": b.start,
            "end_time": b.end,
            "title": b.details.title,
            "description": b.details.description,
            "attendees": list(b.details.attendees),
            "meeting_id": uuid.uuid4(),
            "join_code": new_join_code(),
            "meeting_url": b.details.external_meeting_url,
            "audit_id": uuid.uuid4(),
            "audit_data": _created_data(b),
            "status": b.status.value,
            "action": _MADE_BY[b.status][1],
            "group_id": b.group_id,
            "booked_by": b.booked_by,
        }
        for b in bookings
    ]
    session.connection().exec_driver_sql(
        _INSERT_BOOKINGS,
        {"rows": json_rows(rows), "meeting_state": MeetingState.SCHEDULED.value, "now": now},
    )


def _created_data(booking: NewBooking) -> dict[str, Any]:
    return {
        "request_id": str(booking.request_id),
        "start_time": booking.start.isoformat(),
        "end_time": booking.end.isoformat(),
        **({"series_id": str(booking.series_id)} if booking.series_id else {}),
        **({"group_id": str(booking.group_id)} if booking.group_id else {}),
        **({"organizer_id": str(booking.organizer_id)} if booking.booked_by else {}),
        **({"from_waitlist": True} if booking.from_waitlist else {}),
    }


# Bookings changed in place: each row's new room, window, status, text, meeting URL and
# version; its meeting's URL where the change gives one; a meeting for a booking that
# became CONFIRMED without one (a PENDING booking moved out of a room that asks for
# approval); and an audit event with the old and new values. The booking keeps its id,
# its meeting and its join code.
_CHANGE_BOOKINGS = """
WITH v AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s) AS v(
        id uuid, room_id uuid, start_time timestamptz, end_time timestamptz, status text,
        title text, description text, attendees jsonb, version int, url_given bool,
        meeting_url text, meeting_id uuid, join_code text, audit_id uuid, actor_id uuid,
        audit_data jsonb
    )
), changed AS (
    UPDATE bookings b
    SET room_id = v.room_id, start_time = v.start_time, end_time = v.end_time,
        status = v.status, title = v.title, description = v.description,
        attendees = ARRAY(SELECT jsonb_array_elements_text(v.attendees))::varchar(320)[],
        external_meeting_url = v.meeting_url, version = v.version, updated_at = %(now)s
    FROM v WHERE b.id = v.id
    RETURNING b.id
), relinked AS (
    UPDATE meetings m SET external_meeting_url = v.meeting_url, updated_at = %(now)s
    FROM v WHERE m.booking_id = v.id AND v.url_given
), met AS (
    INSERT INTO meetings (id, booking_id, join_code, external_meeting_url, state,
                          created_at, updated_at)
    SELECT v.meeting_id, v.id, v.join_code, v.meeting_url, %(meeting_state)s, %(now)s, %(now)s
    FROM v JOIN changed c ON c.id = v.id
    WHERE v.status = 'CONFIRMED'
    ON CONFLICT (booking_id) DO NOTHING
)
INSERT INTO audit_events (id, at, actor_id, action, booking_id, room_id, data)
SELECT audit_id, %(now)s, actor_id, %(action)s, id, room_id, audit_data FROM v
"""


def change_bookings(session: Session, changes: Sequence[ChangeBooking], now: datetime) -> None:
    rows = []
    for change in changes:
        a = change.after()
        rows.append(
            {
                "id": a.id,
                "room_id": a.room_id,
                "start_time": a.start,
                "end_time": a.end,
                "status": a.status.value,
                "title": a.title,
                "description": a.description,
                "attendees": list(a.attendees),
                "version": a.version,
                "url_given": "external_meeting_url" in change.text,
                "meeting_url": a.external_meeting_url,
                "meeting_id": uuid.uuid4(),
                "join_code": new_join_code(),
                "audit_id": uuid.uuid4(),
                "actor_id": change.actor_id,
                "audit_data": changed_data(change),
            }
        )
    session.connection().exec_driver_sql(
        _CHANGE_BOOKINGS,
        {
            "rows": json_rows(rows),
            "action": AUDIT_ACTIONS[BookingEvent.CHANGE],
            "meeting_state": MeetingState.SCHEDULED.value,
            "now": now,
        },
    )


def changed_data(change: ChangeBooking) -> dict[str, Any]:
    """The audit event of a change: each value that changed, old and new."""
    before, after = _shown(change.before), _shown(change.after())
    keys = [k for k in after if after[k] != before[k]]
    return {"old": {k: before[k] for k in keys}, "new": {k: after[k] for k in keys}}


def _shown(booking: Any) -> dict[str, Any]:
    return {
        "room_id": str(booking.room_id),
        "start_time": booking.start.isoformat(),
        "end_time": booking.end.isoformat(),
        "status": booking.status.value,
        "title": booking.title,
        "description": booking.description,
        "attendees": list(booking.attendees),
        "external_meeting_url": booking.external_meeting_url,
        "version": booking.version,
    }


# PENDING bookings become CONFIRMED and get their meeting, with the URL the booking asked
# for (one that had a meeting before, confirmed and then moved into a room that asks for
# approval, keeps it), with an audit event each.
_APPROVE = """
WITH v AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s)
        AS v(id uuid, room_id uuid, actor_id uuid, meeting_id uuid, join_code text,
             audit_id uuid)
), approved AS (
    UPDATE bookings b SET status = 'CONFIRMED', updated_at = %(now)s
    FROM v WHERE b.id = v.id AND b.status = 'PENDING'
    RETURNING b.id, b.external_meeting_url
), met AS (
    INSERT INTO meetings (id, booking_id, join_code, external_meeting_url, state,
                          created_at, updated_at)
    SELECT v.meeting_id, a.id, v.join_code, a.external_meeting_url,
           %(meeting_state)s, %(now)s, %(now)s
    FROM approved a JOIN v ON v.id = a.id
    ON CONFLICT (booking_id) DO NOTHING
)
INSERT INTO audit_events (id, at, actor_id, action, booking_id, room_id, data)
SELECT v.audit_id, %(now)s, v.actor_id, %(action)s, a.id, v.room_id, '{}'::jsonb
FROM approved a JOIN v ON v.id = a.id
"""


def approve_bookings(session: Session, approvals: Sequence[ApproveBooking], now: datetime) -> None:
    assert booking_after(BookingStatus.PENDING, BookingEvent.APPROVE) == BookingStatus.CONFIRMED
    session.connection().exec_driver_sql(
        _APPROVE,
        {
            "rows": json_rows(
                [
                    {
                        "id": a.booking_id,
                        "room_id": a.room_id,
                        "actor_id": a.actor_id,
                        "meeting_id": uuid.uuid4(),
                        "join_code": new_join_code(),
                        "audit_id": uuid.uuid4(),
                    }
                    for a in approvals
                ]
            ),
            "meeting_state": MeetingState.SCHEDULED.value,
            "action": AUDIT_ACTIONS[BookingEvent.APPROVE],
            "now": now,
        },
    )


def insert_closures(session: Session, closures: Sequence[NewClosure], now: datetime) -> None:
    """The closures, each with its audit event (the room's, with no booking)."""
    session.execute(
        insert(table_of(RoomClosure)),
        [
            {
                "id": c.id,
                "room_id": c.room_id,
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
                "room_id": c.room_id,
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


# Cancel PENDING or CONFIRMED bookings (cancel, release, decline, expire, close): free
# the slot, end the meeting, audit; in one statement.
_CANCEL = """
WITH v AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s)
        AS v(id uuid, room_id uuid, actor_id uuid, reason text, action text, audit_id uuid,
             audit_data jsonb)
), cancelled AS (
    UPDATE bookings b SET status = 'CANCELLED', cancel_reason = v.reason, updated_at = %(now)s
    FROM v WHERE b.id = v.id
), ended AS (
    UPDATE meetings m SET state = 'ENDED', updated_at = %(now)s
    FROM v WHERE m.booking_id = v.id AND m.state <> 'ENDED'
)
INSERT INTO audit_events (id, at, actor_id, action, booking_id, room_id, data)
SELECT audit_id, %(now)s, actor_id, action, id, room_id, audit_data FROM v
"""


def cancel_bookings(session: Session, cancels: Sequence[CancelBooking], now: datetime) -> None:
    """The caller holds the rooms' decide locks and has checked each transition."""
    session.connection().exec_driver_sql(
        _CANCEL,
        {
            "rows": json_rows(
                [
                    {
                        "id": c.booking_id,
                        "room_id": c.room_id,
                        "actor_id": c.actor_id,
                        "reason": c.reason,
                        "action": AUDIT_ACTIONS[c.event],
                        "audit_id": uuid.uuid4(),
                        "audit_data": {
                            **({"reason": c.reason} if c.reason else {}),
                            **({"note": c.note} if c.note else {}),
                        },
                    }
                    for c in cancels
                ]
            ),
            "now": now,
        },
    )


WRITERS: dict[type, Callable[[Session, Sequence[Any], datetime], None]] = {
    NewSeries: _insert_series,
    NewBooking: insert_bookings,
    ChangeBooking: change_bookings,
    CancelBooking: cancel_bookings,
    ApproveBooking: approve_bookings,
    NewClosure: insert_closures,
}
