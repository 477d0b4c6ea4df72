"""The generated Python client (clients/python, `make client`): it is what the current
OpenAPI document generates, and it books a room against a real server, every call a
typed function of it."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bookings_client import AuthenticatedClient, Client
from bookings_client.api.api_tokens import create_api_token
from bookings_client.api.auth import get_me, log_in, register
from bookings_client.api.bookings import create_booking, get_booking
from bookings_client.api.rooms import create_room
from bookings_client.api.tasks import get_task
from bookings_client.models import (
    ApiTokenCreated,
    ApiTokenIn,
    Booking,
    BookingIn,
    BookingStatus,
    Error,
    ErrorBodyCode,
    Register,
    Room,
    RoomIn,
    RoomPage,
    Task,
    TaskAccepted,
    TaskAcceptedStatus,
    TaskKind,
    TaskStatus,
    Token,
    TokenRequest,
    User,
    UserRole,
)

from clients.generate import OUTPUT, generated_files
from tests.helpers import wait_until
from tests.http_server import Server

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def test_the_client_is_what_the_document_generates(tmp_path: Path) -> None:
    fresh = tmp_path / "python"
    done = subprocess.run(
        [sys.executable, str(ROOT / "clients" / "generate.py"), "--output", str(fresh)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    want, have = generated_files(fresh), generated_files(OUTPUT)
    changed = sorted(name for name in want.keys() | have.keys() if want.get(name) != have.get(name))
    diff = "".join(
        line
        for name in changed[:3]
        for line in difflib.unified_diff(
            have.get(name, "").splitlines(keepends=True),
            want.get(name, "").splitlines(keepends=True),
            f"clients/python/{name}",
            f"generated/{name}",
        )
    )
    assert not changed, (
        f"clients/python differs from what the OpenAPI document generates ({len(changed)} "
        f"files: {', '.join(changed[:10])}): run make client\n{diff[:6000]}"
    )


def answer(parsed: T | Error | None, kind: type[T]) -> T:
    """The typed answer, or the API's error said plainly."""
    if isinstance(parsed, Error):
        raise AssertionError(f"{parsed.error.code}: {parsed.error.message}")
    assert isinstance(parsed, kind), parsed
    return parsed


def logged_in(base_url: str, email: str, password: str) -> AuthenticatedClient:
    """POST /v1/auth/token, then Authorization: Bearer <access_token>."""
    body = TokenRequest(email=email, password=password)
    token = answer(log_in.sync(client=Client(base_url), body=body), Token)
    return AuthenticatedClient(base_url, token=token.access_token)


def test_a_room_is_booked_through_the_client(
    server: Server, worker: object, admin: dict[str, str]
) -> None:
    base_url = f"http://127.0.0.1:{server.port}"
    anonymous = Client(base_url)

    signup = Register(email="dana@example.com", name="Dana", password="dana-password-1")
    me = answer(register.sync(client=anonymous, body=signup), User)
    assert me.role is UserRole.USER
    wrong = TokenRequest(email="dana@example.com", password="not-her-password")
    refused = log_in.sync(client=anonymous, body=wrong)
    assert isinstance(refused, Error) and refused.error.code is ErrorBodyCode.UNAUTHORIZED

    dana = logged_in(base_url, "dana@example.com", "dana-password-1")
    boss = logged_in(base_url, "admin@example.com", "admin-pass-1")  # the admin fixture's
    room = answer(create_room.sync(client=boss, body=RoomIn(name="Client room", capacity=4)), Room)

    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)
    body = BookingIn(
        room_id=room.id, start_time=start, end_time=start + timedelta(hours=1), title="Planning"
    )
    accepted = answer(create_booking.sync(client=dana, body=body), TaskAccepted)
    assert accepted.status is TaskAcceptedStatus.QUEUED

    def decided() -> Task | None:
        task = answer(get_task.sync(accepted.task_id, client=dana, wait=5), Task)
        return task if task.status not in {TaskStatus.QUEUED, TaskStatus.PROCESSING} else None

    task = wait_until(decided, 60, "the booking's task to be decided", interval=0)
    assert task is not None
    assert (task.kind, task.status, task.error) == (TaskKind.BOOKING, TaskStatus.SUCCEEDED, None)
    assert task.progress is not None and task.progress.confirmed == 1
    assert task.result is not None
    booking_id = uuid.UUID(task.result.additional_properties["booking_id"])
    booking = answer(get_booking.sync(booking_id, client=dana), Booking)
    assert booking.status is BookingStatus.CONFIRMED
    assert (booking.room_id, booking.start_time, booking.organizer_id) == (room.id, start, me.id)
    assert booking.meeting is not None and booking.meeting.join_code

    # A service's API token works as the login token does.
    made = answer(
        create_api_token.sync(client=dana, body=ApiTokenIn(name="calendar sync")), ApiTokenCreated
    )
    service = AuthenticatedClient(base_url, token=made.token)
    assert answer(get_me.sync(client=service), User).id == me.id

    # The README's lines, as written but for the address and the token.
    readme = (ROOT / "README.md").read_text().split("## Python client\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert found, "no ```python block under ## Python client"
    names: dict[str, Any] = {"TOKEN": made.token}
    exec(found.group(1).replace("http://127.0.0.1:8000", base_url), names)  # noqa: S102
    assert isinstance(names["rooms"], RoomPage)
    assert [listed.name for listed in names["rooms"].items] == ["Client room"]
