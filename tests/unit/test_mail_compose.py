"""A mail's MIME and text, parsed back: the iMIP parts, one-line headers whatever the
fields hold, and what each kind of mail says."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest

from models.mail import letters
from models.mail.compose import Letter, message, one_line
from models.mail.itip import Method, Person
from models.mail.letters import About

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
EVIL = "x\r\nBcc: evil@example.org\r\nSubject: hacked\x00\u2028"
ABOUT = About(
    booking_id=uuid.UUID(int=7),
    title="Planning",
    start=datetime(2027, 3, 1, 8, 0, tzinfo=UTC),
    end=datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
    zone="Europe/Berlin",
    place="Orion, 2nd floor",
    organizer=Person("alice@example.com", "Alice"),
    attendees=["ana@example.com", "Li Wei"],
)
BASE = "https://rooms.example.com"


def parsed(letter: Letter) -> object:
    raw = message(letter, sender="rooms@example.com", sender_name="Room bookings", now=NOW)
    return message_from_bytes(raw.as_bytes(), policy=policy.default)


def test_an_invitation_is_text_beside_an_imip_part_and_an_attachment() -> None:
    mail = parsed(
        Letter(
            "ana@example.com", "Ana", "Invitation", "Hello", b"BEGIN:VCALENDAR\r\n", Method.REQUEST
        )
    )
    types = [part.get_content_type() for part in mail.walk()]  # type: ignore[attr-defined]
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/calendar",
        "application/ics",
    ]
    calendar = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")  # type: ignore[attr-defined]
    assert calendar.get_param("method") == "REQUEST"
    [attached] = list(mail.iter_attachments())  # type: ignore[attr-defined]
    assert attached.get_filename() == "invite.ics"
    assert mail["Auto-Submitted"] == "auto-generated"  # type: ignore[index]


@pytest.mark.parametrize("field", ["to_name", "subject"])
def test_no_field_can_add_a_header(field: str) -> None:
    fields = {"to_name": "Ana", "subject": "Invitation", field: EVIL}
    mail = parsed(Letter("ana@example.com", fields["to_name"], fields["subject"], EVIL))
    assert mail["Bcc"] is None  # type: ignore[index]
    assert len(mail.get_all("Subject")) == 1  # type: ignore[attr-defined]
    assert [a.addr_spec for a in mail["To"].addresses] == ["ana@example.com"]  # type: ignore[index]


def test_one_line_turns_every_break_into_a_space() -> None:
    assert one_line("a\r\nb\tc\u2028d\x85e") == "a b c d e"


def test_the_letters_say_what_happened_and_how_to_act() -> None:
    cancel = letters.invitation(
        ABOUT.__class__(**{**ABOUT.__dict__, "cancel_reason": "NO_SHOW"}),
        Person("ana@example.com"),
        calendar=b"",
        method=Method.CANCEL,
        base_url=BASE,
        removed=False,
    )
    assert cancel.subject.startswith("Cancelled: Planning, Mon 1 Mar 2027, 09:00-10:00")
    assert "nobody checked in" in cancel.text
    asked = letters.approval(
        [ABOUT], Person("bob@example.com"), requester=ABOUT.organizer, base_url=BASE, more=1
    )
    assert f"curl -X POST {BASE}/v1/bookings/{ABOUT.booking_id}/approve" in asked.text
    assert f"{BASE}/v1/bookings/{ABOUT.booking_id}/decline" in asked.text
    reminder = letters.reminder(
        ABOUT, ABOUT.organizer, base_url=BASE, join_code="K7QX2MPA", release_minutes=10
    )
    assert f"{BASE}/checkin/K7QX2MPA" in reminder.text and "within 10 minutes" in reminder.text
    plain = letters.reminder(
        ABOUT, ABOUT.organizer, base_url=BASE, join_code="K7QX2MPA", release_minutes=None
    )
    assert "checkin" not in plain.text


def test_a_long_meeting_shows_both_days() -> None:
    shown = letters.when(ABOUT.start, ABOUT.start + timedelta(hours=20), "UTC")
    assert shown == "Mon 1 Mar 2027 08:00 - Tue 2 Mar 2027 04:00 (UTC)"
