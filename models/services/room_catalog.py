"""Creating, changing, retiring and finding rooms."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Exists,
    Select,
    bindparam,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.domain.policy import RoomPolicy, parse_policy, stored_policy
from models.domain.rules import MAX_DURATION
from models.domain.states import HOLDING, utcnow
from models.errors import Conflict, NotFound, ValidationFailed
from models.tables.bookings import Booking, RoomClosure
from models.tables.rooms import Room
from models.tables.users import User


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


def _policy(session: Session, data: dict[str, Any] | None, base: RoomPolicy) -> dict[str, Any]:
    """The policy the room will store: `data` over `base` (None clears every rule),
    validated, its approvers known users (ValidationFailed names what is wrong)."""
    policy = RoomPolicy() if data is None else parse_policy(data, base)
    if policy.approvers:
        known = set(session.scalars(select(User.id).where(User.id.in_(policy.approvers))))
        unknown = [str(a) for a in policy.approvers if a not in known]
        if unknown:
            raise ValidationFailed(
                "the room policy is invalid",
                details={"policy.approvers": [f"no such user: {', '.join(unknown)}"]},
            )
    return policy.as_dict()


def create_room(session: Session, fields: dict[str, Any]) -> Room:
    fields = dict(fields)
    fields["policy"] = _policy(session, fields.get("policy") or {}, RoomPolicy())
    room = Room(**fields)
    session.add(room)
    _flush_name(session)
    return room


def update_room(session: Session, room_id: uuid.UUID, changes: dict[str, Any]) -> Room:
    room = get_room(session, room_id)
    changes = dict(changes)
    if "policy" in changes:
        changes["policy"] = _policy(session, changes["policy"], stored_policy(room.policy))
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
    building: str | None = None,
    floor: str | None = None,
    include_inactive: bool = False,
    available_between: tuple[datetime, datetime] | None = None,
) -> Select[Room]:
    """Rooms matching every given filter, by name.

    available_between=(start, end) keeps only rooms free for [start, end), in the same
    query: no PENDING or CONFIRMED booking overlapping it (half-open: back-to-back is
    free), no closure overlapping it, and inside the room's opening hours.
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
    if building:  # whole names, ignoring case (ix_rooms_building_floor)
        stmt = stmt.where(func.lower(Room.building) == building.lower())
    if floor:
        stmt = stmt.where(func.lower(Room.floor) == floor.lower())
    if available_between is not None:
        start, end = available_between
        stmt = stmt.where(
            ~_booked_between(start, end),
            ~_closed_between(start, end),
            _open_between(start, end),
        )
    return stmt


def _closed_between(start: datetime, end: datetime) -> Exists:
    return exists().where(
        RoomClosure.room_id == Room.id,
        RoomClosure.start_time < end,
        RoomClosure.end_time > start,
    )


# The window lies inside one of the room's opening intervals of its local day (the same
# rule as models/domain/policy.py, in wall-clock time): true when the room has none.
_OPEN_BETWEEN = """(
  rooms.policy->'opening_hours' IS NULL
  OR jsonb_typeof(rooms.policy->'opening_hours') <> 'object'
  OR EXISTS (
    SELECT 1
    FROM (SELECT (:start AT TIME ZONE rooms.timezone) AS s,
                 (:end AT TIME ZONE rooms.timezone) AS e) AS w,
         jsonb_array_elements(
           rooms.policy->'opening_hours'->((ARRAY['MO','TU','WE','TH','FR','SA','SU'])
             [extract(isodow FROM (:start AT TIME ZONE rooms.timezone))::int])
         ) AS iv
    WHERE w.s::date + (iv->>0)::time <= w.s
      AND w.e <= w.s::date + CASE WHEN iv->>1 = '24:00' THEN interval '24 hours'
                                  ELSE (iv->>1)::time - time '00:00' END
  )
)"""


def _open_between(start: datetime, end: datetime) -> ColumnElement[bool]:
    return text(_OPEN_BETWEEN).bindparams(
        bindparam("start", start, type_=DateTime(timezone=True)),
        bindparam("end", end, type_=DateTime(timezone=True)),
    )  # type: ignore[return-value]


def _booked_between(start: datetime, end: datetime) -> Exists:
    """EXISTS a PENDING or CONFIRMED booking of the outer query's room overlapping it."""
    return exists().where(
        Booking.room_id == Room.id,
        Booking.status.in_(HOLDING),
        Booking.start_time < end,
        Booking.end_time > start,
        Booking.start_time > start - MAX_DURATION,  # bounds the index scan (no booking is longer)
    )
