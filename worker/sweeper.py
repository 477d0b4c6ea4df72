"""Nothing accepted is lost: re-send requests left QUEUED too long (broker down, worker killed)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session, sessionmaker

from models.services.housekeeping import SKIPPED, exclusive
from models.tables.base import utcnow
from models.tables.requests import BookingRequest, RequestStatus

STALE_AFTER = timedelta(seconds=5)
log = logging.getLogger(__name__)

Send = Callable[[uuid.UUID, uuid.UUID], None]  # (room_id, request_id)


def sweep_queued(
    sessions: sessionmaker[Session],
    send: Send,
    *,
    stale_after: timedelta = STALE_AFTER,
    limit: int = 1000,
) -> int:
    """Send one message per room whose oldest QUEUED request is stale; return how many.

    One message per room is enough: a worker decides every QUEUED request of the room.
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
            try:
                send(room_id, request_id)
            except (BrokerError, OSError) as exc:
                log.warning("sweeper could not reach the broker: %s", exc)
                break  # the rest wait for the next sweep; nothing is marked as sent
            targets.append((room_id, request_id))
        if targets:
            session.execute(
                update(BookingRequest)
                .where(
                    BookingRequest.room_id.in_([room_id for room_id, _ in targets]),
                    BookingRequest.status == RequestStatus.QUEUED,
                    or_(BookingRequest.sent_at.is_(None), BookingRequest.sent_at < cutoff),
                )
                .values(sent_at=utcnow(), attempts=BookingRequest.attempts + 1)
            )
        return len(targets)
