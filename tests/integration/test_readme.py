"""The README's "Try it by hand" block, run verbatim (but for the port) against a live
stack: `bookings api` under granian, the suite's worker and database, the demo logins
and rooms `make run` seeds. If an example stops working, this fails."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from models.services import accounts
from tests.helpers import Api
from tests.http_server import Server

ROOT = Path(__file__).resolve().parents[2]


# Run as one script, in order.
SECTIONS = ("## Try it by hand", "## Room rules by hand", "## Changing bookings by hand")


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = []
    for heading in SECTIONS:
        section = text.split(heading, 1)[1]
        found = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
        assert found, f"no ```sh block under {heading!r}"
        blocks.append(found.group(1))
    return "\n".join(blocks)


def test_every_readme_example_works_today(
    server: Server, worker: object, api: Api, sessions: sessionmaker[Session]
) -> None:
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
    script = readme_block().replace("localhost:8000", f"127.0.0.1:{server.port}")
    assert "2027-" not in script, "a fixed date goes stale: build it from today"

    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert '"status":"SUCCEEDED"' in out.replace(" ", ""), out[-4000:]
    assert "bookings_requests_decided_total" in out
    assert "confirmed" in out, out[-2000:]  # the import's summary
    flat = out.replace(" ", "")
    for seen in (
        '"code":"DURATION_OUT_OF_POLICY"',  # the dry run
        '"status":"WAITLISTED"',
        '"booking_status":"PENDING"',
        '"closure_id"',
        '"group_id"',  # two rooms at once
        '"kind":"change"',
        '"version":2',
        '"kind":"series_change"',
    ):
        assert seen in flat, (seen, out[-3000:])
    assert re.search(r'"booked_by":"[0-9a-f-]{36}"', flat), out[-2000:]  # made for bob
