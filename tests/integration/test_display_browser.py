"""The door display in a real browser: headless Chromium renders the page served by
`bookings api`, shows the current meeting, and the QR code in its screenshot decodes
(zbarimg) to the meeting's check-in link, which opens the check-in page.

Needs Debian's `chromium` and `zbar-tools` (.ci/run installs both); skipped, saying so,
where they are missing. `DISPLAY_SCREENSHOT=docs/display.png pytest ...` keeps the
screenshot (the README's picture)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cli.embedded import free_port
from tests.helpers import Api, booking_body, midday_zone, move_booking
from tests.http_server import Server, serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ZBARIMG = shutil.which("zbarimg")
pytestmark = [
    pytest.mark.usefixtures("worker"),
    pytest.mark.skipif(
        CHROMIUM is None or ZBARIMG is None,
        reason="needs Debian's chromium and zbar-tools: apt-get install -y chromium zbar-tools",
    ),
]


@pytest.fixture(scope="module")
def public_server(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Server]:
    """`bookings api` whose PUBLIC_URL is its own address, so the links it writes (the
    check-in link in the QR code) open in the browser."""
    port = free_port()
    env = {**os.environ, "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    yield from serve(tmp_path_factory, env, port=port)


CSP_REFUSAL = "violates the following Content Security Policy"
DASH = "\u2013"  # between two times, as the page writes them


def chromium(tmp_path: Path, *args: str) -> str:
    """Headless Chromium with a profile of its own; its standard output. The page's console
    goes to its log: nothing the page carries may be refused by its own policy."""
    assert CHROMIUM is not None
    argv = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # as root, where CI runs
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert CSP_REFUSAL not in done.stderr, done.stderr[-3000:]
    return done.stdout


def test_the_display_renders_shows_the_meeting_and_its_qr_code_opens_the_check_in(
    public_server: Server,
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    zone = ZoneInfo(midday_zone())
    room = make_room(name="Orion", timezone=zone.key)
    now = datetime.now(UTC)
    quarter = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    for offset, minutes in ((-15, 60), (75, 30), (135, 60)):  # the first is under way
        start = quarter + timedelta(minutes=offset)
        booking = api.confirmed_booking(
            user, booking_body(room, start + timedelta(days=3), minutes)
        )
        move_booking(sessions, booking, start, start + timedelta(minutes=minutes))
        if offset < 0:
            current = booking
    code = api.client.get(f"/v1/bookings/{current}", headers=user).json["meeting"]["join_code"]
    token = api.client.post(f"/v1/rooms/{room}/display-token", headers=admin).json["token"]
    base = f"http://127.0.0.1:{public_server.port}"
    page = f"{base}/rooms/{room}/display?token={token}"

    dom = chromium(tmp_path, "--dump-dom", page)

    local = quarter.astimezone(zone)
    assert ">Orion<" in dom and ">Busy<" in dom
    began, ends = local - timedelta(minutes=15), local + timedelta(minutes=45)
    current_times = f"{began:%H:%M}{DASH}{ends:%H:%M}"
    assert f'<li id="current">{current_times}' in dom
    assert 'class="segno"' in dom and "Planning" not in dom  # times only, no titles

    shot = tmp_path / "display.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,800", page)
    decoded = subprocess.run(
        [str(ZBARIMG), "--quiet", "--raw", str(shot)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert decoded.returncode == 0, decoded.stderr
    link = decoded.stdout.strip()
    assert link == f"{base}/checkin/{code}"
    check_in = chromium(tmp_path, "--dump-dom", link)
    assert ">Orion<" in check_in and 'name="password"' in check_in
    if os.environ.get("DISPLAY_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["DISPLAY_SCREENSHOT"])
