"""Invitations as calendar applications read them: every iTIP object the mail carries,
parsed back (icalendar, and vobject as a client would) and held to RFC 5546's tables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from models.domain import ical
from models.mail import itip
from models.mail.itip import Invitation, Method, Person
from tests.rfc5546 import problems
from tests.vcalendar import read_calendar

START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
ORGANIZER = Person("alice@example.com", "Alice")
SENDER = "rooms@example.com"


def single(**changes: object) -> ical.CalendarEvent:
    fields: dict[str, object] = {
        "summary": "Planning",
        "attendees": ["ana@example.com", "Li Wei"],
        "location": "Orion, 2nd floor",
        "zone": "Europe/Berlin",
        "sequence": 3,
        **changes,
    }
    return ical.CalendarEvent(uuid.UUID(int=1), START, START + timedelta(hours=1), START, **fields)  # type: ignore[arg-type]


def series(cancelled: int | None = None) -> ical.CalendarSeries:
    occurrences = [
        ical.CalendarEvent(
            uuid.UUID(int=10 + i),
            START + timedelta(weeks=i),
            START + timedelta(weeks=i, hours=1),
            START,
            "Weekly",
            zone="Europe/Berlin",
            status="CANCELLED" if i == cancelled else "CONFIRMED",
        )
        for i in range(4)
    ]
    return ical.CalendarSeries(uuid.UUID(int=2), "Europe/Berlin", {"freq": "WEEKLY"}, occurrences)


def parsed(invitation: Invitation) -> Calendar:
    body = itip.render(invitation)
    calendar = Calendar.from_ical(body)
    assert problems(calendar) == [], body.decode()
    assert read_calendar(body.decode()).method.value == invitation.method.value
    return calendar


def test_a_request_names_organizer_attendees_room_and_zone() -> None:
    calendar = parsed(Invitation(Method.REQUEST, single(), ORGANIZER, SENDER, ["ana@example.com"]))
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{uuid.UUID(int=1)}@bookings" and event["SEQUENCE"] == 3
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:alice@example.com"
    assert organizer.params["SENT-BY"] == f"mailto:{SENDER}" and organizer.params["CN"] == "Alice"
    attendees = {str(a): a.params for a in event["ATTENDEE"]}
    assert attendees["mailto:alice@example.com"]["ROLE"] == "CHAIR"
    assert attendees["mailto:ana@example.com"]["RSVP"] == "FALSE"
    assert str(event["LOCATION"]) == "Orion, 2nd floor"
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_a_request_without_attendees_still_names_one() -> None:
    calendar = parsed(Invitation(Method.REQUEST, single(attendees=[]), ORGANIZER, SENDER, []))
    [event] = calendar.walk("VEVENT")
    assert str(event["ATTENDEE"]) == "mailto:alice@example.com"


def test_a_cancel_of_the_whole_event_says_cancelled() -> None:
    calendar = parsed(Invitation(Method.CANCEL, single(), ORGANIZER, SENDER, ["ana@example.com"]))
    [event] = calendar.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and "RECURRENCE-ID" not in event


def test_a_series_request_has_its_rule_and_a_cancelled_occurrence_as_an_exdate() -> None:
    calendar = parsed(Invitation(Method.REQUEST, series(cancelled=2), ORGANIZER, SENDER, []))
    [master] = calendar.walk("VEVENT")  # the cancelled occurrence is no override
    assert master["RRULE"]["FREQ"] == ["WEEKLY"]
    assert [d.dt for d in master["EXDATE"].dts] == [START + timedelta(weeks=2)]
    assert read_calendar(
        itip.render(Invitation(Method.REQUEST, series(2), ORGANIZER, SENDER, [])).decode()
    )


def test_a_cancel_of_one_occurrence_names_it() -> None:
    gone = START + timedelta(weeks=2)
    invitation = Invitation(Method.CANCEL, series(2), ORGANIZER, SENDER, [], occurrences=[gone])
    [event] = parsed(invitation).walk("VEVENT")
    assert str(event["UID"]) == f"series-{uuid.UUID(int=2)}@bookings"
    assert event.decoded("RECURRENCE-ID") == gone and str(event["STATUS"]) == "CANCELLED"
    assert "RRULE" not in event


def test_uninviting_one_attendee_names_only_them_and_no_status() -> None:
    invitation = Invitation(
        Method.CANCEL, single(), ORGANIZER, SENDER, ["ana@example.com"], uninvited="bob@example.com"
    )
    [event] = parsed(invitation).walk("VEVENT")
    assert str(event["ATTENDEE"]) == "mailto:bob@example.com" and "STATUS" not in event


def test_line_breaks_in_names_and_titles_stay_inside_their_values() -> None:
    evil = "x\r\nATTENDEE:mailto:evil@example.org"
    invitation = Invitation(
        Method.REQUEST, single(summary=evil), Person("alice@example.com", evil), SENDER, []
    )
    calendar = parsed(invitation)
    [event] = calendar.walk("VEVENT")
    assert str(event["ATTENDEE"]) == "mailto:alice@example.com"  # one, not a list
    name = event["ORGANIZER"].params["CN"]
    assert "\r" not in name and "\n" not in name
