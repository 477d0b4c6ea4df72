"""The README's examples, run verbatim (but for the ports) against a live stack: `bookings
api` under granian in development mode (as `make run` runs it), `bookings webhooks`, the
suite's worker and database, the demo logins and rooms `make run` seeds. The script is
started before the API listens, as when the blocks are pasted while `make run` is still
starting. If an example stops working, this fails."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cli.embedded import free_port
from models.services import accounts
from tests.helpers import Api
from tests.http_server import Server, serve
from tests.roles import start_role, stop_role

ROOT = Path(__file__).resolve().parents[2]

# Run as one script, in order.
SECTIONS = (
    "## Quickstart",
    "## Try it by hand",
    "## Room rules by hand",
    "## Changing bookings by hand",
    "## Webhooks",
    "## Door display and reports",
)


def readme_block(*sections: str) -> str:
    text = (ROOT / "README.md").read_text()
    blocks = []
    for heading in sections:
        section = text.split(heading + "\n", 1)[1]
        found = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
        assert found, f"no ```sh block under {heading!r}"
        blocks.append(found.group(1))
    return "\n".join(blocks)


def development_env() -> dict[str, str]:
    """As `bookings up` runs its roles: development, absolute URLs from the request."""
    env = {**os.environ, "BOOKINGS_ENV": "development"}
    env.pop("PUBLIC_URL", None)
    return env


@pytest.fixture
def sender(tmp_path: Path, database: str) -> Iterator[None]:
    proc = start_role(["webhooks"], tmp_path / "webhooks.log", development_env())
    yield
    stop_role(proc)


def start(script: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def demo_data(api: Api, sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:  # what `bookings seed` makes on the first make run
        accounts.create_admin(
            session, email="admin@example.com", password="demo-password-1", cost=4
        )
    admin = api.login("admin@example.com", "demo-password-1")
    for email, name in (("alice@example.com", "Alice"), ("bob@example.com", "Bob")):
        body = {"email": email, "name": name, "password": "demo-password-1"}
        assert api.client.post("/v1/auth/register", json=body).status_code == 201
    for name in ("Atlas", "Hudson", "Thames"):
        assert api.create_room(admin, name=name, capacity=8).status_code == 201


def test_every_readme_example_works_today(
    tmp_path_factory: pytest.TempPathFactory,
    worker: object,
    sender: None,
    api: Api,
    sessions: sessionmaker[Session],
) -> None:
    demo_data(api, sessions)
    port, hook_port = free_port(), free_port()
    script = readme_block(*SECTIONS).replace("localhost:8000", f"127.0.0.1:{port}")
    script = script.replace("9009", str(hook_port))
    assert "2027-" not in script, "a fixed date goes stale: build it from today"

    pasted = start(script)  # before the API listens: the Quickstart waits for /readyz
    try:
        servers = serve(tmp_path_factory, development_env(), port=port)
        next(servers)
        out, _ = pasted.communicate(timeout=180)
    finally:
        pasted.kill()
        servers.close()

    assert pasted.returncode == 0, out[-4000:]
    assert "Traceback" not in out, out[-4000:]
    flat = out.replace(" ", "")
    assert '"status":"SUCCEEDED"' in flat, out[-4000:]
    assert "bookings_requests_decided_total" in out
    assert "confirmed" in out, out[-2000:]  # the import's summary
    for seen in (
        "'done':52",  # the recurring example's task, polled
        "'confirmed':52",
        "BEGIN:VEVENT",  # the room's feed
        '"email":"admin@example.com"',  # who the API token acts for
        '"code":"DURATION_OUT_OF_POLICY"',  # the dry run
        '"status":"WAITLISTED"',
        '"booking_status":"PENDING"',
        '"closure_id"',
        '"group_id"',  # two rooms at once
        '"kind":"change"',
        '"version":2',
        '"kind":"series_change"',
        '"type":"webhook.ping"',  # printed by bookings webhook-listen
        ">Free<",  # the door display of a room with nothing booked today
        "'booked_minutes':",  # the utilization report
        "wrote/tmp/utilization.html",  # bookings report
    ):
        assert seen in flat, (seen, out[-3000:])
    assert re.search(r'"booked_by":"[0-9a-f-]{36}"', flat), out[-2000:]  # made for bob
    answer = re.search(r'\{"items":\[\{"room_id":.*?\]\}', flat)  # find-time's
    assert answer, out[-3000:]
    hours = [(w["start_time"][11:16], w["end_time"][11:16]) for w in json.loads(answer[0])["items"]]
    assert hours == [("07:00", "08:00"), ("09:00", "10:00")], answer[0]  # around Orion's bookings


def test_a_wrong_password_shows_the_apis_answer(server: Server) -> None:
    """The Quickstart's login with a wrong password: the API's error, not a traceback."""
    script = readme_block("## Quickstart").replace("localhost:8000", f"127.0.0.1:{server.port}")
    script = script.replace("demo-password-1", "wrong-password")
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    out = done.stdout + done.stderr
    assert '"code":"UNAUTHORIZED"' in out.replace(" ", ""), out
    assert "wrong email or password" in out and "Traceback" not in out, out
