"""Finding and deleting room closures (closing goes through the room's decider)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models.domain.states import utcnow
from models.errors import NotFound
from models.services.booking_writes import ROOM_REOPENED_ACTION, closure_data
from models.tables.audit import AuditEvent
from models.tables.bookings import RoomClosure


def closure_search(
    room_id: uuid.UUID, *, start: datetime | None = None, end: datetime | None = None
) -> Select[RoomClosure]:
    stmt = (
        select(RoomClosure)
        .where(RoomClosure.room_id == room_id)
        .order_by(RoomClosure.start_time, RoomClosure.id)
    )
    if start is not None:
        stmt = stmt.where(RoomClosure.end_time > start)
    if end is not None:
        stmt = stmt.where(RoomClosure.start_time < end)
    return stmt


def reopen(
    session: Session, room_id: uuid.UUID, closure_id: uuid.UUID, *, actor_id: uuid.UUID
) -> None:
    """Delete the closure, with its audit event. The bookings it cancelled stay cancelled:
    their organizers were told, and others may have booked the slots since."""
    closure = session.get(RoomClosure, closure_id, with_for_update=True)
    if closure is None or closure.room_id != room_id:
        raise NotFound("no such closure")
    session.add(
        AuditEvent(
            at=utcnow(),
            actor_id=actor_id,
            action=ROOM_REOPENED_ACTION,
            room_id=room_id,
            data=closure_data(closure.id, closure.start_time, closure.end_time, closure.reason),
        )
    )
    session.delete(closure)
    session.flush()
