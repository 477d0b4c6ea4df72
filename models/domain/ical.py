"""Bookings as an iCalendar (RFC 5545) feed: plain data in, bytes out.

Times are written in each event's zone (`DTSTART;TZID=Europe/Berlin:20270301T090000`)
with one VTIMEZONE per zone used, so a client shows them at the room's wall-clock time
and expands a series across daylight-saving changes as the worker booked it; UTC ones
as UTC (`...Z`), which needs no VTIMEZONE.

A series is one recurring event: a master VEVENT with the series' RRULE, an EXDATE for
every start of the rule that has no booking (skipped when it was booked), and a
RECURRENCE-ID override for every occurrence that differs from the master (cancelled:
`STATUS:CANCELLED`; pending among confirmed ones: `STATUS:TENTATIVE`; moved or changed:
its new time or text, its RECURRENCE-ID where the rule put it). SEQUENCE is the
booking's version, so a client replaces the copy it holds with a changed one. Calendar clients
(Google, Apple, Outlook, Thunderbird) show that as the one repeating meeting it is;
overrides without a master (occurrences sharing a UID with RECURRENCE-IDs and no RRULE)
are not valid RFC 5545 and most clients drop or duplicate them, and a VEVENT per
occurrence under its own UID would hide that they belong together. A cancelled
occurrence stays visible as cancelled, as a cancelled single booking does, rather than
vanish into an EXDATE.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from models.domain.recurrence import rule_starts

PRODID = "-//Bookings//Room calendar//EN"
BUSY = "Busy"
UID_DOMAIN = "bookings"
CANCELLED = "CANCELLED"
# How often a subscribed client should fetch the feed again (RFC 7986 REFRESH-INTERVAL,
# and Outlook's X-PUBLISHED-TTL); the API's Cache-Control max-age says the same.
REFRESH = timedelta(minutes=5)
UTC_ZONES = {"UTC", "Etc/UTC"}
# An attendee written as an address becomes ATTENDEE:mailto:...; anything else (a name)
# is listed in the DESCRIPTION: "mailto:Li Wei" is not a URI any client can use.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class CalendarEvent:
    """One booking as a calendar shows it.

    `stamp` is when the booking last changed: with no METHOD, DTSTAMP means exactly
    that (RFC 5545 3.8.7.2); it is LAST-MODIFIED too, and it keeps the feed stable
    between fetches. `zone` is the IANA zone its times are written in (its room's).
    """

    booking_id: uuid.UUID
    start: datetime
    end: datetime
    stamp: datetime
    summary: str
    description: str | None = None
    attendees: Sequence[str] = ()
    status: str = "CONFIRMED"  # the VEVENT's STATUS: CONFIRMED, TENTATIVE or CANCELLED
    location: str | None = None
    zone: str = "UTC"
    sequence: int = 1  # the booking's version: a client replaces an older copy
    original_start: datetime | None = None  # a series occurrence's start as first booked

    @classmethod
    def busy(
        cls,
        booking_id: uuid.UUID,
        start: datetime,
        end: datetime,
        stamp: datetime,
        status: str = "CONFIRMED",
        *,
        location: str | None = None,
        zone: str = "UTC",
    ) -> CalendarEvent:
        """Someone else's booking: when, not what or who."""
        return cls(booking_id, start, end, stamp, BUSY, status=status, location=location, zone=zone)

    @property
    def recurrence_id(self) -> datetime:
        """Which instance of its series' rule this is: where the rule put it."""
        return self.original_start or self.start


@dataclass(frozen=True)
class CalendarSeries:
    """A recurring booking: its rule (as stored: freq, interval, by_weekday), the zone the
    rule keeps its wall-clock time in, and its bookings (any status, any order)."""

    series_id: uuid.UUID
    zone: str
    recurrence: Mapping[str, Any]
    occurrences: Sequence[CalendarEvent]


def event_uid(booking_id: uuid.UUID) -> str:
    return f"{booking_id}@{UID_DOMAIN}"


def series_uid(series_id: uuid.UUID) -> str:
    return f"series-{series_id}@{UID_DOMAIN}"


# RFC 5545 TEXT allows no CONTROL character (all of C0 but HTAB, and DEL); a line break
# is written as \n by the library, so LF is kept (CR and CRLF become LF) and the rest go.
_CONTROL = {code: None for code in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F]}


def clean_text(value: str) -> str:
    """The text without the characters RFC 5545 forbids in a TEXT value."""
    return value.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROL)


def is_email(attendee: str) -> bool:
    return _EMAIL.fullmatch(attendee) is not None


def render_calendar(name: str, entries: Iterable[CalendarEvent | CalendarSeries]) -> bytes:
    """One VCALENDAR named `name`: a VEVENT per single booking, a master and its
    overrides per series, and the VTIMEZONEs they refer to."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", vText(clean_text(name)))  # vText: escaped like any TEXT value
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", f"PT{int(REFRESH.total_seconds()) // 60}M")
    times: list[datetime] = []
    for entry in entries:
        for component in entry_components(entry):
            calendar.add_component(component)
        times += entry_times(entry)
    add_timezones(calendar, times)
    return calendar.to_ical()


def entry_components(entry: CalendarEvent | CalendarSeries) -> list[Event]:
    """A single booking's VEVENT, or a series' master and overrides."""
    if isinstance(entry, CalendarSeries):
        return series_components(entry)
    return [_vevent(entry, uid=event_uid(entry.booking_id), zone=entry.zone)]


def entry_times(entry: CalendarEvent | CalendarSeries) -> list[datetime]:
    if isinstance(entry, CalendarSeries):
        return [moment for o in entry.occurrences for moment in (o.start, o.end)]
    return [entry.start, entry.end]


def add_timezones(calendar: Calendar, times: Sequence[datetime]) -> None:
    """A VTIMEZONE for every zone the calendar's components name. Whole years around
    every time written: they cover each instance a client expands, and stay the same
    from one fetch to the next."""
    if not times:
        return
    first, last = min(_utc(t) for t in times), max(_utc(t) for t in times)
    calendar.add_missing_timezones(date(first.year - 1, 1, 1), date(last.year + 2, 1, 1))
    for zone in calendar.timezones:
        _one_transition_each(zone)


def _one_transition_each(zone: Timezone) -> None:
    """Each STANDARD or DAYLIGHT observance of the VTIMEZONE for one transition, at its
    DTSTART, instead of one per offset with an RDATE list of the others. Both are RFC
    5545, but not every reader takes a list: vobject (and what is built on it) reads
    only an RDATE's first value, and so gets every later year's clock changes wrong.
    A DTSTART is read by all."""
    observances = []
    for observance in zone.subcomponents:
        rdates = observance.pop("RDATE", [])
        observances.append(observance)
        for listed in rdates if isinstance(rdates, list) else [rdates]:
            for moment in listed.dts:
                again = observance.copy()
                again.pop("DTSTART")
                again.add("dtstart", moment.dt)
                observances.append(again)
    zone.subcomponents = sorted(observances, key=lambda o: o.decoded("DTSTART"))


def series_components(series: CalendarSeries) -> list[Event]:
    """The series' master VEVENT (RRULE, EXDATEs) and its RECURRENCE-ID overrides.

    The master starts at the first booking and its rule ends (UNTIL) at the last, so
    the feed needs nothing but the bookings to say where the rule runs. Its properties
    are those of the first occurrence that is not cancelled (a master that says
    CANCELLED cancels the whole series in most clients), its DTSTAMP the latest change
    of any occurrence. A booking that is not at a start of the rule (none should be) is
    written as a single event of its own.
    """
    occurrences = sorted(series.occurrences, key=lambda o: o.recurrence_id)
    if not occurrences:
        return []
    uid, zone = series_uid(series.series_id), series.zone
    starts = rule_starts(
        first=occurrences[0].recurrence_id,
        last=occurrences[-1].recurrence_id,
        timezone=zone,
        recurrence=series.recurrence,
    )
    ruled = set(starts)
    by_start = {o.recurrence_id: o for o in occurrences if o.recurrence_id in ruled}
    strays = [
        _vevent(o, uid=event_uid(o.booking_id), zone=zone)
        for o in occurrences
        if o.recurrence_id not in ruled
    ]
    if not by_start:
        return strays
    booked = list(by_start.values())
    template = next(
        (o for o in booked if o.status != CANCELLED and o.start == o.recurrence_id), booked[0]
    )
    first = booked[0].recurrence_id
    master = _vevent(
        CalendarEvent(
            template.booking_id,
            first,
            first + (template.end - template.start),
            max(o.stamp for o in booked),
            template.summary,
            template.description,
            template.attendees,
            template.status,
            template.location,
            sequence=max(o.sequence for o in booked),
        ),
        uid=uid,
        zone=zone,
    )
    master.add("rrule", _rrule(series.recurrence, until=_utc(occurrences[-1].recurrence_id)))
    skipped = [_when(start, zone) for start in starts if start not in by_start]
    if skipped:
        master.add("exdate", skipped)
    overrides = [
        _vevent(o, uid=uid, zone=zone, recurrence_id=o.recurrence_id)
        for o in booked
        if _shown(o) != _shown(template) or o.start != o.recurrence_id
    ]
    return [master, *overrides, *strays]


def override(series: CalendarSeries, item: CalendarEvent) -> Event:
    """One occurrence of the series as an override of its master (RECURRENCE-ID)."""
    return _vevent(
        item, uid=series_uid(series.series_id), zone=series.zone, recurrence_id=item.recurrence_id
    )


def _shown(item: CalendarEvent) -> tuple[Any, ...]:
    """What an occurrence shows beside its start: an override is needed when it differs."""
    return (
        item.end - item.start,
        item.summary,
        item.description,
        tuple(item.attendees),
        item.status,
        item.location,
    )


def _rrule(recurrence: Mapping[str, Any], *, until: datetime) -> dict[str, Any]:
    rule: dict[str, Any] = {"freq": recurrence["freq"]}
    if recurrence.get("interval", 1) != 1:
        rule["interval"] = recurrence["interval"]
    if recurrence.get("by_weekday"):
        rule["byday"] = list(recurrence["by_weekday"])
    rule["until"] = until  # UTC, as RFC 5545 wants with a DTSTART that has a TZID
    return rule


def _vevent(
    item: CalendarEvent, *, uid: str, zone: str, recurrence_id: datetime | None = None
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", _utc(item.stamp))
    event.add("last-modified", _utc(item.stamp))
    event.add("sequence", item.sequence)
    if recurrence_id is not None:
        event.add("recurrence-id", _when(recurrence_id, zone))
    event.add("dtstart", _when(item.start, zone))
    event.add("dtend", _when(item.end, zone))
    event.add("summary", clean_text(item.summary))
    if item.location:
        event.add("location", clean_text(item.location))
    description = _description(item.description, item.attendees)
    if description:
        event.add("description", clean_text(description))
    for attendee in item.attendees:
        if is_email(attendee):
            event.add("attendee", vCalAddress(f"mailto:{attendee}"))
    event.add("status", item.status)
    return event


def _description(text: str | None, attendees: Sequence[str]) -> str | None:
    names = [a for a in attendees if not is_email(a)]
    if not names:
        return text
    listed = "Attendees: " + ", ".join(names)
    return f"{text}\n\n{listed}" if text else listed


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(UTC)


def _when(moment: datetime, zone: str) -> datetime:
    """The moment in the zone it is written in (UTC as UTC: `...Z`, no VTIMEZONE)."""
    if zone in UTC_ZONES:
        return _utc(moment)
    return _utc(moment).astimezone(ZoneInfo(zone))
