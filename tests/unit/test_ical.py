"""models.domain.ical: plain booking data rendered as an RFC 5545 calendar (no services).

What it writes is read back with icalendar and, where a client's reading matters (time
zones, series), with vobject too: a parser of its own, like a calendar application's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from models.domain.ical import (
    BUSY,
    PRODID,
    CalendarEvent,
    CalendarSeries,
    event_uid,
    is_email,
    render_calendar,
    series_uid,
)
from tests.vcalendar import read_calendar

T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)
H = timedelta(hours=1)
STAMP = datetime(2027, 2, 1, 12, 30, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
WEEK = timedelta(weeks=1)


def parse(body: bytes) -> Calendar:
    assert isinstance(body, bytes)
    return Calendar.from_ical(body)


def test_one_vevent_per_booking_with_uid_times_and_status() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    events = [
        CalendarEvent(first, T0, T0 + H, STAMP, "Planning", location="Floor 3"),
        CalendarEvent(second, T0 + 2 * H, T0 + 3 * H, STAMP, "Retro", location="Floor 3"),
    ]

    calendar = parse(render_calendar("Fjord", events))

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

    (event,) = parse(render_calendar("Room", [booking])).walk("VEVENT")
    empty = parse(render_calendar("Empty", []))

    assert "LOCATION" not in event
    assert empty.walk("VEVENT") == []
    assert str(empty["X-WR-CALNAME"]) == "Empty"


def test_text_is_escaped_so_a_name_or_title_cannot_break_the_format() -> None:
    booking = CalendarEvent(
        uuid.uuid4(), T0, T0 + H, STAMP, "One, two; three\nBEGIN:VEVENT", location="A, B"
    )

    body = render_calendar("Hall, 1; east\nEND:VCALENDAR", [booking])
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


# --- time zones ----------------------------------------------------------------------------


def berlin(day: datetime, hours: float = 0) -> datetime:
    return day.replace(tzinfo=BERLIN) + timedelta(hours=hours)


def test_times_are_written_in_the_events_zone_with_its_vtimezone() -> None:
    start = datetime(2027, 3, 29, 9, tzinfo=BERLIN)  # summer time: 07:00Z
    booking = CalendarEvent(uuid.uuid4(), start, start + H, STAMP, "x", zone="Europe/Berlin")

    body = render_calendar("Room", [booking]).decode()

    assert "DTSTART;TZID=Europe/Berlin:20270329T090000\r\n" in body
    assert "DTEND;TZID=Europe/Berlin:20270329T100000\r\n" in body
    assert "DTSTAMP:20270201T123000Z\r\n" in body  # stamps stay UTC
    assert body.index("BEGIN:VTIMEZONE") < body.index("BEGIN:VEVENT")
    (event,) = parse(body.encode()).walk("VEVENT")
    assert event.decoded("DTSTART") == start
    assert str(parse(body.encode()).walk("VTIMEZONE")[0]["TZID"]) == "Europe/Berlin"


def test_utc_zones_need_no_vtimezone() -> None:
    booking = CalendarEvent(uuid.uuid4(), T0, T0 + H, STAMP, "x", zone="UTC")

    body = render_calendar("Room", [booking]).decode()

    assert "DTSTART:20270301T090000Z\r\n" in body
    assert "VTIMEZONE" not in body and "TZID" not in body


def test_the_vtimezone_gives_every_transition_its_own_dtstart() -> None:
    """vobject reads one value of an RDATE list; with a DTSTART each, every transition of
    the years around the events is read right, by both parsers."""
    times = [datetime(2027, 1, 4, 9), datetime(2027, 7, 5, 9), datetime(2028, 7, 3, 9)]
    bookings = [
        CalendarEvent(uuid.uuid4(), berlin(t), berlin(t, 1), STAMP, "x", zone="Europe/Berlin")
        for t in times
    ]

    body = render_calendar("Room", bookings)

    assert b"RDATE" not in body
    read = read_calendar(body.decode())
    offsets = [e.dtstart.value.utcoffset() for e in read.contents["vevent"]]
    assert offsets == [H, 2 * H, 2 * H]
    assert [e.decoded("DTSTART") for e in parse(body).walk("VEVENT")] == [berlin(t) for t in times]


def test_the_same_bookings_make_the_same_bytes() -> None:
    """The API's ETag is the body's hash: nothing in it may depend on when it was made."""
    booking = CalendarEvent(uuid.uuid4(), T0, T0 + H, STAMP, "x", zone="Europe/Berlin")
    series = weekly([berlin(datetime(2027, 3, 22, 9)) + i * WEEK for i in range(3)])

    assert render_calendar("R", [booking, series]) == render_calendar("R", [booking, series])


def test_the_feed_asks_to_be_fetched_again_every_five_minutes() -> None:
    body = render_calendar("Room", []).decode()

    assert "REFRESH-INTERVAL;VALUE=DURATION:PT5M\r\n" in body
    assert "X-PUBLISHED-TTL:PT5M\r\n" in body


# --- attendees -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attendee", "address"),
    [
        ("ana@example.com", True),
        ("a.b+tag@mail.example.org", True),
        ("Li Wei", False),
        ("Bob", False),
        ("bob@", False),
        ("@example.com", False),
        ("ana@example", False),
        ("Ana <ana@example.com>", False),
        ("ana@example.com; x", False),
    ],
)
def test_what_counts_as_an_email_address(attendee: str, address: bool) -> None:
    assert is_email(attendee) is address


def test_attendees_by_name_go_to_the_description_never_to_mailto() -> None:
    listed = ["ana@example.com", "Li Wei", "Dr. Müller"]
    with_text = CalendarEvent(uuid.uuid4(), T0, T0 + H, STAMP, "x", "Plans", listed)
    names_only = CalendarEvent(uuid.uuid4(), T0, T0 + H, STAMP, "y", None, ["Li Wei"])
    addresses = CalendarEvent(uuid.uuid4(), T0, T0 + H, STAMP, "z", None, ["b@x.org"])

    body = render_calendar("Room", [with_text, names_only, addresses])

    first, second, third = parse(body).walk("VEVENT")
    assert str(first["ATTENDEE"]) == "mailto:ana@example.com"  # one: not a list
    assert str(first["DESCRIPTION"]) == "Plans\n\nAttendees: Li Wei, Dr. Müller"
    assert "ATTENDEE" not in second
    assert str(second["DESCRIPTION"]) == "Attendees: Li Wei"
    assert str(third["ATTENDEE"]) == "mailto:b@x.org" and "DESCRIPTION" not in third
    assert body.count(b"mailto:") == 2


# --- series ---------------------------------------------------------------------------------

SERIES = uuid.UUID("00000000-0000-0000-0000-0000000000aa")


def occurrence(start: datetime, status: str = "CONFIRMED", **changes: Any) -> CalendarEvent:
    fields: dict[str, Any] = {"summary": "Weekly", "zone": "Europe/Berlin", **changes}
    return CalendarEvent(uuid.uuid4(), start, start + H, STAMP, status=status, **fields)


def weekly(starts: list[datetime], *, statuses: dict[int, str] | None = None) -> CalendarSeries:
    statuses = statuses or {}
    occurrences = [occurrence(s, statuses.get(i, "CONFIRMED")) for i, s in enumerate(starts)]
    return CalendarSeries(SERIES, "Europe/Berlin", {"freq": "WEEKLY", "count": 9}, occurrences)


def components(series: CalendarSeries) -> tuple[Any, list[Any], Any]:
    """The master, its overrides (by RECURRENCE-ID), and the whole feed read by vobject."""
    body = render_calendar("Room", [series])
    vevents = parse(body).walk("VEVENT")
    (master,) = [e for e in vevents if "RRULE" in e]
    overrides = [e for e in vevents if "RECURRENCE-ID" in e]
    assert len(vevents) == 1 + len(overrides)
    return master, overrides, read_calendar(body.decode())


def test_a_series_is_a_master_whose_rule_runs_from_its_first_to_its_last_booking() -> None:
    mondays = [berlin(datetime(2027, 3, 15, 9)) + i * WEEK for i in range(3)]  # DST on 28th

    master, overrides, read = components(weekly(mondays))

    assert overrides == []
    assert str(master["UID"]) == series_uid(SERIES) == f"series-{SERIES}@bookings"
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;UNTIL=20270329T070000Z"
    assert master.decoded("DTSTART") == mondays[0]
    assert master.decoded("DTEND") == mondays[0] + H
    assert "EXDATE" not in master
    (vevent,) = read.contents["vevent"]
    expanded = list(vevent.getrruleset())
    assert expanded == mondays
    assert [moment.astimezone(BERLIN).hour for moment in expanded] == [9, 9, 9]


def test_a_skipped_start_is_an_exdate_and_a_cancelled_occurrence_an_override() -> None:
    mondays = [berlin(datetime(2027, 3, 15, 9)) + i * WEEK for i in range(5)]
    booked = [mondays[0], mondays[2], mondays[3], mondays[4]]  # the second was skipped

    master, overrides, read = components(weekly(booked, statuses={2: "CANCELLED"}))

    assert [d.dt for d in master["EXDATE"].dts] == [mondays[1]]
    assert str(master["STATUS"]) == "CONFIRMED"
    (cancelled,) = overrides
    assert str(cancelled["UID"]) == str(master["UID"])
    assert cancelled.decoded("RECURRENCE-ID") == mondays[3]
    assert cancelled.decoded("DTSTART") == mondays[3]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    master_read = next(e for e in read.contents["vevent"] if "rrule" in e.contents)
    assert list(master_read.getrruleset()) == booked


def test_the_master_takes_the_first_occurrence_that_is_not_cancelled() -> None:
    """A master that says CANCELLED cancels the whole series in most clients."""
    mondays = [berlin(datetime(2027, 5, 3, 9)) + i * WEEK for i in range(3)]

    master, overrides, _ = components(
        weekly(mondays, statuses={0: "CANCELLED", 1: "TENTATIVE", 2: "CONFIRMED"})
    )

    assert master.decoded("DTSTART") == mondays[0]  # the rule still starts at the first
    assert str(master["STATUS"]) == "TENTATIVE"
    assert {o.decoded("RECURRENCE-ID"): str(o["STATUS"]) for o in overrides} == {
        mondays[0]: "CANCELLED",
        mondays[2]: "CONFIRMED",
    }


def test_a_series_cancelled_whole_is_a_cancelled_master_alone() -> None:
    mondays = [berlin(datetime(2027, 5, 3, 9)) + i * WEEK for i in range(2)]

    master, overrides, _ = components(weekly(mondays, statuses={0: "CANCELLED", 1: "CANCELLED"}))

    assert str(master["STATUS"]) == "CANCELLED" and overrides == []


def test_the_rule_keeps_its_interval_and_weekdays_and_the_latest_change_stamps_it() -> None:
    start = datetime(2027, 5, 3, 9, tzinfo=UTC)  # a Monday; UTC: no TZID, no VTIMEZONE
    starts = [start, start + timedelta(days=2), start + 2 * WEEK, start + 2 * WEEK + 2 * H * 24]
    later = STAMP + timedelta(days=3)
    occurrences = [
        CalendarEvent(uuid.uuid4(), s, s + H, later if i == 1 else STAMP, "Sync", zone="UTC")
        for i, s in enumerate(starts)
    ]
    recurrence = {"freq": "WEEKLY", "interval": 2, "by_weekday": ["MO", "WE"], "count": 4}

    body = render_calendar("Room", [CalendarSeries(SERIES, "UTC", recurrence, occurrences)])

    (master,) = parse(body).walk("VEVENT")
    rule = set(master["RRULE"].to_ical().split(b";"))
    assert rule == {b"FREQ=WEEKLY", b"INTERVAL=2", b"BYDAY=MO,WE", b"UNTIL=20270519T090000Z"}
    assert master.decoded("DTSTAMP") == later == master.decoded("LAST-MODIFIED")
    assert b"VTIMEZONE" not in body
    assert list(read_calendar(body.decode()).vevent.getrruleset()) == starts


def test_a_booking_off_the_rule_is_written_as_an_event_of_its_own() -> None:
    mondays = [berlin(datetime(2027, 5, 3, 9)) + i * WEEK for i in range(2)]
    stray = occurrence(mondays[0] + timedelta(days=1, hours=3))
    series = weekly(mondays)
    series = CalendarSeries(SERIES, series.zone, series.recurrence, [*series.occurrences, stray])

    vevents = parse(render_calendar("Room", [series])).walk("VEVENT")

    assert [str(e["UID"]) for e in vevents] == [series_uid(SERIES), event_uid(stray.booking_id)]
    assert "RECURRENCE-ID" not in vevents[1] and "RRULE" not in vevents[1]


def test_busy_series_show_no_details() -> None:
    mondays = [berlin(datetime(2027, 5, 3, 9)) + i * WEEK for i in range(2)]
    hidden = [
        CalendarEvent.busy(uuid.uuid4(), m, m + H, STAMP, "CONFIRMED", zone="Europe/Berlin")
        for m in mondays
    ]

    (master,) = parse(
        render_calendar(
            "Room", [CalendarSeries(SERIES, "Europe/Berlin", {"freq": "WEEKLY"}, hidden)]
        )
    ).walk("VEVENT")

    assert str(master["SUMMARY"]) == BUSY
    assert "DESCRIPTION" not in master and "ATTENDEE" not in master
