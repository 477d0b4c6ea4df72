"""Calendar invitations (RFC 5546 iTIP): the iCalendar object a mail carries, built from
the same events the feeds write (models/domain/ical.py), so the UID, SEQUENCE, times,
RRULE, EXDATEs and RECURRENCE-ID overrides are the feed's.

- REQUEST: the event as it is now (a series: its master with RRULE and EXDATEs, and an
  override per occurrence that differs; a cancelled occurrence is one more EXDATE, where
  the feed shows it STATUS:CANCELLED).
- CANCEL of the whole event: its VEVENT with STATUS:CANCELLED (a series: the master).
- CANCEL of some occurrences of a series that goes on: one VEVENT per occurrence, with
  its RECURRENCE-ID.
- CANCEL for one attendee who was removed: the event without STATUS, naming only them
  (RFC 5546 3.2.5: "uninviting specific Attendees").

The organizer is the booking's organizer, sent by the system (`SENT-BY` the mail's
sender); every attendee that is an email address is an ATTENDEE, and so is the organizer
(a REQUEST needs one at least). RSVP is FALSE: replies go to the organizer's mailbox, the
system reads none. Pure: data in, bytes out.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText

from models.domain import ical

PRODID = "-//Bookings//Room bookings//EN"


class Method(enum.StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True)
class Person:
    email: str
    name: str | None = None


@dataclass(frozen=True)
class Invitation:
    """What one iTIP object says: the event (a booking, a group's, or a series), who
    organizes it and who attends, and which of it a CANCEL cancels."""

    method: Method
    entry: ical.CalendarEvent | ical.CalendarSeries
    organizer: Person
    sent_by: str  # the mail's sender, acting for the organizer
    attendees: Sequence[str]  # email addresses
    # CANCEL of a series that goes on: the RECURRENCE-IDs of the cancelled occurrences.
    occurrences: Sequence[datetime] = ()
    # CANCEL for an attendee removed from an event that goes on: them alone.
    uninvited: str | None = None


def render(invitation: Invitation) -> bytes:
    """The VCALENDAR (METHOD, PRODID, VERSION, the VEVENTs, their VTIMEZONEs)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", invitation.method.value)
    for event in _events(invitation):
        calendar.add_component(event)
    ical.add_timezones(calendar, ical.entry_times(invitation.entry))
    return calendar.to_ical()


def _events(invitation: Invitation) -> list[Event]:
    components = ical.entry_components(invitation.entry)
    if invitation.method == Method.REQUEST:
        events = _without_cancelled(components)
    elif invitation.uninvited is not None:
        events = components[:1]
        events[0].pop("STATUS", None)  # RFC 5546: uninviting someone says no STATUS
    elif invitation.occurrences:
        events = [_cancelled(invitation.entry, at) for at in invitation.occurrences]
    else:
        events = components[:1]
        events[0]["STATUS"] = "CANCELLED"
    attendees = [invitation.uninvited] if invitation.uninvited else invitation.attendees
    for event in events:
        _people(event, invitation, attendees)
    return events


def _without_cancelled(components: list[Event]) -> list[Event]:
    """A REQUEST's events: a cancelled occurrence of a series is an EXDATE of its master
    (RFC 5546 allows a REQUEST only TENTATIVE or CONFIRMED; the occurrence's own CANCEL
    removed it from calendars already)."""
    master, *rest = components
    kept = []
    for event in rest:
        if event.get("STATUS") == "CANCELLED" and "RECURRENCE-ID" in event:
            master.add("exdate", event.decoded("RECURRENCE-ID"))
        else:
            kept.append(event)
    return [master, *kept]


def _cancelled(entry: ical.CalendarEvent | ical.CalendarSeries, at: datetime) -> Event:
    """One cancelled occurrence of a series, by its RECURRENCE-ID."""
    assert isinstance(entry, ical.CalendarSeries)
    occurrence = next(o for o in entry.occurrences if o.recurrence_id == at)
    event = ical.override(entry, occurrence)
    event["STATUS"] = "CANCELLED"
    return event


def _people(event: Event, invitation: Invitation, attendees: Sequence[str]) -> None:
    """ORGANIZER and ATTENDEEs in place of the feed's bare ATTENDEE lines."""
    event.pop("ATTENDEE", None)
    organizer = invitation.organizer
    params = {"SENT-BY": f"mailto:{invitation.sent_by}"}
    if organizer.name:
        params["CN"] = ical.clean_text(organizer.name).replace("\n", " ")
    event.add("organizer", vCalAddress(f"mailto:{organizer.email}"), parameters=params)
    listed = [] if invitation.uninvited else [organizer.email]
    listed += [a for a in attendees if a.lower() != organizer.email.lower()]
    for address in listed:
        chair = address == organizer.email and not invitation.uninvited
        event.add(
            "attendee",
            vCalAddress(f"mailto:{address}"),
            parameters={
                "CUTYPE": "INDIVIDUAL",
                "ROLE": "CHAIR" if chair else "REQ-PARTICIPANT",
                "PARTSTAT": "ACCEPTED" if chair else "NEEDS-ACTION",
                "RSVP": "FALSE",
            },
        )
    if not event.get("SUMMARY"):
        event.add("summary", vText(""))
