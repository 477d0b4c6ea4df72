"""The outbox: each change writes the events it causes, in its own transaction.

`emit` turns task and booking ids into `events` rows with one statement, the payload built
by Postgres from the rows as they stand once the change is written: an event exists if
and only if its change committed. Nothing is written while no webhook is active (nobody
could receive it: a webhook made later receives the events after it).
`models/services/webhooks.py` fans events out to deliveries; the worker sends them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models.domain.engine import ApproveBooking, CancelBooking, NewBooking, Outcome
from models.domain.states import FINISHED, BookingStatus, RequestStatus

TASK_FINISHED = "task.finished"
TASK_WAITLISTED = "task.waitlisted"
BOOKING_PENDING = "booking.pending"
BOOKING_CONFIRMED = "booking.confirmed"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_CHECKED_IN = "booking.checked_in"
WEBHOOK_PING = "webhook.ping"
EVENT_TYPES = (
    TASK_FINISHED,
    TASK_WAITLISTED,
    BOOKING_PENDING,
    BOOKING_CONFIRMED,
    BOOKING_CANCELLED,
    BOOKING_CHECKED_IN,
    WEBHOOK_PING,
)

# The task document and the booking, as the API shows them (task_status.task_document,
# api/schemas/bookings.BookingSchema), built by Postgres from the rows after the change.
# `{requests}` names the rows to read tasks from: the table, or the RETURNING of the
# statement that wrote them (models/services/room_decisions.record_outcomes).
TASK_EVENTS = """
SELECT gen_random_uuid(), t.type, r.requester_id, r.id, jsonb_build_object(
           'task_id', r.id, 'kind', r.kind, 'status', r.status,
           'created_at', r.created_at, 'updated_at', r.updated_at,
           'result', r.result, 'error', r.error, 'progress', r.progress),
       %(now)s
FROM unnest(%(task_ids)s::uuid[], %(task_types)s::text[]) AS t(id, type)
JOIN {requests} r ON r.id = t.id
WHERE EXISTS (SELECT 1 FROM webhooks WHERE active)
"""
BOOKING_EVENTS = """
SELECT gen_random_uuid(), t.type, b.organizer_id, b.id, jsonb_build_object(
           'id', b.id, 'room_id', b.room_id, 'organizer_id', b.organizer_id,
           'series_id', b.series_id, 'start_time', b.start_time, 'end_time', b.end_time,
           'title', b.title, 'description', b.description, 'attendees', to_jsonb(b.attendees),
           'status', b.status, 'cancel_reason', b.cancel_reason,
           'meeting', CASE WHEN m.id IS NULL THEN NULL ELSE jsonb_build_object(
               'id', m.id, 'booking_id', m.booking_id, 'join_code', m.join_code,
               'external_meeting_url', m.external_meeting_url, 'state', m.state) END,
           'created_at', b.created_at, 'updated_at', b.updated_at),
       %(now)s
FROM unnest(%(booking_ids)s::uuid[], %(booking_types)s::text[]) AS t(id, type)
JOIN bookings b ON b.id = t.id
LEFT JOIN meetings m ON m.booking_id = b.id
WHERE EXISTS (SELECT 1 FROM webhooks WHERE active)
"""
_EMIT = "\n".join(
    (
        "INSERT INTO events (id, type, user_id, subject_id, data, created_at)",
        TASK_EVENTS.replace("{requests}", "booking_requests"),
        "UNION ALL",
        BOOKING_EVENTS,
    )
)


def event_params(
    tasks: Sequence[tuple[uuid.UUID, str]], bookings: Sequence[tuple[uuid.UUID, str]]
) -> dict[str, list[Any]]:
    return {
        "task_ids": [t for t, _ in tasks],
        "task_types": [k for _, k in tasks],
        "booking_ids": [b for b, _ in bookings],
        "booking_types": [k for _, k in bookings],
    }


def emit(
    session: Session,
    *,
    tasks: Sequence[tuple[uuid.UUID, str]] = (),
    bookings: Sequence[tuple[uuid.UUID, str]] = (),
    now: datetime,
) -> int:
    """Write the events of these tasks and bookings (id, event type); how many."""
    if not tasks and not bookings:
        return 0
    result: Any = session.connection().exec_driver_sql(
        _EMIT, {**event_params(tasks, bookings), "now": now}
    )
    return int(result.rowcount or 0)


def task_event(status: RequestStatus) -> str | None:
    if status == RequestStatus.WAITLISTED:
        return TASK_WAITLISTED
    return TASK_FINISHED if status in FINISHED else None


def outcome_events(
    outcomes: Iterable[Outcome],
) -> tuple[list[tuple[uuid.UUID, str]], list[tuple[uuid.UUID, str]]]:
    """The task and booking events of what a transaction decided. A request decided twice
    (waitlisted, then promoted) reports its last status once."""
    last: dict[uuid.UUID, Outcome] = {}
    bookings: list[tuple[uuid.UUID, str]] = []
    for outcome in outcomes:
        last[outcome.request_id] = outcome
        for effect in outcome.effects:
            if isinstance(effect, NewBooking):
                pending = effect.status == BookingStatus.PENDING
                bookings.append((effect.id, BOOKING_PENDING if pending else BOOKING_CONFIRMED))
            elif isinstance(effect, ApproveBooking):
                bookings.append((effect.booking_id, BOOKING_CONFIRMED))
            elif isinstance(effect, CancelBooking):
                bookings.append((effect.booking_id, BOOKING_CANCELLED))
    # A booking made and cancelled in one transaction (a closure over it) reports both.
    tasks = [(o.request_id, kind) for o in last.values() if (kind := task_event(o.status))]
    return tasks, bookings
