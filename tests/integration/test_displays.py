"""Door displays: the display token's rules (an admin's, one per room, a new one revokes
the old, it opens that one page and nothing else) and what the page shows (free or busy,
today's bookings as times only, the QR code of the current or next check-in link)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.pages.qr import qr_svg
from models.domain.feed_tokens import feed_token_digest
from models.tables.displays import RoomDisplay
from tests.helpers import Api, assert_error, booking_body, midday_zone, move_booking

pytestmark = pytest.mark.usefixtures("worker")

SECRET = "SECRET-agenda-7f3a"  # in titles, descriptions and attendees: never on the door

DASH = "\u2013"  # between two times, as the page writes them


def display_token(api: Api, admin: dict[str, str], room: str) -> tuple[str, str]:
    """(token, the page's path and query) from POST /v1/rooms/{id}/display-token."""
    made = api.client.post(f"/v1/rooms/{room}/display-token", headers=admin)
    assert made.status_code == 201, made.json
    url = urlsplit(made.json["display_url"])
    assert made.json["display_url"].startswith("http://localhost/rooms/")  # on PUBLIC_URL
    assert parse_qs(url.query) == {"token": [made.json["token"]]}
    return made.json["token"], f"{url.path}?{url.query}"


def now_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def confirmed_at(
    api: Api,
    sessions: sessionmaker[Session],
    who: dict[str, str],
    room: str,
    start: datetime,
    minutes: int,
) -> str:
    """A confirmed booking of the room at [start, start + minutes), whenever that is:
    booked three days later (no booking starts in the past), then moved there."""
    private = {"title": SECRET, "description": SECRET, "attendees": [f"{SECRET}@example.com"]}
    ahead = start + timedelta(days=3)
    booking_id = api.confirmed_booking(who, booking_body(room, ahead, minutes, **private))
    move_booking(sessions, booking_id, start, start + timedelta(minutes=minutes))
    return booking_id


def join_code(api: Api, who: dict[str, str], booking_id: str) -> str:
    return str(
        api.client.get(f"/v1/bookings/{booking_id}", headers=who).json["meeting"]["join_code"]
    )


def text_of(page: str) -> str:
    """The page's visible text, one space between words."""
    body = re.sub(r"<(style|svg)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_a_display_token_opens_its_rooms_page_and_a_new_one_revokes_the_old(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    room, other_room = make_room(name="Door A"), make_room(name="Door B")
    token, page = display_token(api, admin, room)

    assert token.startswith("dsp_")
    opened = api.client.get(page)
    assert opened.status_code == 200 and opened.mimetype == "text/html"
    assert "Door A" in opened.get_data(as_text=True)
    with sessions() as session:  # only the hash is kept
        assert session.scalars(select(RoomDisplay.token_hash)).all() == [feed_token_digest(token)]

    # A wrong, missing or other room's token, and a bearer token, open nothing.
    path = f"/rooms/{room}/display"
    assert_error(api.client.get(f"{path}?token=dsp_wrong"), 401)
    assert_error(api.client.get(path), 401)
    assert_error(api.client.get(path, headers=admin), 401)
    assert_error(api.client.get(f"/rooms/{other_room}/display?token={token}"), 401)
    # ... and the token opens nothing but its page: not the room, not its feed.
    assert_error(api.client.get(f"/v1/rooms/{room}?token={token}"), 401)
    assert_error(api.client.get(f"/v1/rooms/{room}/calendar.ics?token={token}"), 401)

    newer, newer_page = display_token(api, admin, room)

    assert newer != token
    assert_error(api.client.get(page), 401)
    assert api.client.get(newer_page).status_code == 200
    assert_error(api.client.post(f"/v1/rooms/{room}/display-token", headers=user), 403)
    assert_error(api.client.post(f"/v1/rooms/{uuid.uuid4()}/display-token", headers=admin), 404)
    assert api.client.get(newer_page).status_code == 200  # a refused call replaced nothing


def test_the_page_shows_the_current_and_next_bookings_as_times_and_the_check_in_qr(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    zone = ZoneInfo(midday_zone())
    room = make_room(name="Orion", timezone=zone.key)
    now = now_minute()
    current = confirmed_at(api, sessions, user, room, now - timedelta(minutes=10), 40)
    following = confirmed_at(api, sessions, user, room, now + timedelta(minutes=60), 30)
    cancelled = confirmed_at(api, sessions, user, room, now + timedelta(minutes=100), 30)
    api.cancel(user, cancelled)
    confirmed_at(api, sessions, user, room, now + timedelta(days=1), 30)  # tomorrow
    _, page = display_token(api, admin, room)

    answer = api.client.get(page)

    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    shown = text_of(html)

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%H:%M")

    start, end = now - timedelta(minutes=10), now + timedelta(minutes=30)
    later, later_end = now + timedelta(minutes=60), now + timedelta(minutes=90)
    assert shown.startswith("Orion") and "Busy until " + local(end) in shown, shown
    today = f"{local(start)}{DASH}{local(end)} now {local(later)}{DASH}{local(later_end)}"
    assert today in shown, shown
    assert local(now + timedelta(minutes=100)) not in shown  # cancelled
    assert shown.count(DASH) == 3, shown  # the two bookings, and the check-in line only
    for private in (SECRET, "Alice", "alice@example.com"):
        assert private not in html
    link = f"http://localhost/checkin/{join_code(api, user, current)}"
    assert str(qr_svg(link)) in html  # the current meeting's check-in link, as a QR code

    # Once the current booking is over, the door is free and the QR is the next one's.
    move_booking(sessions, current, now - timedelta(minutes=50), now - timedelta(minutes=20))
    html = api.client.get(page).get_data(as_text=True)
    assert "Free until " + local(later) in text_of(html)
    assert str(qr_svg(f"http://localhost/checkin/{join_code(api, user, following)}")) in html


def test_the_page_refreshes_itself_and_needs_nothing_from_outside(
    api: Api, admin: dict[str, str], room: str
) -> None:
    _, page = display_token(api, admin, room)

    answer = api.client.get(page)

    html = answer.get_data(as_text=True)
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', html)
    assert "Free" in text_of(html) and "No more bookings today." in text_of(html)
    assert not re.search(r"<(script|img|link|iframe|object)\b", html)
    assert not re.search(r"\b(src|href)=", html)
    assert "url(" not in html and "@import" not in html
    policy = answer.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    assert "unsafe" not in policy and "http" not in policy
    assert "form-action 'none'" in policy and "frame-ancestors 'none'" in policy
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Referrer-Policy"] == "no-referrer"  # the token stays in the URL
