"""Meetings lifecycle and the periodic jobs: tick, beat, no-shows, retention, races."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from models.tables.audit import AuditEvent
from models.tables.bookings import Booking, Meeting
from tests.helpers import Api, booking_body, wait_until
from tests.integration.conftest import worker_is_idle
from tests.roles import start_role, stop_role
from worker.periodic import run_all

pytestmark = pytest.mark.usefixtures("worker")
ROOT = Path(__file__).resolve().parents[2]


def soon(minutes: float = 5) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes)


def shift(
    sessions: sessionmaker[Session], booking_id: str, start: timedelta, end: timedelta
) -> None:
    """Move a booking relative to now, as if time had passed."""
    with sessions.begin() as session:
        session.execute(
            text(
                "UPDATE bookings SET start_time = now() + :s, end_time = now() + :e WHERE id = :id"
            ),
            {"s": start, "e": end, "id": booking_id},
        )


def meeting_state(sessions: sessionmaker[Session], booking_id: str) -> str:
    with sessions() as session:
        return session.scalar(select(Meeting.state).where(Meeting.booking_id == booking_id)).value


def audit_actions(sessions: sessionmaker[Session], booking_id: str) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.booking_id == booking_id)
                .order_by(AuditEvent.at)
            )
        )


def test_join_code_resolves_until_the_meeting_ends(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    booking_id = api.confirmed_booking(user, booking_body(room, soon(30)))
    code = api.client.get(f"/v1/bookings/{booking_id}", headers=user).json["meeting"]["join_code"]

    seen = api.client.get(f"/v1/meetings/{code}", headers=other_user)
    assert seen.status_code == 200
    assert seen.json["room"]["id"] == room
    assert seen.json["state"] == "SCHEDULED"
    assert "title" not in seen.json
    assert seen.json["external_meeting_url"] is None  # the link: its organizer's only
    mine = api.client.get(f"/v1/meetings/{code}", headers=user).json
    assert (
        mine["external_meeting_url"]
        == api.client.get(f"/v1/bookings/{booking_id}", headers=user).json["meeting"][
            "external_meeting_url"
        ]
    )
    assert api.client.get(f"/v1/meetings/{code.lower()}", headers=other_user).status_code == 200

    shift(sessions, booking_id, -timedelta(hours=2), -timedelta(hours=1))
    outcome = run_all()

    assert outcome["end_meetings"] == "1 row(s)"
    assert meeting_state(sessions, booking_id) == "ENDED"
    gone = api.client.get(f"/v1/meetings/{code}", headers=other_user)
    assert gone.status_code == 404 and gone.json["error"]["code"] == "NOT_FOUND"


def test_check_in_window_and_who_may_check_in(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    admin: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    later = api.confirmed_booking(user, booking_body(room, soon(120)))
    now_ish = api.confirmed_booking(user, booking_body(room, soon(10)))

    early = api.client.post(f"/v1/bookings/{later}/check-in", headers=user)
    assert early.status_code == 409, early.json
    assert early.json["error"]["code"] == "OUTSIDE_CHECK_IN_WINDOW"
    assert (
        api.client.post(f"/v1/bookings/{now_ish}/check-in", headers=other_user).status_code == 404
    )
    assert api.client.post(f"/v1/bookings/{now_ish}/check-in", headers=admin).status_code == 403

    checked = api.client.post(f"/v1/bookings/{now_ish}/check-in", headers=user)

    assert checked.status_code == 200, checked.json
    assert checked.json["state"] == "ACTIVE"
    assert meeting_state(sessions, now_ish) == "ACTIVE"
    assert audit_actions(sessions, now_ish) == ["booking.created", "booking.checked_in"]
    shift(sessions, later, -timedelta(hours=3), -timedelta(hours=2))
    ended = api.client.post(f"/v1/bookings/{later}/check-in", headers=user)
    assert ended.status_code == 409


def test_no_show_is_released_once_and_a_checked_in_booking_never(
    api: Api, user: dict[str, str], make_room, sessions: sessionmaker[Session]
) -> None:
    absent = api.confirmed_booking(
        user, booking_body(make_room(auto_release_minutes=10), soon(5), 30)
    )
    present = api.confirmed_booking(
        user, booking_body(make_room(auto_release_minutes=10), soon(40), 30)
    )
    assert api.client.post(f"/v1/bookings/{present}/check-in", headers=user).status_code == 409
    shift(sessions, present, -timedelta(minutes=5), timedelta(minutes=25))
    assert api.client.post(f"/v1/bookings/{present}/check-in", headers=user).status_code == 200
    shift(sessions, absent, -timedelta(minutes=20), timedelta(minutes=10))
    shift(sessions, present, -timedelta(minutes=60), timedelta(minutes=30))  # still checked in

    first, second = run_all(), run_all()

    assert first["release_no_shows"] == "1 row(s)"
    assert second["release_no_shows"] == "0 row(s)"
    released = api.client.get(f"/v1/bookings/{absent}", headers=user).json
    assert (released["status"], released["cancel_reason"]) == ("CANCELLED", "NO_SHOW")
    assert released["meeting"]["state"] == "ENDED"
    assert audit_actions(sessions, absent) == ["booking.created", "booking.released"]
    kept = api.client.get(f"/v1/bookings/{present}", headers=user).json
    assert kept["status"] == "CONFIRMED" and kept["meeting"]["state"] == "ACTIVE"


def test_two_ticks_at_once_do_the_work_once(
    api: Api, user: dict[str, str], make_room, sessions: sessionmaker[Session]
) -> None:
    ids = [
        api.confirmed_booking(user, booking_body(make_room(auto_release_minutes=5), soon(5), 30))
        for _ in range(6)
    ]
    for booking_id in ids:
        shift(sessions, booking_id, -timedelta(minutes=10), timedelta(minutes=20))  # all due

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda _: run_all(), range(2)))

    with sessions() as session:
        released = session.scalar(
            select(func.count()).where(
                AuditEvent.action == "booking.released", AuditEvent.booking_id.in_(ids)
            )
        )
    assert released == 6
    counts = [o["release_no_shows"] for o in outcomes]
    assert sorted(counts) in (
        ["0 row(s)", "6 row(s)"],
        ["6 row(s)", "skipped (another run holds its lock)"],
    )


def test_audit_events_older_than_the_retention_are_purged(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    old, young = (
        api.confirmed_booking(user, booking_body(room, soon(60))),
        api.confirmed_booking(user, booking_body(room, soon(180))),
    )
    with sessions.begin() as session:
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.booking_id == old)
            .values(at=datetime.now(UTC) - timedelta(days=91))
        )
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.booking_id == young)
            .values(at=datetime.now(UTC) - timedelta(days=89))
        )

    outcome = run_all()

    assert outcome["purge_audit"] == "1 row(s)"
    assert audit_actions(sessions, old) == []
    assert audit_actions(sessions, young) == ["booking.created"]
    with sessions() as session:  # the booking itself is history, and stays
        assert session.get(Booking, old) is not None


def test_finished_requests_are_kept_for_the_retention_then_deleted(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    task_old = api.book(user, booking_body(room, soon(60)))
    task_new = api.book(user, booking_body(room, soon(180)))
    api.wait_task(user, task_old), api.wait_task(user, task_new)
    with sessions.begin() as session:
        session.execute(
            text(
                "UPDATE booking_requests SET decided_at = now() - interval '31 days' WHERE id = :id"
            ),
            {"id": task_old},
        )

    assert run_all()["purge_requests"] == "1 row(s)"
    assert api.client.get(f"/v1/tasks/{task_old}", headers=user).status_code == 404
    assert api.client.get(f"/v1/tasks/{task_new}", headers=user).status_code == 200


def test_beat_alone_ends_an_expired_meeting(
    api: Api,
    user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    app: Flask,
) -> None:
    booking_id = api.confirmed_booking(user, booking_body(room, soon(30)))
    shift(sessions, booking_id, -timedelta(hours=2), -timedelta(hours=1))
    log_path = tmp_path / "beat.log"
    # Production's 30 s between housekeeping runs, shortened as a deployment may.
    env = {**os.environ, "HOUSEKEEPING_SECONDS": "1", "SWEEP_SECONDS": "1"}
    beat = start_role(["beat", "--schedule-dir", str(tmp_path)], log_path, env)
    try:

        def ended() -> bool:
            assert beat.poll() is None, log_path.read_text()[-2000:]
            return meeting_state(sessions, booking_id) == "ENDED"

        wait_until(ended, 30, lambda: "beat to end the meeting:\n" + log_path.read_text()[-2000:])
    finally:
        stop_role(beat)
    # What beat sent last is the worker's until it is done; the next test starts without it.
    wait_until(lambda: worker_is_idle(app), 30, "the worker to finish beat's last jobs")
