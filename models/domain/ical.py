"""A room's bookings as an iCalendar (RFC 5545) feed: plain data in, bytes out."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Bookings//Room calendar//EN"
BUSY = "Busy"
UID_DOMAIN = "bookings"


@dataclass(frozen=True)
class CalendarEvent:
    """One PENDING (TENTATIVE) or CONFIRMED booking as a calendar shows it.

    `stamp` is when the booking last changed: with no METHOD, DTSTAMP means exactly
    that (RFC 5545 3.8.7.2), and it keeps the feed stable between fetches.
    """

    booking_id: uuid.UUID
    start: datetime
    end: datetime
    stamp: datetime
    summary: str
    description: str | None = None
    attendees: Sequence[str] = ()
    status: str = "CONFIRMED"  # the VEVENT's STATUS: CONFIRMED, or TENTATIVE when pending

    @classmethod
    def busy(
        cls,
        booking_id: uuid.UUID,
        start: datetime,
        end: datetime,
        stamp: datetime,
        status: str = "CONFIRMED",
    ) -> CalendarEvent:
        """Someone else's booking: when, not what or who."""
        return cls(booking_id, start, end, stamp, BUSY, status=status)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(UTC)


def event_uid(booking_id: uuid.UUID) -> str:
    return f"{booking_id}@{UID_DOMAIN}"


def render_calendar(
    name: str, events: Iterable[CalendarEvent], *, location: str | None = None
) -> bytes:
    """One VCALENDAR named `name`, one VEVENT per event, every time in UTC."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", vText(name))  # vText: escaped like any TEXT value
    for item in events:
        event = Event()
        event.add("uid", event_uid(item.booking_id))
        event.add("dtstamp", _utc(item.stamp))
        event.add("dtstart", _utc(item.start))
        event.add("dtend", _utc(item.end))
        event.add("summary", item.summary)
        if location:
            event.add("location", location)
        if item.description:
            event.add("description", item.description)
        for email in item.attendees:
            event.add("attendee", vCalAddress(f"mailto:{email}"))
        event.add("status", item.status)
        calendar.add_component(event)
    return calendar.to_ical()
