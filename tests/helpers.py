"""Helpers that speak the HTTP contract, shared by the integration tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from models.domain.booking_input import BookingInSchema
from models.domain.identity import Principal
from models.domain.states import BookingStatus, RequestStatus, Role
from models.services.accept import NewBooking, Write, accept
from models.services.decide import Turn, decide_turn
from models.services.room_store import PgRoomStore
from models.tables.bookings import Booking
from models.tables.requests import BookingRequest

TERMINAL = {"SUCCEEDED", "REJECTED", "FAILED"}
T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    what: str | Callable[[], str],
    *,
    interval: float = 0.05,
) -> T:
    """Poll until predicate() is truthy and return it; AssertionError naming `what` after
    `timeout` seconds. The one way tests wait for another process (worker, beat, broker).

    `what` may be a callable, called for the message (e.g. to attach a log tail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            message = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout:g} s waiting for {message}")
        time.sleep(interval)


def future(hours: float = 24, *, minutes: float = 0) -> datetime:
    """A whole-minute UTC time this far ahead."""
    base = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)
    return base + timedelta(hours=hours, minutes=minutes)


def booking_body(
    room_id: str, start: datetime, minutes: float = 60, **extra: Any
) -> dict[str, Any]:
    return {
        "room_id": room_id,
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(minutes=minutes)).isoformat(),
        "title": extra.pop("title", "Planning"),
        **extra,
    }


def assert_error(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is `status` with exactly {"error": {"code", "message", "details"}}."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)
    body = response.json
    assert body is not None and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["details"], dict), error
    if code is not None:
        assert error["code"] == code, error
    return error  # type: ignore[no-any-return]


def count_rows(sessions: sessionmaker[Session], model: type, *where: Any) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def request_count(sessions: sessionmaker[Session]) -> int:
    """How many booking_requests rows exist."""
    return count_rows(sessions, BookingRequest)


def stored_request(
    sessions: sessionmaker[Session],
    room: str,
    payload: dict[str, Any],
    *,
    owner: str = "alice@example.com",
) -> uuid.UUID:
    """A QUEUED booking request written straight to the table: no API, no wake-up."""
    from models.domain.states import RequestKind
    from models.tables.users import User

    request_id = uuid.uuid4()
    with sessions.begin() as session:
        requester = session.scalars(select(User.id).where(User.email == owner)).one()
        session.add(
            BookingRequest(
                id=request_id,
                kind=RequestKind.BOOKING,
                room_id=uuid.UUID(room),
                requester_id=requester,
                payload=payload,
            )
        )
    return request_id


def new_booking(body: dict[str, Any]) -> NewBooking:
    """A booking body as the API's schema loads it, as a write."""
    return NewBooking(BookingInSchema().load(body))


def stored(sessions: sessionmaker[Session], caller: Principal, write: Write) -> uuid.UUID:
    """A write accepted as the API accepts it (stored QUEUED) with no room woken: only the
    test decides it (decide_now)."""
    return accept(sessions, caller, write).request_id


def decide_now(
    sessions: sessionmaker[Session], room: str | uuid.UUID, *, careful: bool = False
) -> Turn:
    """One turn of the room's decider, in this process (the worker is not woken)."""
    room_id = uuid.UUID(str(room))
    return decide_turn(PgRoomStore(sessions), [room_id], home=room_id, careful=careful)


def undecided(sessions: sessionmaker[Session]) -> list[str]:
    """The requests still QUEUED or PROCESSING, one line each, oldest first."""
    with sessions() as session:
        rows = session.execute(
            select(
                BookingRequest.id,
                BookingRequest.kind,
                BookingRequest.status,
                BookingRequest.room_id,
                BookingRequest.accepted_at,
            )
            .where(BookingRequest.status.in_([RequestStatus.QUEUED, RequestStatus.PROCESSING]))
            .order_by(BookingRequest.seq)
        ).all()
    return [
        f"{id_} ({kind.value}, {status.value}, room {room_id}, accepted {accepted_at:%X})"
        for id_, kind, status, room_id, accepted_at in rows
    ]


def wait_decided(sessions: sessionmaker[Session], timeout: float = 60) -> None:
    """Wait until the worker has decided every request accepted so far."""
    wait_until(
        lambda: not undecided(sessions),
        timeout,
        lambda: "every request to be decided; still open:\n  " + "\n  ".join(undecided(sessions)),
    )


def confirmed_bookings(sessions: sessionmaker[Session], room: str) -> list[Booking]:
    """The room's confirmed bookings, by start time."""
    with sessions() as session:
        return list(
            session.scalars(
                select(Booking)
                .where(Booking.room_id == room, Booking.status == BookingStatus.CONFIRMED)
                .order_by(Booking.start_time)
            )
        )


def confirmed_count(sessions: sessionmaker[Session], room: str) -> int:
    with sessions() as session:
        return (
            session.scalar(
                select(func.count()).where(
                    Booking.room_id == room, Booking.status == BookingStatus.CONFIRMED
                )
            )
            or 0
        )


def overlapping_pairs(sessions: sessionmaker[Session]) -> int:
    """Pairs of slot-holding bookings of one room that overlap: must be none."""
    with sessions() as session:
        return int(
            session.execute(
                text(
                    "SELECT count(*) FROM bookings a JOIN bookings b "
                    "ON a.room_id = b.room_id AND a.id < b.id "
                    "WHERE a.status IN ('PENDING', 'CONFIRMED') "
                    "AND b.status IN ('PENDING', 'CONFIRMED') "
                    "AND a.start_time < b.end_time AND b.start_time < a.end_time"
                )
            ).scalar_one()
        )


def seqs(sessions: sessionmaker[Session], task_ids: list[str]) -> dict[str, int]:
    """Each request's place in the acceptance order."""
    with sessions() as session:
        rows = session.execute(
            select(BookingRequest.id, BookingRequest.seq).where(
                BookingRequest.id.in_([uuid.UUID(t) for t in task_ids])
            )
        ).all()
    return {str(id_): seq for id_, seq in rows}


def next_dst_change(zone: ZoneInfo, *, spring: bool) -> datetime:
    """Monday 09:00 local, one or two weeks before the zone's next DST change (clocks
    forward when spring, back otherwise) that a 3-week weekly series can reach within the
    365-day horizon; pytest.skip when this year's change is too close or too far."""
    now = datetime.now(UTC)
    day = now.astimezone(zone).date() + timedelta(days=1)
    for _ in range(366):
        before = datetime(day.year, day.month, day.day, 12, tzinfo=zone).utcoffset()
        after_day = day + timedelta(days=1)
        after = datetime(
            after_day.year, after_day.month, after_day.day, 12, tzinfo=zone
        ).utcoffset()
        assert before is not None and after is not None
        if after != before and (after > before) == spring:
            break
        day = after_day
    start = day - timedelta(days=day.weekday() + 7)  # the Monday of the week before
    first = datetime(start.year, start.month, start.day, 9, tzinfo=zone)
    if first <= now + timedelta(days=1) or first + timedelta(weeks=3) > now + timedelta(days=364):
        pytest.skip(f"the next {'spring' if spring else 'autumn'} change in {zone} is out of reach")
    return first


class Api:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str) -> dict[str, str]:
        response = self.client.post("/v1/auth/token", json={"email": email, "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    def register_and_login(self, email: str, name: str) -> dict[str, str]:
        body = {"email": email, "name": name, "password": "password-123"}
        response = self.client.post("/v1/auth/register", json=body)
        assert response.status_code == 201, response.json
        return self.login(email, "password-123")

    def me(self, headers: dict[str, str]) -> str:
        """The caller's user id."""
        return str(self.client.get("/v1/users/me", headers=headers).json["id"])

    def principal(self, headers: dict[str, str]) -> Principal:
        """The caller as the services see them (an id and a role)."""
        me = self.client.get("/v1/users/me", headers=headers).json
        return Principal(uuid.UUID(me["id"]), Role(me["role"]))

    def create_room(self, headers: dict[str, str], **fields: Any) -> TestResponse:
        return self.client.post("/v1/rooms", json={"capacity": 8, **fields}, headers=headers)

    def open_ticket(self, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
        body = {"title": "Projector broken", "description": "No signal on HDMI", **extra}
        response = self.client.post("/v1/tickets", json=body, headers=headers)
        assert response.status_code == 201, response.json
        return response.json  # type: ignore[no-any-return]

    def page(self, headers: dict[str, str], url: str, query: Any = None) -> dict[str, Any]:
        """GET a paginated list: 200 with exactly the {items, total, limit, offset} envelope."""
        response = self.client.get(url, query_string=query or {}, headers=headers)
        assert response.status_code == 200, response.json
        assert set(response.json) == {"items", "total", "limit", "offset"}
        return response.json  # type: ignore[no-any-return]

    def book(self, headers: dict[str, str], body: dict[str, Any], **kw: Any) -> str:
        response = self.client.post("/v1/bookings", json=body, headers=headers, **kw)
        assert response.status_code == 202, response.json
        return str(response.json["task_id"])

    def task(self, headers: dict[str, str], task_id: str, wait: float = 0) -> dict[str, Any]:
        response = self.client.get(f"/v1/tasks/{task_id}?wait={wait}", headers=headers)
        assert response.status_code == 200, response.json
        return response.json  # type: ignore[no-any-return]

    def wait_task(
        self, headers: dict[str, str], task_id: str, timeout: float = 60
    ) -> dict[str, Any]:
        """The task's document once it is finished (each poll is held server-side)."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}

        def finished() -> dict[str, Any] | None:
            nonlocal last
            last = self.task(headers, task_id, wait=min(5.0, max(0.0, deadline - time.monotonic())))
            return last if last["status"] in TERMINAL else None

        doc = wait_until(finished, timeout, lambda: f"task {task_id} to finish: {last}", interval=0)
        assert doc is not None
        return doc

    def confirmed_booking(self, headers: dict[str, str], body: dict[str, Any], **kw: Any) -> str:
        """Book and wait for the worker's decision; return the confirmed booking's id."""
        doc = self.wait_task(headers, self.book(headers, body, **kw))
        assert doc["status"] == "SUCCEEDED", doc
        return str(doc["result"]["booking_id"])

    def cancel(self, headers: dict[str, str], booking_id: str) -> None:
        """Cancel and wait until the cancellation has SUCCEEDED."""
        response = self.client.post(f"/v1/bookings/{booking_id}/cancel", json={}, headers=headers)
        assert response.status_code == 202, response.json
        assert self.wait_task(headers, response.json["task_id"])["status"] == "SUCCEEDED"


def midday_zone() -> str:
    """A fixed-offset IANA zone (Etc/GMT±N) where it is now between 12:00 and 13:00, so a
    test's bookings a few hours either side of now fall on the same local day."""
    offset = 12 - datetime.now(UTC).hour  # -11 .. +12 hours
    if offset == 0:
        return "Etc/UTC"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX: the sign is inverted


def move_booking(
    sessions: sessionmaker[Session], booking_id: str, start: datetime, end: datetime
) -> None:
    """Put a booking at another time, as if the clock had moved on (a test can book a
    start in the past no other way)."""
    with sessions.begin() as session:
        session.execute(
            text("UPDATE bookings SET start_time = :s, end_time = :e WHERE id = :id"),
            {"s": start, "e": end, "id": booking_id},
        )
