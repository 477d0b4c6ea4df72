"""What a mail is about, read from the rows as they are: a booking's subject (its series,
else its group, else itself: one calendar event), who it names, and how to show it.

Who a subject names is the one answer to "may this address get mail about it": its
organizer and every attendee written as an email address (of its held bookings, or of
all of them once none is held); an approval's, the rooms' approvers (the admins where a
room names none); a promotion's, its requester. Mail goes to no other address, but for
the CANCEL an attendee taken off an event gets, when an invitation was sent to them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.domain import ical
from models.domain.states import BookingStatus, Role
from models.mail.itip import Person
from models.mail.letters import About
from models.services.calendar_feeds import booking_entry
from models.tables.bookings import Booking, BookingSeries
from models.tables.mail import Mail, MailKind, MailStatus
from models.tables.rooms import Room
from models.tables.users import User

HELD = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


@dataclass(frozen=True)
class Subject:
    """One calendar event: a single booking, a group's, or a series'."""

    id: uuid.UUID
    bookings: Sequence[Booking]  # every booking of it, by start
    organizer: User
    series: BookingSeries | None

    @property
    def held(self) -> list[Booking]:
        return [b for b in self.bookings if b.status in HELD]

    @property
    def cancelled(self) -> list[Booking]:
        return [b for b in self.bookings if b.status == BookingStatus.CANCELLED]

    def attendee_addresses(self) -> list[str]:
        shown = self.held or list(self.bookings)
        found = {a.lower(): a for b in shown for a in b.attendees if ical.is_email(a)}
        return sorted(found)

    def named(self) -> set[str]:
        """The addresses it names: its organizer's and its attendees'."""
        return {self.organizer.email.lower(), *self.attendee_addresses()}


def subject_id_of(booking: Booking) -> uuid.UUID:
    return booking.series_id or booking.group_id or booking.id


def load_subject(session: Session, booking_id: uuid.UUID) -> Subject | None:
    booking = session.get(Booking, booking_id)
    if booking is None:
        return None
    if booking.series_id is not None:
        where = Booking.series_id == booking.series_id
    elif booking.group_id is not None:
        where = Booking.group_id == booking.group_id
    else:
        where = Booking.id == booking.id
    bookings = session.scalars(select(Booking).where(where).order_by(Booking.start_time)).all()
    organizer = session.get(User, booking.organizer_id)
    if organizer is None:
        return None
    series = session.get(BookingSeries, booking.series_id) if booking.series_id else None
    return Subject(subject_id_of(booking), bookings, organizer, series)


def person(user: User) -> Person:
    return Person(user.email, user.name)


def entry(session: Session, subject: Subject) -> ical.CalendarEvent | ical.CalendarSeries:
    """The event as the organizer's feed writes it (the same UID and SEQUENCE)."""
    return booking_entry(session, subject.bookings[0])


def about(session: Session, subject: Subject, booking: Booking | None = None) -> About:
    """The subject as a mail shows it: `booking`, or its next held booking (its first
    one once none is held), at its room's time (a series': the series' zone)."""
    shown = booking or _next(subject)
    rooms = _rooms(
        session, [b.room_id for b in subject.bookings if b.start_time == shown.start_time]
    )
    zone = subject.series.timezone if subject.series else rooms[0].timezone
    cancelled = subject.cancelled
    return About(
        booking_id=shown.id,
        title=shown.title,
        start=shown.start_time,
        end=shown.end_time,
        zone=zone,
        place="; ".join(_place(room) for room in rooms) or None,
        organizer=person(subject.organizer),
        attendees=list(shown.attendees),
        version=max(b.version for b in subject.bookings),
        repeats=_repeats(subject),
        cancel_reason=(
            shown if shown.status == BookingStatus.CANCELLED else cancelled[-1]
        ).cancel_reason
        if cancelled
        else None,
        description=shown.description,
    )


def _next(subject: Subject) -> Booking:
    held = subject.held
    return held[0] if held else subject.bookings[0]


def _rooms(session: Session, room_ids: Iterable[uuid.UUID]) -> list[Room]:
    ids = sorted(set(room_ids), key=str)
    return list(session.scalars(select(Room).where(Room.id.in_(ids)).order_by(Room.name)))


def _place(room: Room) -> str:
    return f"{room.name}, {room.location}" if room.location else room.name


def _repeats(subject: Subject) -> str | None:
    if subject.series is None:
        return None
    rule = subject.series.rule
    every = int(rule.get("interval", 1))
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month"}.get(rule["freq"], "time")
    cadence = f"every {unit}" if every == 1 else f"every {every} {unit}s"
    if rule.get("by_weekday"):
        cadence += " on " + ", ".join(rule["by_weekday"])
    held = subject.held
    if not held:
        return cadence
    last = held[-1].start_time
    return f"{cadence}, {len(held)} meetings, the last on {last:%Y-%m-%d}"


def approvers(session: Session, room: Room) -> list[User]:
    """Who decides the room's PENDING bookings: its approvers, or the admins if it names
    none."""
    listed = [uuid.UUID(str(a)) for a in room.policy.get("approvers") or []]
    where = User.id.in_(listed) if listed else User.role == Role.ADMIN
    return list(session.scalars(select(User).where(where).order_by(User.email)))


def users_by_email(session: Session, addresses: Iterable[str]) -> dict[str, User]:
    wanted = sorted({a.lower() for a in addresses})
    if not wanted:
        return {}
    found = session.scalars(select(User).where(func.lower(User.email).in_(wanted)))
    return {user.email.lower(): user for user in found}


def opted_out(session: Session, address: str) -> bool:
    """A user with this address asked for no mail (PATCH /v1/users/me)."""
    user = users_by_email(session, [address]).get(address.lower())
    return user is not None and not user.notify_email


def invited_before(session: Session, subject_id: uuid.UUID, address: str) -> bool:
    """An invitation about the subject was sent to the address."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Mail)
            .where(
                Mail.subject_id == subject_id,
                Mail.recipient == address.lower(),
                Mail.kind == MailKind.INVITATION,
                Mail.status == MailStatus.SENT,
            )
        )
    )
