"""Creating, changing, retiring and finding rooms."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Exists, Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.domain.rules import MAX_DURATION
from models.errors import Conflict, NotFound
from models.tables.base import utcnow
from models.tables.bookings import Booking, BookingStatus
from models.tables.rooms import Room


def get_room(session: Session, room_id: uuid.UUID) -> Room:
    room = session.get(Room, room_id)
    if room is None:
        raise NotFound("no such room", details={"room_id": str(room_id)})
    return room


def room_zones(session: Session, room_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The time zone of each room that exists among room_ids."""
    rows = session.execute(select(Room.id, Room.timezone).where(Room.id.in_(room_ids)))
    return {room_id: zone for room_id, zone in rows}


def _flush_name(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("a room with that name exists", code="ROOM_NAME_TAKEN") from exc


def create_room(session: Session, fields: dict[str, Any]) -> Room:
    room = Room(**fields)
    session.add(room)
    _flush_name(session)
    return room


def update_room(session: Session, room_id: uuid.UUID, changes: dict[str, Any]) -> Room:
    room = get_room(session, room_id)
    for name, value in changes.items():
        setattr(room, name, value)
    room.updated_at = utcnow()
    _flush_name(session)
    return room


def deactivate_room(session: Session, room_id: uuid.UUID) -> Room:
    room = get_room(session, room_id)
    room.active = False
    room.updated_at = utcnow()
    session.flush()
    return room


def room_search(
    *,
    capacity_min: int | None = None,
    amenities: list[str] | None = None,
    location: str | None = None,
    include_inactive: bool = False,
    available_between: tuple[datetime, datetime] | None = None,
) -> Select[Room]:
    """Rooms matching every given filter, by name.

    available_between=(start, end) keeps only rooms with no confirmed booking
    overlapping [start, end) (half-open: back-to-back is free), in the same query.
    """
    stmt = select(Room).order_by(Room.name)
    if not include_inactive:
        stmt = stmt.where(Room.active.is_(True))
    if capacity_min is not None:
        stmt = stmt.where(Room.capacity >= capacity_min)
    for wanted in {a.strip().lower() for a in amenities or []}:
        listed = func.unnest(Room.amenities).table_valued("name")
        stmt = stmt.where(select(listed).where(func.lower(listed.c.name) == wanted).exists())
    if location:
        stmt = stmt.where(Room.location.icontains(location, autoescape=True))
    if available_between is not None:
        start, end = available_between
        stmt = stmt.where(~_booked_between(start, end))
    return stmt


def _booked_between(start: datetime, end: datetime) -> Exists:
    """EXISTS a confirmed booking of the outer query's room overlapping [start, end)."""
    return exists().where(
        Booking.room_id == Room.id,
        Booking.status == BookingStatus.CONFIRMED,
        Booking.start_time < end,
        Booking.end_time > start,
        Booking.start_time > start - MAX_DURATION,  # bounds the index scan (no booking is longer)
    )
