"""What each mail says, in plain text: an invitation (or its change or cancellation), an
approver's "waiting for you", a waitlisted requester's "booked after all", and the
organizer's reminder. Pure: the facts in, a Letter out; no stack trace or internal
error ever reaches a recipient, since nothing here reads anything but these facts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from models.mail.compose import Letter, one_line
from models.mail.itip import Method, Person

# Cancel reasons the system writes, as a person reads them; any other is the text the
# canceller gave.
REASONS = {
    "NO_SHOW": "nobody checked in in time, so the room was released",
    "ROOM_CLOSED": "the room is closed at that time",
    "DECLINED": "an approver declined it",
    "APPROVAL_EXPIRED": "nobody approved it before it was due to start",
    "series cancelled": "the whole series was cancelled",
    "group cancelled": "the booking of all its rooms was cancelled",
}


@dataclass(frozen=True)
class About:
    """The booking (a group's, or a series' next one) a mail is about."""

    booking_id: uuid.UUID
    title: str
    start: datetime
    end: datetime
    zone: str
    place: str | None
    organizer: Person
    attendees: Sequence[str]
    version: int = 1
    repeats: str | None = None  # a series: how it repeats
    cancel_reason: str | None = None
    description: str | None = None


def when(start: datetime, end: datetime, zone: str) -> str:
    """'Mon 1 Mar 2027, 09:00-10:00 (Europe/Berlin)', at the room's wall-clock time."""
    tz = ZoneInfo(zone)
    first, last = start.astimezone(tz), end.astimezone(tz)
    day = f"{first:%a} {first.day} {first:%b %Y}"
    if first.date() == last.date():
        return f"{day}, {first:%H:%M}-{last:%H:%M} ({zone})"
    return f"{day} {first:%H:%M} - {last:%a} {last.day} {last:%b %Y} {last:%H:%M} ({zone})"


def reason_text(reason: str | None) -> str:
    if not reason:
        return "its organizer cancelled it"
    return REASONS.get(reason, f"“{one_line(reason)}”")


def _details(about: About, base_url: str, *, link: bool = True) -> list[str]:
    lines = [
        about.title,
        when(about.start, about.end, about.zone),
    ]
    if about.repeats:
        lines.append(f"Repeats: {about.repeats}")
    if about.place:
        lines.append(f"Where: {about.place}")
    organizer = about.organizer
    lines.append(f"Organizer: {organizer.name} <{organizer.email}>")
    if about.attendees:
        lines.append("Attendees: " + ", ".join(about.attendees))
    if about.description:
        lines += ["", about.description]
    if link:
        lines += ["", f"The booking: {base_url}/v1/bookings/{about.booking_id}"]
    return lines


def _footer(base_url: str) -> list[str]:
    return [
        "",
        "--",
        f"Sent by the room bookings at {base_url} because this booking names you.",
        'A user of it stops these mails with PATCH /v1/users/me {"notify_email": false};',
        "anyone else, by asking the organizer to take them off the booking.",
    ]


def invitation(
    about: About, to: Person, *, calendar: bytes, method: Method, base_url: str, removed: bool
) -> Letter:
    """The event as it is now (REQUEST), or its cancellation (CANCEL)."""
    moment = when(about.start, about.end, about.zone)
    if method == Method.CANCEL and removed:
        subject = f"Removed: {about.title}, {moment}"
        head = ["You are no longer an attendee of this meeting.", ""]
    elif method == Method.CANCEL:
        subject = f"Cancelled: {about.title}, {moment}"
        head = [f"Cancelled: {reason_text(about.cancel_reason)}.", ""]
    elif about.version > 1:
        subject = f"Updated: {about.title}, {moment}"
        head = [f"This meeting has changed (version {about.version}).", ""]
    else:
        subject = f"Invitation: {about.title}, {moment}"
        head = []
    tail = ["", "Your calendar application adds, moves or removes it (invite.ics)."]
    text = "\n".join([*head, *_details(about, base_url), *tail, *_footer(base_url)])
    return Letter(to.email, to.name, subject, text, calendar, method)


def approval(
    waiting: Sequence[About], to: Person, *, requester: Person, base_url: str, more: int
) -> Letter:
    """To an approver: the bookings waiting for them (`more` in all), with the calls
    that decide each."""
    first = waiting[0]
    others = f" and {more - 1} more" if more > 1 else ""
    moment = when(first.start, first.end, first.zone)
    subject = f"Waiting for your approval: {first.title}, {moment}{others}"
    lines = [f"{requester.name} <{requester.email}> asks for:", ""]
    for about in waiting:
        url = f"{base_url}/v1/bookings/{about.booking_id}"
        lines += [
            *_details(about, base_url, link=False),
            "",
            "Approve:",
            f'  curl -X POST {url}/approve -H "Authorization: Bearer $TOKEN"',
            "Decline (the reason is optional):",
            f'  curl -X POST {url}/decline -H "Authorization: Bearer $TOKEN" \\',
            "    -H 'Content-Type: application/json' -d '{\"reason\": \"…\"}'",
            "",
        ]
    lines.append(f"Every booking waiting for you: GET {base_url}/v1/approvals")
    return Letter(to.email, to.name, subject, "\n".join([*lines, *_footer(base_url)]))


def promoted(about: About, to: Person, *, task_id: uuid.UUID, base_url: str) -> Letter:
    """To a waitlisted requester: the slot freed, and the booking is theirs."""
    moment = when(about.start, about.end, about.zone)
    lines = [
        "The slot you were waiting for is free: your request is booked.",
        "",
        *_details(about, base_url),
        f"The request: {base_url}/v1/tasks/{task_id}",
    ]
    subject = f"Booked from the waitlist: {about.title}, {moment}"
    return Letter(to.email, to.name, subject, "\n".join([*lines, *_footer(base_url)]))


def reminder(
    about: About,
    to: Person,
    *,
    base_url: str,
    join_code: str | None,
    release_minutes: int | None,
) -> Letter:
    """To the organizer, before the start; with the check-in link where the room
    releases bookings nobody checked in to."""
    moment = when(about.start, about.end, about.zone)
    lines = [f"Your meeting starts soon: {moment}.", "", *_details(about, base_url)]
    if release_minutes is not None and join_code is not None:
        lines += [
            "",
            f"Check in within {release_minutes} minutes of the start, or the room is released:",
            f"  {base_url}/checkin/{join_code}",
            "or with the API:",
            f"  curl -X POST {base_url}/v1/bookings/{about.booking_id}/check-in \\",
            '    -H "Authorization: Bearer $TOKEN"',
        ]
    subject = f"Reminder: {about.title}, {moment}"
    return Letter(to.email, to.name, subject, "\n".join([*lines, *_footer(base_url)]))
