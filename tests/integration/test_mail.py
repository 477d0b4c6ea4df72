"""Mail end to end: the workers write it to the outbox with each change, `bookings
webhooks` sends it to a real SMTP server on loopback (aiosmtpd), and every message is
parsed back here (the email package, icalendar, vobject): invitations, changes and
cancellations a calendar application acts on, a series as one event, attendees,
approvers, the waitlist, reminders, opt-out, a relay that is down, and safety."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from models.db import session_factory
from models.domain.states import utcnow
from models.mail.reminders import queue_reminders
from models.queues import DISPATCH_WEBHOOKS
from models.services.outbox import BOOKING_CONFIRMED, MAIL_EVENTS, emit
from models.tables.bookings import Booking
from models.tables.mail import Mail, MailKind, MailStatus
from tests.helpers import Api, booking_body, count_rows, future, wait_until
from tests.integration.conftest import WorkerProcess, worker_is_idle
from tests.rfc5546 import problems
from tests.roles import start_role, stop_role
from tests.smtp_sink import Received, Sink
from tests.vcalendar import read_calendar

SENDER = "rooms@example.com"
MAIL_ENV = {
    "MAIL_FROM": SENDER,
    "REMINDER_MINUTES": "30",
    "MAIL_RETRY_BASE_SECONDS": "0.2",
    "MAIL_MAX_ATTEMPTS": "12",
}


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    running = Sink()
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def mail_on(
    sink: Sink,
    app: Flask,
    worker: WorkerProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Every role of this module with SMTP_URL set: the worker (restarted with it, and
    again without it at the end) and a `bookings webhooks` sender. The API in this
    process was built before: mail is the workers' and the sender's business."""
    env = {"SMTP_URL": sink.url, **MAIL_ENV}
    os.environ.update(env)
    worker.stop()
    worker.start()
    sender = start_role(
        ["webhooks", "--concurrency", "4"], tmp_path_factory.mktemp("mail") / "webhooks.log"
    )
    try:
        yield
    finally:
        stop_role(sender)
        for name in env:
            os.environ.pop(name, None)
        worker.stop()
        worker.start()


pytestmark = pytest.mark.usefixtures("mail_on")


@pytest.fixture(autouse=True)
def fresh_sink(sink: Sink) -> Iterator[None]:
    sink.clear()
    yield


def one_to(
    sink: Sink, address: str, count: int = 1, timeout: float = 30, *, kick: bool = False
) -> list[Received]:
    """The messages to `address` once there are `count` of them. With `kick`, the sender
    is asked to look for due mail every second meanwhile, as beat's sweep does: for mail
    no outbox event announced (a reminder)."""
    kicked = [0.0]

    def found() -> list[Received] | None:
        if kick and time.monotonic() - kicked[0] >= 1:
            from worker.app import app as celery

            celery.send_task(DISPATCH_WEBHOOKS)
            kicked[0] = time.monotonic()
        received = sink.to(address)
        return received if len(received) >= count else None

    return wait_until(
        found,
        timeout,
        lambda: (
            f"{count} mail(s) to {address}; got {[m.message['Subject'] for m in sink.received]}"
        ),
    )


def invitation(received: Received) -> tuple[str, Calendar]:
    """The iMIP part's method and its calendar, checked against RFC 5546 and read by a
    second parser (vobject); the invite.ics attachment is the same calendar."""
    found = received.calendar()
    assert found is not None, received.subject
    method, body = found
    calendar = Calendar.from_ical(body)
    assert str(calendar["METHOD"]) == method
    assert problems(calendar) == [], body
    assert read_calendar(body).method.value == method
    attached = received.attachment("invite.ics")
    assert attached is not None and Calendar.from_ical(attached) == calendar
    return method, calendar


def vevents(calendar: Calendar) -> list[Any]:
    return list(calendar.walk("VEVENT"))


def mail_rows(sessions: sessionmaker[Session], **where: Any) -> list[Mail]:
    with sessions() as session:
        stmt = select(Mail).filter_by(**where).order_by(Mail.created_at)
        return list(session.scalars(stmt))


def settled(sessions: sessionmaker[Session]) -> bool:
    """No mail is waiting to be sent."""
    return not mail_rows(sessions, status=MailStatus.PENDING)


def test_an_invitation_its_change_and_its_cancellation_are_one_event(
    api: Api, user: dict[str, str], make_room: Any, sink: Sink, sessions: sessionmaker[Session]
) -> None:
    room = make_room(name="Orion", location="2nd floor", timezone="Europe/Berlin")
    start = future(hours=5)
    body = booking_body(room, start, title="Planning", attendees=["ana@example.com", "Li Wei"])
    booking_id = api.confirmed_booking(user, body)

    [first] = one_to(sink, "alice@example.com")
    [to_ana] = one_to(sink, "ana@example.com")
    assert first.sender == SENDER and first.message["From"].addresses[0].addr_spec == SENDER
    method, calendar = invitation(first)
    assert method == "REQUEST"
    [event] = vevents(calendar)
    assert str(event["UID"]) == f"{booking_id}@bookings"  # as in the feeds
    assert event["SEQUENCE"] == 1
    assert str(event["LOCATION"]) == "Orion, 2nd floor"
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert {str(z["TZID"]) for z in calendar.walk("VTIMEZONE")} == {"Europe/Berlin"}
    assert event.decoded("DTSTART") == start
    assert str(event["ORGANIZER"]) == "mailto:alice@example.com"
    attendees = {str(a) for a in event.get("ATTENDEE")}
    assert attendees == {"mailto:alice@example.com", "mailto:ana@example.com"}
    assert "Planning" in first.text and "Li Wei" in first.text
    assert vevents(invitation(to_ana)[1])[0]["UID"] == event["UID"]

    moved = api.client.patch(
        f"/v1/bookings/{booking_id}",
        json={
            "start_time": (start + timedelta(hours=1)).isoformat(),
            "end_time": (start + timedelta(hours=2)).isoformat(),
        },
        headers=user,
    )
    assert api.wait_task(user, moved.json["task_id"])["status"] == "SUCCEEDED"
    [_, second] = one_to(sink, "alice@example.com", 2)
    method, calendar = invitation(second)
    [changed] = vevents(calendar)
    assert method == "REQUEST" and changed["UID"] == event["UID"]
    assert changed["SEQUENCE"] == 2
    assert changed.decoded("DTSTART") == start + timedelta(hours=1)
    assert second.subject.startswith("Updated:")
    one_to(sink, "ana@example.com", 2)  # hers too, before it is cancelled

    cancel = api.client.post(
        f"/v1/bookings/{booking_id}/cancel", json={"reason": "Moved online"}, headers=user
    )
    assert api.wait_task(user, cancel.json["task_id"])["status"] == "SUCCEEDED"
    [*_, third] = one_to(sink, "alice@example.com", 3)
    method, calendar = invitation(third)
    [gone] = vevents(calendar)
    assert method == "CANCEL" and gone["UID"] == event["UID"]
    assert str(gone["STATUS"]) == "CANCELLED" and gone["SEQUENCE"] >= 2
    assert "Moved online" in third.text
    one_to(sink, "ana@example.com", 3)
    wait_until(lambda: settled(sessions), 30, "every mail sent")
    assert not sink.to("Li Wei")  # a name is no address
    for received in sink.received:
        assert "Traceback" not in received.text


def test_a_series_is_one_invitation_with_its_rule(
    api: Api, user: dict[str, str], room: str, sink: Sink, sessions: sessionmaker[Session]
) -> None:
    response = api.client.post(
        "/v1/bookings/recurring",
        json={
            **booking_body(room, future(hours=6), title="Weekly"),
            "recurrence": {"freq": "WEEKLY", "count": 4},
        },
        headers=user,
    )
    doc = api.wait_task(user, response.json["task_id"])
    assert doc["status"] == "SUCCEEDED", doc
    one_to(sink, "alice@example.com")
    wait_until(lambda: settled(sessions), 30, "every mail sent")

    [received] = sink.to("alice@example.com")  # four occurrences, one mail
    method, calendar = invitation(received)
    [master] = vevents(calendar)
    assert method == "REQUEST"
    assert str(master["UID"]) == f"series-{doc['result']['series_id']}@bookings"
    rule = master["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and "UNTIL" in rule
    assert "Repeats: every week, 4 meetings" in received.text

    # One occurrence cancelled: a CANCEL of that instance alone (its RECURRENCE-ID).
    second = doc["result"]["occurrences"][1]
    api.cancel(user, second["booking_id"])
    [*_, cancelled] = one_to(sink, "alice@example.com", 2)
    method, calendar = invitation(cancelled)
    [instance] = vevents(calendar)
    assert method == "CANCEL" and instance["UID"] == master["UID"]
    assert instance.decoded("RECURRENCE-ID") == datetime.fromisoformat(second["start_time"])


def test_opting_out_stops_mail_to_that_user_only(
    api: Api, user: dict[str, str], room: str, sink: Sink, sessions: sessionmaker[Session]
) -> None:
    off = api.client.patch("/v1/users/me", json={"notify_email": False}, headers=user)
    assert off.status_code == 200 and off.json["notify_email"] is False
    again = api.client.patch("/v1/users/me", json={"notify_email": False}, headers=user)
    assert again.json["notify_email"] is False  # (GET /v1/users/me is the contract's shape)

    api.confirmed_booking(user, booking_body(room, future(hours=7), attendees=["ana@example.com"]))

    one_to(sink, "ana@example.com")  # the attendee still gets hers
    wait_until(lambda: settled(sessions), 30, "every mail sent")
    assert sink.to("alice@example.com") == []
    assert mail_rows(sessions, recipient="alice@example.com") == []


def test_an_approver_is_asked_and_the_organizer_invited_once_approved(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Any,
    sink: Sink,
) -> None:
    bob = api.me(other_user)
    board = make_room(name="Board", policy={"requires_approval": True, "approvers": [bob]})
    doc = api.wait_task(user, api.book(user, booking_body(board, future(hours=8), title="Budget")))
    assert doc["result"]["booking_status"] == "PENDING"
    booking_id = doc["result"]["booking_id"]

    [asked] = one_to(sink, "bob@example.com")
    assert asked.calendar() is None
    assert asked.subject.startswith("Waiting for your approval: Budget")
    assert f"/v1/bookings/{booking_id}/approve" in asked.text
    assert f"/v1/bookings/{booking_id}/decline" in asked.text
    assert sink.to("alice@example.com") == []  # no invitation while it is pending

    approve = api.client.post(f"/v1/bookings/{booking_id}/approve", headers=other_user)
    assert api.wait_task(other_user, approve.json["task_id"])["status"] == "SUCCEEDED"
    [invited] = one_to(sink, "alice@example.com")
    assert invitation(invited)[0] == "REQUEST"


def test_a_waitlisted_requester_is_told_when_promoted(
    api: Api, user: dict[str, str], other_user: dict[str, str], room: str, sink: Sink
) -> None:
    start = future(hours=9)
    taken = api.confirmed_booking(user, booking_body(room, start))
    waiting = api.book(other_user, booking_body(room, start, title="Standup", waitlist=True))
    assert api.task(other_user, waiting, wait=10)["status"] == "WAITLISTED"

    api.cancel(user, taken)

    assert api.wait_task(other_user, waiting)["status"] == "SUCCEEDED"
    messages = one_to(sink, "bob@example.com", 2)
    subjects = sorted(m.subject for m in messages)
    assert subjects[0].startswith("Booked from the waitlist: Standup")
    assert subjects[1].startswith("Invitation: Standup")
    promoted = next(m for m in messages if m.calendar() is None)
    assert f"/v1/tasks/{waiting}" in promoted.text


def run_reminders_twice(app: Flask) -> None:
    """What two beats do: each sends the job; the worker runs both (at once or not)."""
    from worker.app import app as celery

    for _ in range(2):
        celery.send_task("bookings.remind")
    wait_until(lambda: worker_is_idle(app), 30, "the reminder jobs to run")
    celery.send_task(DISPATCH_WEBHOOKS)  # beat's sweep: the sender looks for due mail


def test_a_reminder_is_sent_once_with_the_check_in_link(
    api: Api,
    user: dict[str, str],
    make_room: Any,
    sink: Sink,
    app: Flask,
    sessions: sessionmaker[Session],
) -> None:
    room = make_room(auto_release_minutes=10)
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=20)
    booking_id = api.confirmed_booking(user, booking_body(room, start, title="Retro"))
    one_to(sink, "alice@example.com")  # its invitation
    with sessions.begin() as session:  # booked long ago: a fresh booking needs no reminder
        session.execute(
            text("UPDATE bookings SET created_at = created_at - interval '1 hour' WHERE id = :id"),
            {"id": booking_id},
        )

    run_reminders_twice(app)
    wait_until(
        lambda: len(mail_rows(sessions, kind=MailKind.REMINDER)) == 1, 30, "the reminder's row"
    )
    [_, reminder] = one_to(sink, "alice@example.com", 2, kick=True)
    run_reminders_twice(app)
    wait_until(lambda: settled(sessions), 30, "every mail sent")

    assert reminder.subject.startswith("Reminder: Retro")
    with sessions() as session:
        meeting = session.scalars(select(Booking).where(Booking.id == booking_id)).one().meeting
        assert meeting is not None
        assert f"http://localhost/checkin/{meeting.join_code}" in reminder.text
    assert len(sink.to("alice@example.com")) == 2
    assert len(mail_rows(sessions, kind=MailKind.REMINDER)) == 1


def test_reminders_queued_by_two_runs_at_once_are_one(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session], app: Flask
) -> None:
    start = future(hours=10)
    api.confirmed_booking(user, booking_body(room, start))
    with sessions.begin() as session:
        session.execute(text("UPDATE bookings SET created_at = created_at - interval '1 day'"))
    due = start - timedelta(minutes=10)
    made: list[int] = []
    runs = [
        threading.Thread(target=lambda: made.append(queue_reminders(sessions, now=due, minutes=15)))
        for _ in range(4)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert sorted(made)[-1] == 1 and sum(n for n in made if n > 0) == 1, made
    assert queue_reminders(sessions, now=due, minutes=15) == 0
    assert len(mail_rows(sessions, kind=MailKind.REMINDER)) == 1
    with sessions.begin() as session:  # not this test's to send (its start is far off)
        session.execute(text("DELETE FROM mail"))


def test_mail_held_while_the_relay_is_down_arrives_once_it_is_back(
    api: Api, user: dict[str, str], room: str, sink: Sink, sessions: sessionmaker[Session]
) -> None:
    sink.stop()
    try:
        api.confirmed_booking(user, booking_body(room, future(hours=11)))
        wait_until(
            lambda: any(m.attempts >= 2 and m.last_error for m in mail_rows(sessions)),
            30,
            "a failed attempt or two",
        )
        [held] = mail_rows(sessions)
        assert held.status == MailStatus.PENDING and "Connection" in (held.last_error or "")
    finally:
        sink.start()
    [received] = one_to(sink, "alice@example.com", timeout=60)
    assert invitation(received)[0] == "REQUEST"
    wait_until(lambda: settled(sessions), 30, "the send recorded")
    [sent] = mail_rows(sessions)
    assert sent.status == MailStatus.SENT and sent.attempts >= 2


def test_a_4xx_is_tried_again_and_a_5xx_fails_at_once_with_the_answer(
    api: Api, user: dict[str, str], room: str, sink: Sink, sessions: sessionmaker[Session]
) -> None:
    sink.answers = ["451 4.3.0 Try again later"]
    api.confirmed_booking(user, booking_body(room, future(hours=15)))
    one_to(sink, "alice@example.com")
    wait_until(lambda: settled(sessions), 30, "the send recorded")
    [sent] = mail_rows(sessions)
    assert (sent.status, sent.attempts) == (MailStatus.SENT, 2)

    sink.answers = ["550 5.1.1 No such mailbox"]
    api.confirmed_booking(user, booking_body(room, future(hours=16)))
    failed = wait_until(
        lambda: mail_rows(sessions, status=MailStatus.FAILED), 30, "the refusal recorded"
    )
    assert [(m.attempts, m.last_error) for m in failed] == [(1, "550 5.1.1 No such mailbox")]


def test_line_breaks_in_every_text_field_inject_no_header(
    api: Api, user: dict[str, str], room: str, sink: Sink, sessions: sessionmaker[Session]
) -> None:
    evil = "x\r\nBcc: evil@example.org\r\nSubject: hacked"
    start = future(hours=12)
    # One-line fields (a title, a name, an attendee) refuse a line break outright.
    refused = api.client.post(
        "/v1/bookings", json=booking_body(room, start, title=evil), headers=user
    )
    assert refused.status_code == 422
    named = api.client.post(
        "/v1/auth/register",
        json={"email": "eve@example.com", "name": evil, "password": "pw-123456"},
    )
    assert named.status_code == 422
    refused = api.client.post(
        "/v1/bookings", json=booking_body(room, start, attendees=[evil]), headers=user
    )
    assert refused.status_code == 422
    # Free text may hold them: it goes in the body, never a header.
    booking_id = api.confirmed_booking(user, booking_body(room, start, description=evil))
    cancel = api.client.post(
        f"/v1/bookings/{booking_id}/cancel", json={"reason": evil}, headers=user
    )
    assert api.wait_task(user, cancel.json["task_id"])["status"] == "SUCCEEDED"
    # The cancellation (the invitation too, unless it was still unsent: then it is
    # SKIPPED, its cancellation says it all).
    wait_until(
        lambda: any(m.subject.startswith("Cancelled:") for m in sink.received),
        30,
        "the cancellation",
    )
    wait_until(lambda: settled(sessions), 30, "every mail sent")
    for received in sink.received:
        assert received.recipients == ["alice@example.com"]
        message = received.message
        assert message["Bcc"] is None and "hacked" not in str(message["Subject"])
        assert len(message.get_all("Subject") or []) == 1
    assert sink.to("evil@example.org") == []


def test_nothing_is_queued_without_mail(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session], database: str
) -> None:
    """The API's sessions here have mail off (as every process without SMTP_URL): no
    webhook active, no event; the same write in a process with mail on writes one."""
    booking_id = uuid.UUID(api.confirmed_booking(user, booking_body(room, future(hours=13))))
    with sessions.begin() as session:
        assert emit(session, bookings=[(booking_id, BOOKING_CONFIRMED)], now=utcnow()) == 0
        session.rollback()
    mailing = session_factory(database, info={MAIL_EVENTS: True})
    with mailing.begin() as session:
        assert emit(session, bookings=[(booking_id, BOOKING_CONFIRMED)], now=utcnow()) == 1
        session.rollback()


def test_metrics_count_mail_and_its_backlog(
    api: Api,
    user: dict[str, str],
    room: str,
    sink: Sink,
    sessions: sessionmaker[Session],
    app: Flask,
) -> None:
    api.confirmed_booking(user, booking_body(room, future(hours=14)))
    one_to(sink, "alice@example.com")
    wait_until(lambda: settled(sessions), 30, "every mail sent")
    expected = [
        "bookings_mail_backlog 0.0",
        "bookings_mail_oldest_unsent_seconds 0.0",
        'bookings_mail_total{outcome="sent"}',
    ]
    scraped = ""

    def shown() -> bool:
        nonlocal scraped
        scraped = app.test_client().get("/metrics").get_data(as_text=True)
        return all(line in scraped for line in expected)

    wait_until(shown, 10, lambda: f"{expected} in /metrics: {scraped[-2000:]}")
    assert count_rows(sessions, Mail, Mail.status == MailStatus.SENT) >= 1
