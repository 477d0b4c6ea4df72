"""Door displays: a room's display token, and what the screen beside its door shows.

A room has at most one display token; a new one replaces the stored hash, so the one
before stops opening the page at once. The board shows times only (never a title or a
name): anyone walking past can read it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.feed_tokens import feed_token_digest, new_display_token
from models.domain.states import BookingStatus
from models.services.room_catalog import get_room
from models.tables.bookings import Booking, Meeting
from models.tables.displays import RoomDisplay

SHOWN_TODAY = 6  # bookings listed at most: a door screen has room for a few lines


@dataclass(frozen=True)
class Slot:
    """A confirmed booking as the door shows it: its times in the room's zone."""

    start: datetime
    end: datetime
    join_code: str | None


@dataclass(frozen=True)
class DoorBoard:
    room_name: str
    now: datetime  # in the room's zone
    current: Slot | None
    upcoming: list[Slot]  # the rest of today's, by start

    @property
    def busy(self) -> bool:
        return self.current is not None

    @property
    def check_in(self) -> Slot | None:
        """The meeting whose check-in the QR code opens: the current one, else the next."""
        if self.current is not None:
            return self.current
        return self.upcoming[0] if self.upcoming else None


def replace_display_token(session: Session, room_id: uuid.UUID) -> str:
    """A new display token for the room; the one before stops working. Returned once: only
    its hash is kept."""
    get_room(session, room_id)  # 404 for an unknown room
    token = new_display_token()
    digest = feed_token_digest(token)
    stmt = insert(RoomDisplay).values(room_id=room_id, token_hash=digest)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[RoomDisplay.room_id],
            set_={"token_hash": digest, "created_at": stmt.excluded.created_at},
        )
    )
    return token


def displayed_room(session: Session, token: str) -> uuid.UUID | None:
    """The room whose display this token opens, if any."""
    return session.scalar(
        select(RoomDisplay.room_id).where(RoomDisplay.token_hash == feed_token_digest(token))
    )


def door_board(session: Session, room_id: uuid.UUID, now: datetime) -> DoorBoard:
    """The room's current booking and the rest of today's (local midnight to midnight)."""
    room = get_room(session, room_id)
    zone = ZoneInfo(room.timezone)
    local_now = now.astimezone(zone)
    midnight = datetime.combine(local_now.date() + timedelta(days=1), time(0), zone)
    rows = session.execute(
        select(Booking.start_time, Booking.end_time, Meeting.join_code)
        .outerjoin(Meeting, Meeting.booking_id == Booking.id)
        .where(
            Booking.room_id == room_id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.end_time > now,
            Booking.start_time < midnight,
        )
        .order_by(Booking.start_time)
        .limit(SHOWN_TODAY + 1)
    ).all()
    slots = [Slot(start.astimezone(zone), end.astimezone(zone), code) for start, end, code in rows]
    current = next((s for s in slots if s.start <= local_now), None)
    upcoming = [s for s in slots if s is not current][:SHOWN_TODAY]
    return DoorBoard(room.name, local_now, current, upcoming)
