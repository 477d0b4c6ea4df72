"""Nothing accepted is lost: re-send requests left QUEUED too long (broker down, worker killed)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import RequestStatus, utcnow
from models.periodic import SKIPPED, JobContext, exclusive, periodic
from models.services.wakeups import RoomWaker
from models.tables.requests import BookingRequest

log = logging.getLogger(__name__)

# Both queues, one-room requests' and several-rooms' (each a partial index of its own):
# said so, the planner reads each by its index instead of the whole table.
EITHER_QUEUE = or_(BookingRequest.rooms.is_(None), BookingRequest.rooms.is_not(None))


def sweep_queued(
    sessions: sessionmaker[Session],
    waker: RoomWaker,
    *,
    stale_after: timedelta,
    limit: int = 1000,
) -> int:
    """Wake every room whose oldest QUEUED request is stale; return how many.

    One message per room is enough: a drain decides every QUEUED request of the room.
    Safe to run twice at once: the second run finds the advisory lock taken and does nothing.
    """
    with sessions.begin() as session:
        if not exclusive(session, "sweep"):
            return SKIPPED
        cutoff = utcnow() - stale_after
        last_touch = func.coalesce(BookingRequest.sent_at, BookingRequest.accepted_at)
        rows = session.execute(
            select(BookingRequest.room_id, BookingRequest.id)
            .where(
                BookingRequest.status == RequestStatus.QUEUED,
                BookingRequest.room_id.is_not(None),
                EITHER_QUEUE,
                last_touch < cutoff,
            )
            .order_by(BookingRequest.room_id, BookingRequest.seq)
            .ext(distinct_on(BookingRequest.room_id))
            .limit(limit)
        ).all()
        targets = []
        for room_id, request_id in rows:
            if room_id is None:
                continue
            if not waker.rewake(room_id, None):
                break  # the broker is away: the rest wait for the next sweep
            targets.append((room_id, request_id))
        if targets:
            session.execute(
                update(BookingRequest)
                .where(
                    BookingRequest.room_id.in_([room_id for room_id, _ in targets]),
                    BookingRequest.status == RequestStatus.QUEUED,
                    EITHER_QUEUE,
                    or_(BookingRequest.sent_at.is_(None), BookingRequest.sent_at < cutoff),
                )
                .values(sent_at=utcnow(), attempts=BookingRequest.attempts + 1)
            )
        return len(targets)


@periodic("sweep", lock=1, pace="sweep")
def sweep(ctx: JobContext) -> int:
    """Re-send requests left QUEUED (broker was down, a worker died)."""
    stale = timedelta(seconds=ctx.settings.sweep_stale_seconds)
    return sweep_queued(ctx.sessions, ctx.waker, stale_after=stale)


def oldest_queued_seconds(session: Session) -> float:
    """How long the oldest QUEUED request has waited for its decision (0: none waits).
    Read by /metrics (bookings_oldest_queued_seconds), through the QUEUED indexes."""
    oldest = session.scalar(
        select(func.min(BookingRequest.accepted_at)).where(
            BookingRequest.status == RequestStatus.QUEUED, EITHER_QUEUE
        )
    )
    return 0.0 if oldest is None else max(0.0, (utcnow() - oldest).total_seconds())
