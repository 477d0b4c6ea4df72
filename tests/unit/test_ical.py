"""models.domain.ical: plain booking data rendered as an RFC 5545 calendar (no services)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from models.domain.ical import BUSY, PRODID, CalendarEvent, event_uid, render_calendar

T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)
H = timedelta(hours=1)
STAMP = datetime(2027, 2, 1, 12, 30, tzinfo=UTC)


def parse(body: bytes) -> Calendar:
    assert isinstance(body, bytes)
    return Calendar.from_ical(body)


def test_one_vevent_per_booking_with_uid_times_and_status() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    events = [
        CalendarEvent(first, T0, T0 + H, STAMP, "Planning"),
        CalendarEvent(second, T0 + 2 * H, T0 + 3 * H, STAMP, "Retro"),
    ]

    calendar = parse(render_calendar("Fjord", events, location="Floor 3"))

    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == "Fjord"
    vevents = calendar.walk("VEVENT")
    assert [str(e["UID"]) for e in vevents] == [f"{first}@bookings", f"{second}@bookings"]
    assert [str(e["SUMMARY"]) for e in vevents] == ["Planning", "Retro"]
    assert vevents[0].decoded("DTSTART") == T0
    assert vevents[0].decoded("DTEND") == T0 + H
    assert vevents[0].decoded("DTSTAMP") == STAMP
    assert all(str(e["STATUS"]) == "CONFIRMED" for e in vevents)
    assert all(str(e["LOCATION"]) == "Floor 3" for e in vevents)


def test_times_are_written_in_utc_whatever_offset_they_come_in() -> None:
    plus_two = timezone(timedelta(hours=2))
    start = datetime(2027, 3, 1, 11, tzinfo=plus_two)  # 09:00Z
    booking = CalendarEvent(uuid.uuid4(), start, start + H, STAMP.astimezone(plus_two), "x")

    body = render_calendar("Room", [booking]).decode()

    assert "DTSTART:20270301T090000Z\r\n" in body
    assert "DTEND:20270301T100000Z\r\n" in body
    assert "DTSTAMP:20270201T123000Z\r\n" in body


def test_naive_times_are_refused() -> None:
    naive = CalendarEvent(
        uuid.uuid4(), datetime(2027, 3, 1, 9), datetime(2027, 3, 1, 10), STAMP, "x"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        render_calendar("Room", [naive])


def test_a_busy_event_has_no_details() -> None:
    busy = CalendarEvent.busy(uuid.uuid4(), T0, T0 + H, STAMP)
    detailed = CalendarEvent(
        uuid.uuid4(), T0 + H, T0 + 2 * H, STAMP, "Review", "numbers", ["a@example.com", "b@x.org"]
    )

    hidden, shown = parse(render_calendar("Room", [busy, detailed])).walk("VEVENT")

    assert str(hidden["SUMMARY"]) == BUSY == "Busy"
    assert "DESCRIPTION" not in hidden and "ATTENDEE" not in hidden
    assert str(shown["DESCRIPTION"]) == "numbers"
    assert [str(a) for a in shown.get("ATTENDEE", [])] == ["mailto:a@example.com", "mailto:b@x.org"]


def test_no_location_line_without_a_location_and_an_empty_calendar_is_valid() -> None:
    booking = CalendarEvent(uuid.uuid4(), T0, T0 + H, STAMP, "x")

    (event,) = parse(render_calendar("Room", [booking], location=None)).walk("VEVENT")
    empty = parse(render_calendar("Empty", []))

    assert "LOCATION" not in event
    assert empty.walk("VEVENT") == []
    assert str(empty["X-WR-CALNAME"]) == "Empty"


def test_text_is_escaped_so_a_name_or_title_cannot_break_the_format() -> None:
    booking = CalendarEvent(uuid.uuid4(), T0, T0 + H, STAMP, "One, two; three\nBEGIN:VEVENT")

    body = render_calendar("Hall, 1; east\nEND:VCALENDAR", [booking], location="A, B")
    text = body.decode()

    assert "X-WR-CALNAME:Hall\\, 1\\; east\\nEND:VCALENDAR\r\n" in text
    lines = text.split("\r\n")
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VCALENDAR") == 1
    (event,) = parse(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == "One, two; three\nBEGIN:VEVENT"
    assert str(event["LOCATION"]) == "A, B"


def test_uid_names_the_booking() -> None:
    booking_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert event_uid(booking_id) == "12345678-1234-5678-1234-567812345678@bookings"
