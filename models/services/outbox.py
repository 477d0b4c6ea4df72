"""The outbox: each change writes the events it causes, in its own transaction.

`emit` turns task and booking ids into `events` rows with one statement, the payload built
by Postgres from the rows as they stand once the change is written: an event exists if
and only if its change committed. Nothing is written while no webhook is active and mail
is off (nobody could receive it: a webhook made later receives the events after it).
With mail on (SMTP_URL), the events mail is made from are written too: a booking's
confirmation, change, cancellation or wait for approval, and a waitlisted request's
promotion. Whether mail is on is the process's setting, carried by its sessions
(`MAIL_EVENTS` in their `info`, set by models/runtime.build), so every writer of events
follows it without being handed it.
`models/services/dispatch.py` fans events out to webhook deliveries and mail; the
`bookings webhooks` process sends them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy.orm import Session

from models.domain.engine import (
    ApproveBooking,
    CancelBooking,
    ChangeBooking,
    NewBooking,
    Outcome,
)
from models.domain.states import FINISHED, BookingStatus, RequestStatus

TASK_FINISHED = "task.finished"
TASK_WAITLISTED = "task.waitlisted"
BOOKING_PENDING = "booking.pending"
BOOKING_CONFIRMED = "booking.confirmed"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_CHECKED_IN = "booking.checked_in"
BOOKING_CHANGED = "booking.changed"
WEBHOOK_PING = "webhook.ping"
# The booking events that make mail (models/mail/fan_out.py); and task.finished, of a
# request that had waited on a waitlist and is now booked.
MAIL_BOOKING_EVENTS = (BOOKING_PENDING, BOOKING_CONFIRMED, BOOKING_CHANGED, BOOKING_CANCELLED)
MAIL_EVENTS = "outbox.mail"  # Session.info key: this process sends mail (SMTP_URL)


def mail_on(session: Session) -> bool:
    """Whether this session's process has mail on (its events include mail's)."""
    return bool(session.info.get(MAIL_EVENTS, False))


EVENT_TYPES = (
    TASK_FINISHED,
    TASK_WAITLISTED,
    BOOKING_PENDING,
    BOOKING_CONFIRMED,
    BOOKING_CHANGED,
    BOOKING_CANCELLED,
    BOOKING_CHECKED_IN,
    WEBHOOK_PING,
)

# One statement writes the events of tasks and bookings (id, type), their payloads built
# by Postgres from the rows as this transaction left them: the task document and the
# booking as the API shows them (task_status.task_document, api/schemas/bookings), a
# changed booking with where it was before (`previous`).
_EMIT = """
INSERT INTO events (id, type, user_id, subject_id, data, created_at)
SELECT gen_random_uuid(), t.type, r.requester_id, r.id, jsonb_build_object(
           'task_id', r.id, 'kind', r.kind, 'status', r.status,
           'created_at', r.created_at, 'updated_at', r.updated_at,
           'result', r.result, 'error', r.error, 'progress', r.progress),
       %(now)s
FROM unnest(%(task_ids)s::uuid[], %(task_types)s::text[]) AS t(id, type)
JOIN booking_requests r ON r.id = t.id
WHERE EXISTS (SELECT 1 FROM webhooks WHERE active)
   OR (%(mail)s AND t.type = 'task.finished' AND r.status = 'SUCCEEDED'
       AND r.waitlisted_at IS NOT NULL)
UNION ALL
SELECT gen_random_uuid(), t.type, b.organizer_id, b.id, jsonb_build_object(
           'id', b.id, 'room_id', b.room_id, 'organizer_id', b.organizer_id,
           'booked_by', b.booked_by, 'group_id', b.group_id,
           'series_id', b.series_id, 'start_time', b.start_time, 'end_time', b.end_time,
           'title', b.title, 'description', b.description, 'attendees', to_jsonb(b.attendees),
           'status', b.status, 'cancel_reason', b.cancel_reason,
           'meeting', CASE WHEN m.id IS NULL THEN NULL ELSE jsonb_build_object(
               'id', m.id, 'booking_id', m.booking_id, 'join_code', m.join_code,
               'external_meeting_url', m.external_meeting_url, 'state', m.state) END,
           'version', b.version, 'created_at', b.created_at, 'updated_at', b.updated_at)
       || CASE WHEN t.previous IS NULL THEN '{}'::jsonb
               ELSE jsonb_build_object('previous', t.previous) END,
       %(now)s
FROM unnest(%(booking_ids)s::uuid[], %(booking_types)s::text[], %(previous)s::jsonb[])
    AS t(id, type, previous)
JOIN bookings b ON b.id = t.id
LEFT JOIN meetings m ON m.booking_id = b.id
WHERE EXISTS (SELECT 1 FROM webhooks WHERE active)
   OR (%(mail)s AND t.type = ANY(%(mail_types)s::text[]))
"""

# A booking event: (booking id, type) or (booking id, type, where it was before a change).
BookingEvent = tuple[uuid.UUID, str] | tuple[uuid.UUID, str, dict[str, Any]]


def emit(
    session: Session,
    *,
    tasks: Sequence[tuple[uuid.UUID, str]] = (),
    bookings: Sequence[BookingEvent] = (),
    now: datetime,
) -> int:
    """Write the events of these tasks and bookings; how many (none while no webhook is
    active and mail is off; with mail on, those mail is made from)."""
    if not tasks and not bookings:
        return 0
    params = {
        "task_ids": [t for t, _ in tasks],
        "task_types": [k for _, k in tasks],
        "booking_ids": [b[0] for b in bookings],
        "booking_types": [b[1] for b in bookings],
        "previous": [Jsonb(b[2]) if len(b) > 2 else None for b in bookings],
        "now": now,
        "mail": mail_on(session),
        "mail_types": list(MAIL_BOOKING_EVENTS),
    }
    result: Any = session.connection().exec_driver_sql(_EMIT, params)
    return int(result.rowcount or 0)


def task_event(status: RequestStatus) -> str | None:
    if status == RequestStatus.WAITLISTED:
        return TASK_WAITLISTED
    return TASK_FINISHED if status in FINISHED else None


def outcome_events(
    outcomes: Iterable[Outcome],
) -> tuple[list[tuple[uuid.UUID, str]], list[BookingEvent]]:
    """The task and booking events of what a transaction decided. A request decided twice
    (waitlisted, then promoted) reports its last status once; a waiter that waits again
    (`quiet`) reports nothing new."""
    last: dict[uuid.UUID, Outcome] = {}
    bookings: list[BookingEvent] = []
    for outcome in outcomes:
        last[outcome.request_id] = outcome
        for effect in outcome.effects:
            if isinstance(effect, NewBooking):
                pending = effect.status == BookingStatus.PENDING
                bookings.append((effect.id, BOOKING_PENDING if pending else BOOKING_CONFIRMED))
            elif isinstance(effect, ChangeBooking):
                bookings.append((effect.booking_id, BOOKING_CHANGED, effect.before.window()))
            elif isinstance(effect, ApproveBooking):
                bookings.append((effect.booking_id, BOOKING_CONFIRMED))
            elif isinstance(effect, CancelBooking):
                bookings.append((effect.booking_id, BOOKING_CANCELLED))
    # A booking made and cancelled in one transaction (a closure over it) reports both.
    tasks = [
        (o.request_id, kind)
        for o in last.values()
        if not o.quiet and (kind := task_event(o.status))
    ]
    return tasks, bookings


# The oldest undispatched events, marked dispatched, in one statement. SKIP LOCKED: two
# dispatchers at once share the work instead of waiting.
_TAKE = """
UPDATE events e SET dispatched_at = %(now)s
WHERE e.id IN (
    SELECT id FROM events
    WHERE dispatched_at IS NULL
    ORDER BY created_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING e.id, e.type, e.user_id, e.subject_id, e.data
"""
DISPATCH_BATCH = 500


@dataclass(frozen=True)
class OutboxEvent:
    id: uuid.UUID
    type: str
    user_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    data: dict[str, Any]


def take_events(session: Session, now: datetime, limit: int = DISPATCH_BATCH) -> list[OutboxEvent]:
    """A batch of new events, marked dispatched in this transaction (its caller fans them
    out in the same one: each event is fanned out once, or not at all)."""
    rows = session.connection().exec_driver_sql(_TAKE, {"limit": limit, "now": now})
    return [OutboxEvent(*row) for row in rows]
