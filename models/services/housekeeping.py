"""Periodic housekeeping: end finished meetings, release no-shows, expire approvals and
waitlisted requests at their start, purge old rows.

Every job is idempotent and takes a transaction-scoped advisory lock first, so two runs
at once (two beats, a tick during beat) do the work once: the second finds it taken.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, DateTime, Delete, delete, exists, func, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from models.domain.engine import APPROVAL_EXPIRED, EXPIRED_MESSAGE, CancelBooking
from models.domain.lifecycle import MEETING_TRANSITIONS, BookingEvent, MeetingEvent, booking_after
from models.domain.states import FINISHED, BookingStatus, MeetingState
from models.periodic import SKIPPED, JobContext, exclusive, periodic
from models.services.booking_writes import cancel_bookings
from models.services.outbox import BOOKING_CANCELLED, emit
from models.services.room_store import lock_rooms
from models.services.task_status import reject_waiting
from models.tables.audit import AuditEvent
from models.tables.bookings import Booking, Meeting
from models.tables.requests import BookingRequest
from models.tables.rooms import Room
from models.tables.webhooks import DeliveryStatus, Event, WebhookDelivery

CHUNK = 1000
NO_SHOW = "NO_SHOW"
# Meeting states the END event applies to, from the lifecycle table.
ENDABLE = [s for (s, event) in MEETING_TRANSITIONS if event == MeetingEvent.END]


def end_meetings(sessions: sessionmaker[Session], *, now: datetime) -> int:
    """Meetings whose booking has ended become ENDED (their join code stops resolving)."""
    with sessions.begin() as session:
        if not exclusive(session, "end_meetings"):
            return SKIPPED
        ended: CursorResult[tuple[()]] = session.execute(  # type: ignore[assignment]
            update(Meeting)
            .where(
                Meeting.state.in_(ENDABLE),
                Meeting.booking_id == Booking.id,
                Booking.end_time <= now,
            )
            .values(state=MeetingState.ENDED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return ended.rowcount or 0


RELEASE_CHUNK = 100  # bookings (so at most 100 room locks) per transaction


# Wakes a room's decider (models/services/wakeups.RoomWaker.wake): waiters put back in
# its queue are decided there.
Wake = Callable[[uuid.UUID, int | None], object]


def release_no_shows(sessions: sessionmaker[Session], *, now: datetime, wake: Wake) -> int:
    """Cancel (NO_SHOW) confirmed bookings nobody checked in to within the room's limit;
    the waiters near each freed slot go back to their rooms' queues, which are woken."""
    released = 0
    while True:
        done = _release_chunk(sessions, now, wake)
        if done == SKIPPED:
            return SKIPPED if released == 0 else released
        released += done
        if done < RELEASE_CHUNK:
            return released


def _release_chunk(sessions: sessionmaker[Session], now: datetime, wake: Wake) -> int:
    with sessions.begin() as session:
        if not exclusive(session, "release_no_shows"):
            return SKIPPED
        due = session.execute(
            select(Booking.id, Booking.room_id)
            .join(Room, Room.id == Booking.room_id)
            .join(Meeting, Meeting.booking_id == Booking.id)
            .where(
                Booking.status == BookingStatus.CONFIRMED,
                Room.auto_release_minutes.is_not(None),
                Booking.start_time + func.make_interval(0, 0, 0, 0, 0, Room.auto_release_minutes)
                <= now,
                Booking.end_time > now,
                Meeting.state == MeetingState.SCHEDULED,
            )
            .order_by(Booking.room_id, Booking.start_time)
            .limit(RELEASE_CHUNK)
        ).all()
        rooms = sorted({room for _, room in due})
        lock_rooms(session, rooms)  # the deciders' order: none waits on the other
        freed = [
            f for booking_id, room_id in due if (f := _release(session, booking_id, room_id, now))
        ]
        waiting = requeue_waiters(session, freed, now)
    for room_id in waiting:  # once committed
        wake(room_id, None)
    return len(freed)


Freed = tuple[uuid.UUID, datetime, datetime]  # a room, and the window freed in it


def _release(
    session: Session, booking_id: uuid.UUID, room_id: uuid.UUID, now: datetime
) -> Freed | None:
    """Release one booking if it is still confirmed and nobody checked in meanwhile."""
    booking = session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    meeting = booking.meeting if booking else None
    if booking is None or meeting is None or meeting.state != MeetingState.SCHEDULED:
        return None  # gone, or checked in meanwhile
    if booking_after(booking.status, BookingEvent.RELEASE) is None:
        return None  # no longer confirmed
    release = CancelBooking(booking.id, room_id, None, NO_SHOW, BookingEvent.RELEASE)
    cancel_bookings(session, [release], now)
    emit(session, bookings=[(booking.id, BOOKING_CANCELLED)], now=now)
    return room_id, booking.start_time, booking.end_time


# The WAITLISTED requests near a freed window (the room's buffer around it) go back to
# the queue at their acceptance place (a waiter waits for a conflict; one far from every
# freed window still has it). decided_at stays: they were decided before. The rooms'
# deciders decide them before any later request, or keep them waiting.
_REQUEUE = """
WITH freed AS (
    SELECT f.room, f.s - b.buffer AS s, f.e + b.buffer AS e
    FROM unnest(%(room)s::uuid[], %(start)s::timestamptz[], %(end)s::timestamptz[])
        AS f(room, s, e)
    JOIN LATERAL (
        SELECT make_interval(mins => COALESCE((policy->>'buffer_minutes')::int, 0)) AS buffer
        FROM rooms WHERE id = f.room
    ) b ON true
), near AS (
    SELECT r.id FROM freed f JOIN booking_requests r
      ON r.status = 'WAITLISTED' AND r.rooms IS NULL AND r.room_id = f.room
    WHERE (r.payload->>'start_time')::timestamptz < f.e
      AND (r.payload->>'end_time')::timestamptz > f.s
    UNION
    SELECT r.id FROM freed f JOIN booking_requests r
      ON r.status = 'WAITLISTED' AND r.rooms IS NOT NULL AND r.rooms @> ARRAY[f.room]
    WHERE (r.payload->>'start_time')::timestamptz < f.e
      AND (r.payload->>'end_time')::timestamptz > f.s
), locked AS (
    -- in seq order, as a decider loading a waitlist locks them: neither waits on the
    -- other in a circle
    SELECT id FROM booking_requests
    WHERE id IN (SELECT id FROM near) AND status = 'WAITLISTED'
    ORDER BY seq
    FOR UPDATE
)
UPDATE booking_requests r SET status = 'QUEUED', updated_at = %(now)s
FROM locked WHERE r.id = locked.id
RETURNING r.room_id
"""


def requeue_waiters(session: Session, freed: Sequence[Freed], now: datetime) -> list[uuid.UUID]:
    """Put the waiters near the freed windows back in their rooms' queues; the rooms to
    wake (once committed)."""
    if not freed:
        return []
    rows = session.connection().exec_driver_sql(
        _REQUEUE,
        {
            "room": [room for room, _, _ in freed],
            "start": [start for _, start, _ in freed],
            "end": [end for _, _, end in freed],
            "now": now,
        },
    )
    return sorted({room for (room,) in rows})


def expire_waiting(sessions: sessionmaker[Session], *, now: datetime, wake: Wake) -> int:
    """What waited past its start: PENDING bookings nobody approved are cancelled
    (APPROVAL_EXPIRED, which may let a waiter in), and WAITLISTED requests are REJECTED
    (WAITLIST_EXPIRED). Answers how many of both."""
    expired = 0
    while True:
        done, seen = _expire_chunk(sessions, now, wake)
        if done == SKIPPED:
            return SKIPPED if expired == 0 else expired
        expired += done
        if seen < RELEASE_CHUNK:  # a full chunk (some decided meanwhile): look again
            break
    with sessions.begin() as session:
        if not exclusive(session, "expire_waiting"):
            return expired
        ids = reject_waiting(
            session,
            {"code": "WAITLIST_EXPIRED", "message": EXPIRED_MESSAGE},
            now,
            BookingRequest.payload["start_time"].astext.cast(DateTime(timezone=True)) <= now,
        )
        return expired + len(ids)


def _expire_chunk(sessions: sessionmaker[Session], now: datetime, wake: Wake) -> tuple[int, int]:
    """(bookings expired, bookings looked at) in one transaction."""
    with sessions.begin() as session:
        if not exclusive(session, "expire_waiting"):
            return SKIPPED, 0
        due = session.execute(
            select(Booking.id, Booking.room_id)
            .where(Booking.status == BookingStatus.PENDING, Booking.start_time <= now)
            .order_by(Booking.room_id, Booking.start_time)
            .limit(RELEASE_CHUNK)
        ).all()
        rooms = sorted({room for _, room in due})
        lock_rooms(session, rooms)  # the deciders' order: none waits on the other
        freed: list[Freed] = []
        for booking_id, room_id in due:
            found = session.execute(
                select(Booking.status, Booking.start_time, Booking.end_time)
                .where(Booking.id == booking_id)
                .with_for_update()
            ).first()
            if found is None or booking_after(found.status, BookingEvent.EXPIRE) is None:
                continue  # decided meanwhile
            expire = CancelBooking(booking_id, room_id, None, APPROVAL_EXPIRED, BookingEvent.EXPIRE)
            cancel_bookings(session, [expire], now)
            emit(session, bookings=[(booking_id, BOOKING_CANCELLED)], now=now)
            freed.append((room_id, found.start_time, found.end_time))
        waiting = requeue_waiters(session, freed, now)
    for room_id in waiting:  # once committed
        wake(room_id, None)
    return len(freed), len(due)


def _delete_in_chunks(
    sessions: sessionmaker[Session], job: str, statement: Callable[[], Delete]
) -> int:
    deleted = 0
    while True:
        with sessions.begin() as session:
            if not exclusive(session, job):
                return SKIPPED if deleted == 0 else deleted
            result: CursorResult[tuple[()]] = session.execute(statement())  # type: ignore[assignment]
            count = result.rowcount or 0
        deleted += count
        if count < CHUNK:
            return deleted


def purge_audit(sessions: sessionmaker[Session], *, now: datetime, retention_days: int) -> int:
    """Delete audit events older than the retention, CHUNK rows per transaction."""
    cutoff = now - timedelta(days=retention_days)
    oldest = select(AuditEvent.id).where(AuditEvent.at < cutoff).limit(CHUNK).scalar_subquery()
    return _delete_in_chunks(
        sessions,
        "purge_audit",
        lambda: delete(AuditEvent).where(AuditEvent.id.in_(oldest)),
    )


def purge_requests(sessions: sessionmaker[Session], *, now: datetime, retention_days: int) -> int:
    """Delete finished requests decided before the retention; a batch's items go first."""
    cutoff = now - timedelta(days=retention_days)
    child = aliased(BookingRequest)
    old = select(BookingRequest.id).where(
        BookingRequest.status.in_(FINISHED),
        BookingRequest.decided_at < cutoff,
        ~exists().where(child.parent_id == BookingRequest.id),
    )
    return _delete_in_chunks(
        sessions,
        "purge_requests",
        lambda: delete(BookingRequest).where(
            BookingRequest.id.in_(old.limit(CHUNK).scalar_subquery())
        ),
    )


def purge_events(sessions: sessionmaker[Session], *, now: datetime, retention_days: int) -> int:
    """Delete outbox events older than the retention once no delivery of theirs is still
    PENDING (their deliveries go with them), CHUNK rows per transaction."""
    cutoff = now - timedelta(days=retention_days)
    pending = exists().where(
        WebhookDelivery.event_id == Event.id, WebhookDelivery.status == DeliveryStatus.PENDING
    )
    old = (
        select(Event.id)
        .where(Event.created_at < cutoff, Event.dispatched_at.is_not(None), ~pending)
        .limit(CHUNK)
        .scalar_subquery()
    )
    return _delete_in_chunks(
        sessions, "purge_events", lambda: delete(Event).where(Event.id.in_(old))
    )


# --- the jobs beat runs (models/periodic.py) ---------------------------------------------


@periodic("end_meetings", lock=2)
def end_meetings_job(ctx: JobContext) -> int:
    return end_meetings(ctx.sessions, now=ctx.now)


@periodic("release_no_shows", lock=3)
def release_no_shows_job(ctx: JobContext) -> int:
    return release_no_shows(ctx.sessions, now=ctx.now, wake=ctx.waker.wake)


@periodic("expire_waiting", lock=6)
def expire_waiting_job(ctx: JobContext) -> int:
    return expire_waiting(ctx.sessions, now=ctx.now, wake=ctx.waker.wake)


@periodic("purge_audit", lock=4)
def purge_audit_job(ctx: JobContext) -> int:
    return purge_audit(ctx.sessions, now=ctx.now, retention_days=ctx.settings.audit_retention_days)


@periodic("purge_requests", lock=5)
def purge_requests_job(ctx: JobContext) -> int:
    days = ctx.settings.request_retention_days
    return purge_requests(ctx.sessions, now=ctx.now, retention_days=days)


@periodic("purge_events", lock=7)
def purge_events_job(ctx: JobContext) -> int:
    """Webhook events (and their deliveries) kept as long as finished requests."""
    days = ctx.settings.request_retention_days
    return purge_events(ctx.sessions, now=ctx.now, retention_days=days)
