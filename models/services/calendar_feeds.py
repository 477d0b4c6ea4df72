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
from collections.abc import Callable, Iterable, Sequence
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
    """The room's bookings; what and who only where the viewer may see them ("Busy"). A
    series shows the occurrences held in this room: one moved to another room is an
    EXDATE here and an event in that room's feed."""
    room = get_room(session, room_id)
    bookings = _bookings(session, booking_search(start=start, end=end, room_id=room_id))
    entries = _entries(
        session,
        bookings,
        {room.id: room},
        detailed=lambda b: sees_details(viewer, b),
        location=lambda r: r.location,
        only_room=room.id,
    )
    return ical.render_calendar(room.name, entries)


def personal_feed(session: Session, *, user_id: uuid.UUID, start: datetime, end: datetime) -> bytes:
    """The bookings the user organizes, in whatever room; each located by its room. The
    bookings of one several-rooms request are one meeting: one event, in all its rooms."""
    user = session.get(User, user_id)
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    bookings = _bookings(session, booking_search(start=start, end=end, organizer_id=user_id))
    entries = _entries(session, bookings, {}, detailed=lambda _: True, location=_room_and_place)
    return ical.render_calendar(f"Bookings of {user.name}", entries)


def booking_entry(session: Session, booking: Booking) -> ical.CalendarEvent | ical.CalendarSeries:
    """The one event a booking is part of, as its organizer's feed writes it: its series
    (whole), its group's event, or its own (mail's invitations carry it: the same UID,
    SEQUENCE and times as the feed)."""
    [entry] = _entries(session, [booking], {}, detailed=lambda _: True, location=_room_and_place)
    return entry


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
    only_room: uuid.UUID | None = None,
) -> list[ical.CalendarEvent | ical.CalendarSeries]:
    """Single bookings as events and each series any of them belongs to, whole, by start;
    a group's bookings (one several-rooms request, or one occurrence of such a series)
    as one event. With `only_room`, a series' bookings in that room only."""
    singles = [b for b in bookings if b.series_id is None]
    group_ids = {b.group_id for b in singles if b.group_id is not None}
    if group_ids and only_room is None:
        # Every booking of each group, in the window or not (one cancelled before a move
        # stays behind): the event's UID and status do not change as the window moves.
        stmt = select(Booking).where(Booking.group_id.in_(group_ids))
        grouped = _bookings(session, stmt.order_by(Booking.start_time, Booking.id))
        singles = [b for b in singles if b.group_id is None] + list(grouped)
    series_ids = {b.series_id for b in bookings if b.series_id is not None}
    series: Sequence[BookingSeries] = ()
    members: dict[uuid.UUID | None, list[Booking]] = {s: [] for s in series_ids}
    if series_ids:
        series = session.scalars(
            select(BookingSeries).where(BookingSeries.id.in_(series_ids))
        ).all()
        stmt = select(Booking).where(Booking.series_id.in_(series_ids))
        if only_room is not None:
            stmt = stmt.where(Booking.room_id == only_room)
        for booking in _bookings(session, stmt.order_by(Booking.start_time, Booking.id)):
            members[booking.series_id].append(booking)
    held = {b.room_id for b in singles} | {b.room_id for m in members.values() for b in m}
    if held - set(rooms):
        found = session.scalars(select(Room).where(Room.id.in_(held - set(rooms))))
        rooms = {**rooms, **{room.id: room for room in found}}

    def event(group: list[Booking], zone: str) -> ical.CalendarEvent:
        return _event(
            group,
            zone,
            detailed=detailed(group[0]),
            location=_joined(location(rooms[b.room_id]) for b in _shown_rooms(group)),
        )

    entries: list[ical.CalendarEvent | ical.CalendarSeries] = [
        event(g, rooms[g[0].room_id].timezone) for g in _groups(singles)
    ]
    # A series is written in its own zone: its rule keeps its wall-clock time there (the
    # room's, unless the organizer chose another), so that is where a client expands it.
    entries += [
        ical.CalendarSeries(
            s.id, s.timezone, s.rule, [event(g, s.timezone) for g in _groups(members[s.id])]
        )
        for s in series
    ]
    return sorted(entries, key=_first_start)


def _groups(bookings: Sequence[Booking]) -> list[list[Booking]]:
    """The bookings by group (one each where there is none), in the order they came;
    within a group, the held ones first, then by room."""
    groups: dict[uuid.UUID, list[Booking]] = {}
    for booking in bookings:
        groups.setdefault(booking.group_id or booking.id, []).append(booking)
    return [
        sorted(g, key=lambda b: (b.status == BookingStatus.CANCELLED, str(b.room_id)))
        for g in groups.values()
    ]


def _shown_rooms(group: list[Booking]) -> list[Booking]:
    """The group's held bookings, or all of them when none is held (a cancelled event
    still says where it was)."""
    held = [b for b in group if b.status != BookingStatus.CANCELLED]
    return held or group


def _joined(locations: Iterable[str | None]) -> str | None:
    """The rooms' places, by name (a group's rooms in the same order at every fetch)."""
    return "; ".join(sorted(place for place in locations if place)) or None


def _first_start(entry: ical.CalendarEvent | ical.CalendarSeries) -> tuple[datetime, str]:
    """Entries by start (a series by its first occurrence), then id: the same body, and
    so the same ETag, for the same bookings."""
    if isinstance(entry, ical.CalendarSeries):
        return min(o.start for o in entry.occurrences), str(entry.series_id)
    return entry.start, str(entry.booking_id)


def _event(
    group: list[Booking], zone: str, *, detailed: bool, location: str | None
) -> ical.CalendarEvent:
    """One event for a group's bookings (they share a window): its UID the group's first
    booking's, whatever becomes of that one; TENTATIVE while any held one waits for an
    approver; its SEQUENCE and stamp the latest of any."""
    booking = group[0]
    held = {b.status for b in group} - {BookingStatus.CANCELLED}
    status = ICAL_STATUS[
        BookingStatus.PENDING
        if BookingStatus.PENDING in held
        else BookingStatus.CONFIRMED
        if held
        else BookingStatus.CANCELLED
    ]
    uid = min(b.id for b in group)
    stamp = max(b.updated_at for b in group)
    sequence = max(b.version for b in group)
    if not detailed:
        busy = ical.CalendarEvent.busy(
            uid, booking.start_time, booking.end_time, stamp, status, location=location, zone=zone
        )
        return replace(busy, sequence=sequence, original_start=booking.original_start)
    return ical.CalendarEvent(
        uid,
        booking.start_time,
        booking.end_time,
        stamp,
        booking.title,
        booking.description,
        booking.attendees,
        status=status,
        location=location,
        zone=zone,
        sequence=sequence,
        original_start=booking.original_start,
    )
