"""Calendar subscriptions (docs/api.md, "Calendar subscriptions"): the feed token, the
caller's own feed and a room's, fetched as a calendar application does (no Authorization
header), and read back with vobject, a parser of its own, not the icalendar that wrote
them."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from models.tables.bookings import Booking
from models.tables.users import User
from tests.helpers import Api, assert_error, booking_body, future, next_dst_change
from tests.vcalendar import read_calendar

pytestmark = pytest.mark.usefixtures("worker")

BERLIN = ZoneInfo("Europe/Berlin")
MINE = "/v1/users/me/calendar.ics"


def new_token(api: Api, who: dict[str, str]) -> dict[str, str]:
    response = api.client.post("/v1/users/me/feed-token", headers=who)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json  # type: ignore[no-any-return]


def room_feed(room: str) -> str:
    return f"/v1/rooms/{room}/calendar.ics"


def fetch(api: Api, url: str, token: str, **query: str) -> TestResponse:
    """GET a feed as a calendar application does: the token in the URL, no header."""
    return api.client.get(url, query_string={"token": token, **query})


def parse(response: TestResponse) -> Any:
    """The feed, parsed by vobject."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    return read_calendar(response.get_data(as_text=True))


def events(calendar: Any) -> list[Any]:
    return list(calendar.contents.get("vevent", []))


def by_uid(calendar: Any) -> dict[str, Any]:
    """Single events by UID (a series' master and overrides share theirs: not here)."""
    found = {e.uid.value: e for e in events(calendar)}
    assert len(found) == len(events(calendar))
    return found


def uid(booking_id: str) -> str:
    return f"{booking_id}@bookings"


def value(event: Any, name: str) -> Any:
    line = event.contents.get(name)
    return line[0].value if line else None


def tzid(line: Any) -> str | None:
    """The TZID a time was written with (vobject keeps it aside once it has applied it)."""
    found = line.params.get("X-VOBJ-ORIGINAL-TZID") or line.params.get("TZID")
    return found[0] if found else None


def attendees(event: Any) -> list[str]:
    return [line.value for line in event.contents.get("attendee", [])]


def book_series(api: Api, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post("/v1/bookings/recurring", json=body, headers=who)
    assert response.status_code == 202, response.json
    doc = api.wait_task(who, response.json["task_id"])
    assert doc["status"] == "SUCCEEDED", doc
    return doc


def series_rows(sessions: sessionmaker[Session], series_id: str) -> list[Booking]:
    with sessions() as session:
        stmt = select(Booking).where(Booking.series_id == uuid.UUID(series_id))
        return list(session.scalars(stmt.order_by(Booking.start_time)))


def berlin_day(days: int, hour: int) -> datetime:
    day = (datetime.now(BERLIN) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


# --- the token -------------------------------------------------------------------------


def test_a_feed_token_comes_with_its_urls_and_only_its_hash_is_stored(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    made = new_token(api, user)

    token = made["token"]
    assert set(made) == {"token", "calendar_url", "rooms_url_template"}
    assert len(token) >= 40
    assert made["calendar_url"] == f"http://localhost{MINE}?token={token}"
    assert made["rooms_url_template"] == (
        f"http://localhost/v1/rooms/{{room_id}}/calendar.ics?token={token}"
    )
    with sessions() as session:
        stored = session.scalars(select(User).where(User.email == "alice@example.com")).one()
        assert stored.feed_token_hash == hashlib.sha256(token.encode()).hexdigest()
        row = session.execute(text("SELECT * FROM users WHERE id = :id"), {"id": stored.id})
        assert token not in repr(row.one())
    # Both URLs work as given, with no Authorization header.
    assert parse(api.client.get(made["calendar_url"])).x_wr_calname.value == "Bookings of Alice"
    room_url = made["rooms_url_template"].format(room_id=room)
    assert parse(api.client.get(room_url)).x_wr_calname.value == "Room 0"


def test_a_password_change_revokes_the_feed_token(api: Api, user: dict[str, str]) -> None:
    token = new_token(api, user)["token"]
    changed = api.client.post(
        "/v1/users/me/password",
        json={"current_password": "password-123", "new_password": "password-456"},
        headers=user,
    )

    assert changed.status_code == 204, changed.json
    assert_error(fetch(api, MINE, token), 401, "UNAUTHORIZED")


def test_a_new_token_replaces_the_old_one(api: Api, user: dict[str, str], room: str) -> None:
    old = new_token(api, user)["token"]
    assert fetch(api, MINE, old).status_code == 200

    new = new_token(api, user)["token"]

    assert new != old
    for url in (MINE, room_feed(room)):
        assert_error(fetch(api, url, old), 401, "UNAUTHORIZED")
        assert fetch(api, url, new).status_code == 200


def test_a_wrong_token_or_none_is_401_and_a_feed_token_opens_nothing_but_feeds(
    api: Api,
    user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    token = new_token(api, user)["token"]
    bearer = user["Authorization"].split()[1]

    for url in (MINE, room_feed(room)):
        assert_error(fetch(api, url, "cal_" + "x" * 43), 401, "UNAUTHORIZED")
        assert_error(fetch(api, url, ""), 401, "UNAUTHORIZED")
        assert_error(fetch(api, url, bearer), 401, "UNAUTHORIZED")  # a JWT is no feed token
        assert_error(api.client.get(url), 401, "UNAUTHORIZED")
        feed_as_bearer = {"Authorization": f"Bearer {token}"}
        assert_error(api.client.get(url, headers=feed_as_bearer), 401, "UNAUTHORIZED")
        # With a bearer token and no ?token=, the feeds answer as they always have.
        assert api.client.get(url, headers=user).status_code == 200
    assert_error(fetch(api, "/v1/users/me", token), 401, "UNAUTHORIZED")
    assert_error(fetch(api, f"/v1/rooms/{room}", token), 401, "UNAUTHORIZED")
    assert_error(fetch(api, room_feed(str(uuid.uuid4())), token), 404, "NOT_FOUND")

    with sessions.begin() as session:
        session.execute(text("DELETE FROM users WHERE email = 'alice@example.com'"))
    assert_error(fetch(api, MINE, token), 401, "UNAUTHORIZED")
    assert_error(fetch(api, room_feed(room), token), 401, "UNAUTHORIZED")


# --- what the feeds say ----------------------------------------------------------------


def test_the_personal_feed_has_the_callers_bookings_in_every_status_and_nobody_elses(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Callable[..., str],
) -> None:
    room = make_room(name="Fjord", location="Floor 3", timezone="Europe/Berlin")
    approved = make_room(
        name="Board", policy={"requires_approval": True, "approvers": [api.me(other_user)]}
    )
    confirmed = api.confirmed_booking(user, booking_body(room, future(1), title="Kept"))
    pending_doc = api.wait_task(user, api.book(user, booking_body(approved, future(3))))
    assert pending_doc["result"]["booking_status"] == "PENDING", pending_doc
    pending = pending_doc["result"]["booking_id"]
    cancelled = api.confirmed_booking(user, booking_body(room, future(5), title="Dropped"))
    api.cancel(user, cancelled)
    bobs = api.confirmed_booking(other_user, booking_body(room, future(7), title="Bob's"))
    token = new_token(api, user)["token"]

    calendar = parse(fetch(api, MINE, token))

    found = by_uid(calendar)
    assert set(found) == {uid(confirmed), uid(pending), uid(cancelled)}
    assert uid(bobs) not in found
    assert value(found[uid(confirmed)], "status") == "CONFIRMED"
    assert value(found[uid(pending)], "status") == "TENTATIVE"
    assert value(found[uid(cancelled)], "status") == "CANCELLED"
    assert value(found[uid(confirmed)], "summary") == "Kept"
    assert value(found[uid(confirmed)], "location") == "Fjord, Floor 3"
    assert value(found[uid(pending)], "location") == "Board"
    # The Berlin room's booking is written in Berlin time; the UTC room's in UTC.
    assert tzid(found[uid(confirmed)].dtstart) == "Europe/Berlin"
    assert found[uid(confirmed)].dtstart.value.utcoffset() in {
        timedelta(hours=1),
        timedelta(hours=2),
    }
    assert tzid(found[uid(pending)].dtstart) is None
    assert found[uid(pending)].dtstart.value.utcoffset() == timedelta(0)
    assert [tz.tzid.value for tz in calendar.contents["vtimezone"]] == ["Europe/Berlin"]
    # With a bearer token and no ?token=, the same feed.
    assert api.client.get(MINE, headers=user).get_data() == fetch(api, MINE, token).get_data()
    assert uid(bobs) in by_uid(parse(api.client.get(MINE, headers=other_user)))


def test_the_room_feed_by_token_hides_other_peoples_details(
    api: Api, user: dict[str, str], other_user: dict[str, str], admin: dict[str, str], room: str
) -> None:
    details: dict[str, Any] = {"description": "numbers", "attendees": ["x@example.com", "Li"]}
    alices = api.confirmed_booking(user, booking_body(room, future(1), title="Alice's", **details))
    bobs = api.confirmed_booking(
        other_user, booking_body(room, future(3), title="Bob's", **details)
    )
    dropped = api.confirmed_booking(other_user, booking_body(room, future(5), title="Bob's old"))
    api.cancel(other_user, dropped)

    response = fetch(api, room_feed(room), new_token(api, user)["token"])

    found = by_uid(parse(response))
    assert set(found) == {uid(alices), uid(bobs), uid(dropped)}
    assert value(found[uid(alices)], "summary") == "Alice's"
    assert value(found[uid(alices)], "description") == "numbers\n\nAttendees: Li"
    assert attendees(found[uid(alices)]) == ["mailto:x@example.com"]
    for hidden in (bobs, dropped):
        assert value(found[uid(hidden)], "summary") == "Busy"
        assert value(found[uid(hidden)], "description") is None
        assert attendees(found[uid(hidden)]) == []
    assert value(found[uid(dropped)], "status") == "CANCELLED"
    assert "Bob's" not in response.get_data(as_text=True)
    as_admin = by_uid(parse(fetch(api, room_feed(room), new_token(api, admin)["token"])))
    assert value(as_admin[uid(bobs)], "summary") == "Bob's"


def test_plain_name_attendees_are_listed_by_name_never_as_mailto(
    api: Api, user: dict[str, str], room: str
) -> None:
    names = ["ana@example.com", "Li Wei", "Bob", "bob@", "Dr. Müller"]
    booking = api.confirmed_booking(
        user, booking_body(room, future(1), description="Plans", attendees=names)
    )

    response = fetch(api, MINE, new_token(api, user)["token"])

    event = by_uid(parse(response))[uid(booking)]
    assert attendees(event) == ["mailto:ana@example.com"]
    assert value(event, "description") == "Plans\n\nAttendees: Li Wei, Bob, bob@, Dr. Müller"
    body = response.get_data(as_text=True)
    assert body.count("mailto:") == 1
    assert "ATTENDEE;CN" not in body


# --- caching ---------------------------------------------------------------------------


def test_the_feeds_carry_an_etag_and_answer_304_while_nothing_changed(
    api: Api, user: dict[str, str], room: str
) -> None:
    api.confirmed_booking(user, booking_body(room, future(1)))
    token = new_token(api, user)["token"]

    for url in (MINE, room_feed(room)):
        first = fetch(api, url, token)
        etag = first.headers["ETag"]
        assert first.status_code == 200 and etag.startswith('"')
        assert first.headers["Cache-Control"] == "private, max-age=300"
        assert "Authorization" in first.headers["Vary"]
        assert fetch(api, url, token).headers["ETag"] == etag  # the same body, the same tag

        again = api.client.get(url, query_string={"token": token}, headers={"If-None-Match": etag})

        assert again.status_code == 304
        assert again.get_data() == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "private, max-age=300"
        stale = api.client.get(
            url, query_string={"token": token}, headers={"If-None-Match": '"not-it"'}
        )
        assert stale.status_code == 200 and stale.get_data() == first.get_data()

    before = fetch(api, MINE, token).headers["ETag"]
    api.confirmed_booking(user, booking_body(room, future(3)))
    changed = api.client.get(MINE, query_string={"token": token}, headers={"If-None-Match": before})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != before
    assert len(events(parse(changed))) == 2
    # Errors are still never kept.
    assert fetch(api, MINE, "wrong").headers["Cache-Control"] == "no-store"


# --- time zones and series -------------------------------------------------------------


@pytest.mark.parametrize("spring", [True, False], ids=["spring", "autumn"])
def test_a_weekly_berlin_series_keeps_nine_oclock_across_the_dst_change(
    api: Api,
    user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
    spring: bool,
) -> None:
    room = make_room(timezone="Europe/Berlin")
    start = next_dst_change(BERLIN, spring=spring)  # the clocks change within the series
    body = {**booking_body(room, start), "recurrence": {"freq": "WEEKLY", "count": 3}}
    series_id = book_series(api, user, body)["result"]["series_id"]

    response = fetch(api, room_feed(room), new_token(api, user)["token"])

    calendar = parse(response)
    (zone,) = calendar.contents["vtimezone"]
    assert zone.tzid.value == "Europe/Berlin"
    assert {"standard", "daylight"} <= set(zone.contents)  # both offsets, parsed
    (master,) = events(calendar)
    assert master.uid.value == f"series-{series_id}@bookings"
    assert tzid(master.dtstart) == "Europe/Berlin"
    assert f"DTSTART;TZID=Europe/Berlin:{start:%Y%m%dT090000}" in response.get_data(as_text=True)
    expanded = list(master.getrruleset())
    assert [moment.astimezone(BERLIN).hour for moment in expanded] == [9, 9, 9]
    booked = [b.start_time for b in series_rows(sessions, series_id)]
    assert expanded == booked  # the very instants the worker booked
    offsets = {moment.utcoffset() for moment in expanded}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # UTC moves, local stays


def test_a_series_is_one_recurring_event_with_its_skipped_and_cancelled_occurrences(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    room = make_room(timezone="Europe/Berlin")
    start = berlin_day(3, 10)
    week = timedelta(weeks=1)
    blocker = api.confirmed_booking(other_user, booking_body(room, start + week))
    body = {
        **booking_body(room, start, title="Weekly", description="Sync", attendees=["Li Wei"]),
        "recurrence": {"freq": "WEEKLY", "count": 4},
        "conflict_policy": "skip_conflicts",
    }
    doc = book_series(api, user, body)
    series_id = doc["result"]["series_id"]
    assert [o["status"] for o in doc["result"]["occurrences"]] == [
        "CONFIRMED",
        "SKIPPED",
        "CONFIRMED",
        "CONFIRMED",
    ]
    first, third, fourth = series_rows(sessions, series_id)
    api.cancel(user, str(third.id))
    token = new_token(api, user)["token"]

    calendar = parse(fetch(api, MINE, token))

    series_uid = f"series-{series_id}@bookings"
    (master,) = [e for e in events(calendar) if "rrule" in e.contents]
    overrides = [e for e in events(calendar) if "recurrence-id" in e.contents]
    assert master.uid.value == series_uid
    assert master.rrule.value.startswith("FREQ=WEEKLY;UNTIL=")
    assert master.dtstart.value == first.start_time
    assert value(master, "summary") == "Weekly"
    assert value(master, "status") == "CONFIRMED"
    assert value(master, "description") == "Sync\n\nAttendees: Li Wei"
    (exdate,) = master.exdate_list
    assert exdate.value == [start + week]  # the skipped week: never booked
    (cancelled,) = overrides
    assert cancelled.uid.value == series_uid
    assert cancelled.recurrence_id.value == third.start_time
    assert value(cancelled, "status") == "CANCELLED"
    assert list(master.getrruleset()) == [first.start_time, third.start_time, fourth.start_time]
    assert len(events(calendar)) == 2  # the blocker is Bob's, not Alice's

    # The series is written whole whatever part of it the window holds.
    late = {"from": (fourth.start_time - timedelta(hours=1)).isoformat()}
    assert fetch(api, MINE, token, **late).get_data() == fetch(api, MINE, token).get_data()

    # In the room's feed, read by Bob: the series is there, as "Busy", and so is his own.
    as_bob = parse(fetch(api, room_feed(room), new_token(api, other_user)["token"]))
    masters = [e for e in events(as_bob) if "rrule" in e.contents]
    assert [value(m, "summary") for m in masters] == ["Busy"]
    assert value(masters[0], "description") is None
    assert uid(blocker) in {e.uid.value for e in events(as_bob)}
    assert "Weekly" not in str(as_bob.serialize())


def test_control_characters_never_reach_a_feed(api: Api, user: dict[str, str], room: str) -> None:
    """RFC 5545 forbids every C0 control but HTAB in a TEXT value, and DEL: a description
    with ESC, VT, DEL, SOH and a bare CR (NUL is a 422 at the door) is written without
    them (a line break stays)."""
    import icalendar

    text = "Agenda\x1b[31m red\x0b tab\there\x7f end\x01\r\nnext line\rlast"
    task = api.book(user, booking_body(room, future(hours=70), description=text))
    assert api.wait_task(user, task)["status"] == "SUCCEEDED"
    token = new_token(api, user)["token"]
    raw = fetch(api, MINE, token).get_data()

    unfolded = raw.replace(b"\r\n ", b"").replace(b"\r\n", b"")
    forbidden = {*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F}
    assert not forbidden & set(unfolded), [b for b in unfolded if b in forbidden]
    [event] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["DESCRIPTION"]) == "Agenda[31m red tab\there end\nnext line\nlast"


def test_feed_urls_are_on_public_url_whatever_host_the_request_names(
    api: Api, user: dict[str, str]
) -> None:
    """PUBLIC_URL (http://localhost in the tests' production settings) makes the links;
    a `Host: evil.example` header does not (the outside test got http://evil.example/…)."""
    response = api.client.post("/v1/users/me/feed-token", headers={**user, "Host": "evil.example"})
    assert response.status_code == 201, response.json
    for url in (response.json["calendar_url"], response.json["rooms_url_template"]):
        assert url.startswith("http://localhost/v1/"), url
        assert "evil" not in url
