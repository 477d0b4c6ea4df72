"""The check-in page a door display's QR code opens: the organizer signs in and checks in
(the check-in call's rules: 409 outside [start - 15 min, end)); anyone else learns only
that the room is booked; failed sign-ins count in the login's own throttle windows."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from models.settings import load_settings
from models.tables.audit import AuditEvent
from models.tables.bookings import Meeting
from tests.helpers import Api, assert_error, booking_body, move_booking

pytestmark = pytest.mark.usefixtures("worker")

SECRET = "SECRET-agenda-51c9"
PASSWORD = "password-123"


@dataclasses.dataclass
class Booked:
    booking_id: str
    code: str


def booked(
    api: Api,
    sessions: sessionmaker[Session],
    who: dict[str, str],
    room: str,
    starts_in: timedelta,
) -> Booked:
    """A confirmed 60-minute booking starting `starts_in` from now (negative: under way)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now + starts_in
    body = booking_body(room, start + timedelta(days=3), title=SECRET, description=SECRET)
    booking_id = api.confirmed_booking(who, body)
    move_booking(sessions, booking_id, start, start + timedelta(minutes=60))
    meeting = api.client.get(f"/v1/bookings/{booking_id}", headers=who).json["meeting"]
    return Booked(booking_id, meeting["join_code"])


def sign_in(
    client: FlaskClient, code: str, email: str, password: str, addr: str = "127.0.0.1"
) -> TestResponse:
    return client.post(
        f"/checkin/{code}",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": addr},
    )


def state(sessions: sessionmaker[Session], booking_id: str) -> str:
    with sessions() as session:
        found = session.scalar(select(Meeting.state).where(Meeting.booking_id == booking_id))
        assert found is not None
        return found.value


def test_the_organizer_signs_in_and_checks_in(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    meeting = booked(api, sessions, user, room, -timedelta(minutes=5))

    page = api.client.get(f"/checkin/{meeting.code}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<form" in html and 'name="password"' in html and SECRET not in html
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]

    wrong = sign_in(api.client, meeting.code, "alice@example.com", "not-the-password")
    assert wrong.status_code == 401 and "Wrong email or password" in wrong.get_data(as_text=True)
    assert state(sessions, meeting.booking_id) == "SCHEDULED"

    done = sign_in(api.client, meeting.code, "ALICE@example.com ", PASSWORD)

    assert done.status_code == 200, done.get_data(as_text=True)
    assert "Checked in at " in done.get_data(as_text=True)
    assert state(sessions, meeting.booking_id) == "ACTIVE"
    with sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.booking_id == meeting.booking_id)
        ).all()
    assert "booking.checked_in" in actions
    again = sign_in(api.client, meeting.code, "alice@example.com", PASSWORD)
    assert again.status_code == 200  # already in: as the check-in call answers


def test_anyone_else_learns_only_that_the_room_is_booked(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    admin: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    meeting = booked(api, sessions, user, room, -timedelta(minutes=5))

    for email, password in (("bob@example.com", PASSWORD), ("admin@example.com", "admin-pass-1")):
        answer = sign_in(api.client, meeting.code, email, password)

        assert answer.status_code == 403, (email, answer.status_code)
        html = answer.get_data(as_text=True)
        assert "The room is booked." in html
        assert SECRET not in html and "Alice" not in html and "<form" not in html
    assert state(sessions, meeting.booking_id) == "SCHEDULED"


def test_check_in_keeps_the_check_in_calls_window(
    api: Api, user: dict[str, str], make_room: Callable[..., str], sessions: sessionmaker[Session]
) -> None:
    room = make_room(timezone="UTC")
    early = booked(api, sessions, user, room, timedelta(hours=2))
    over = booked(api, sessions, user, room, -timedelta(hours=3))

    too_soon = sign_in(api.client, early.code, "alice@example.com", PASSWORD)

    assert too_soon.status_code == 409
    opens = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=105)
    assert f"Check-in is open from {opens:%H:%M}" in too_soon.get_data(as_text=True)
    assert sign_in(api.client, over.code, "alice@example.com", PASSWORD).status_code == 409
    assert state(sessions, early.booking_id) == "SCHEDULED"
    gone = api.client.get("/checkin/NOSUCHCODE")
    assert gone.status_code == 404 and "leads to no meeting" in gone.get_data(as_text=True)
    assert sign_in(api.client, "NOSUCHCODE", "alice@example.com", PASSWORD).status_code == 404
    assert_error(api.client.post(f"/checkin/{early.code}", json={}), 415)  # a form, not JSON


def test_failed_sign_ins_are_throttled_with_the_logins(
    api: Api, admin: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    from api import create_app

    limited = create_app(dataclasses.replace(load_settings(), rate_limits=True)).test_client()
    email = f"{uuid.uuid4().hex[:12]}@example.com"  # windows of this test's own
    organizer = api.register_and_login(email, "Guessed")
    meeting = booked(api, sessions, organizer, room, -timedelta(minutes=5))
    addr = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"

    failed = [sign_in(limited, meeting.code, email, "wrong", addr).status_code for _ in range(10)]

    assert failed == [401] * 10
    refused = sign_in(limited, meeting.code, email, PASSWORD, addr)  # even the right one
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    login = limited.post(
        "/v1/auth/token",
        json={"email": email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": addr},
    )
    assert_error(login, 429)  # one set of windows: the login counts them too
    assert state(sessions, meeting.booking_id) == "SCHEDULED"
    elsewhere = sign_in(limited, meeting.code, email, PASSWORD, "10.255.255.1")
    assert elsewhere.status_code == 200  # another address may still sign in
