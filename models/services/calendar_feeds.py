"""Calendar feeds: a room's bookings and a user's own, as iCalendar, and the feed token
that lets a calendar application fetch them without a bearer token.

A feed lists the bookings overlapping its window in every status (a cancelled one stays,
as CANCELLED, so a subscribed client drops it instead of keeping a stale copy). A series
with any booking in the window is written whole, as one recurring event
(models/domain/ical.py): its master, rule and overrides do not change as the window
moves on, so a client keeps the same event from one fetch to the next.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, lazyload

from models.domain import ical
from models.domain.feed_tokens import feed_token_digest, new_feed_token
from models.domain.identity import Viewer
from models.domain.states import BookingStatus
from models.errors import Unauthorized
from models.services.booking_queries import booking_search, sees_details
from models.services.room_catalog import get_room
from models.tables.bookings import Booking, BookingSeries
from models.tables.rooms import Room
from models.tables.users import User

ICAL_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
}


def replace_feed_token(session: Session, user_id: uuid.UUID) -> str:
    """A new feed token for the user; the one before it stops working. Returned once:
    only its hash is kept."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    token = new_feed_token()
    user.feed_token_hash = feed_token_digest(token)
    session.flush()
    return token


def room_feed(
    session: Session, *, room_id: uuid.UUID, viewer: Viewer, start: datetime, end: datetime
) -> bytes:
    """The room's bookings; what and who only where the viewer may see them ("Busy")."""
    room = get_room(session, room_id)
    bookings = _bookings(session, booking_search(start=start, end=end, room_id=room_id))
    entries = _entries(
        session,
        bookings,
        {room.id: room},
        detailed=lambda b: sees_details(viewer, b),
        location=lambda r: r.location,
    )
    return ical.render_calendar(room.name, entries)


def personal_feed(session: Session, *, user_id: uuid.UUID, start: datetime, end: datetime) -> bytes:
    """The bookings the user organizes, in whatever room; each located by its room."""
    user = session.get(User, user_id)
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    bookings = _bookings(session, booking_search(start=start, end=end, organizer_id=user_id))
    entries = _entries(session, bookings, {}, detailed=lambda _: True, location=_room_and_place)
    return ical.render_calendar(f"Bookings of {user.name}", entries)


def _room_and_place(room: Room) -> str:
    return f"{room.name}, {room.location}" if room.location else room.name


def _bookings(session: Session, stmt: Select[Booking]) -> Sequence[Booking]:
    return session.scalars(stmt.options(lazyload(Booking.meeting))).all()


def _entries(
    session: Session,
    bookings: Sequence[Booking],
    rooms: dict[uuid.UUID, Room],
    *,
    detailed: Callable[[Booking], bool],
    location: Callable[[Room], str | None],
) -> list[ical.CalendarEvent | ical.CalendarSeries]:
    """Single bookings as events and each series any of them belongs to, whole, by start."""
    singles = [b for b in bookings if b.series_id is None]
    series_ids = {b.series_id for b in bookings if b.series_id is not None}
    series: Sequence[BookingSeries] = ()
    members: dict[uuid.UUID | None, list[Booking]] = {}
    if series_ids:
        series = session.scalars(
            select(BookingSeries).where(BookingSeries.id.in_(series_ids))
        ).all()
        stmt = select(Booking).where(Booking.series_id.in_(series_ids))
        for booking in _bookings(session, stmt.order_by(Booking.start_time, Booking.id)):
            members.setdefault(booking.series_id, []).append(booking)
    missing = {b.room_id for b in singles} | {s.room_id for s in series}
    if missing - set(rooms):
        found = session.scalars(select(Room).where(Room.id.in_(missing - set(rooms))))
        rooms = {**rooms, **{room.id: room for room in found}}

    def event(booking: Booking, zone: str) -> ical.CalendarEvent:
        room = rooms[booking.room_id]
        return _event(booking, zone, detailed=detailed(booking), location=location(room))

    entries: list[ical.CalendarEvent | ical.CalendarSeries] = [
        event(b, rooms[b.room_id].timezone) for b in singles
    ]
    # A series is written in its own zone: its rule keeps its wall-clock time there (the
    # room's, unless the organizer chose another), so that is where a client expands it.
    entries += [
        ical.CalendarSeries(s.id, s.timezone, s.rule, [event(b, s.timezone) for b in members[s.id]])
        for s in series
    ]
    return sorted(entries, key=_first_start)


def _first_start(entry: ical.CalendarEvent | ical.CalendarSeries) -> tuple[datetime, str]:
    """Entries by start (a series by its first occurrence), then id: the same body, and
    so the same ETag, for the same bookings."""
    if isinstance(entry, ical.CalendarSeries):
        return min(o.start for o in entry.occurrences), str(entry.series_id)
    return entry.start, str(entry.booking_id)


def _event(
    booking: Booking, zone: str, *, detailed: bool, location: str | None
) -> ical.CalendarEvent:
    status = ICAL_STATUS[booking.status]
    if not detailed:
        busy = ical.CalendarEvent.busy(
            booking.id,
            booking.start_time,
            booking.end_time,
            booking.updated_at,
            status,
            location=location,
            zone=zone,
        )
        return replace(busy, sequence=booking.version, original_start=booking.original_start)
    return ical.CalendarEvent(
        booking.id,
        booking.start_time,
        booking.end_time,
        booking.updated_at,
        booking.title,
        booking.description,
        booking.attendees,
        status=status,
        location=location,
        zone=zone,
        sequence=booking.version,
        original_start=booking.original_start,
    )
