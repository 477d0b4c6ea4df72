"""Finding free rooms for a window, and a room's bookings as an iCalendar feed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import BookingStatus
from models.tables.bookings import Booking
from models.tables.rooms import Room
from tests.helpers import Api, assert_error, booking_body, future

pytestmark = pytest.mark.usefixtures("worker")

H = timedelta(hours=1)


def booking_status(sessions: sessionmaker[Session], booking_id: str) -> BookingStatus:
    with sessions() as session:
        booking = session.get(Booking, uuid.UUID(booking_id))
        assert booking is not None
        return booking.status


def available(
    api: Api, headers: dict[str, str], start: datetime, end: datetime, **query: Any
) -> dict[str, Any]:
    params = {"start_time": start.isoformat(), "end_time": end.isoformat(), **query}
    return api.page(headers, "/v1/rooms/availability", params)


def names(page: dict[str, Any]) -> list[str]:
    return [room["name"] for room in page["items"]]


# --- availability --------------------------------------------------------------------------


def test_availability_is_half_open_and_ignores_cancelled_bookings(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    """Overlap (partial or containing) blocks a room; back-to-back and cancelled do not."""
    start = future(10)
    end = start + H
    contains = make_room(name="A contains")
    api.confirmed_booking(user, booking_body(contains, start - 0.5 * H, minutes=120))
    tail = make_room(name="B tail overlap")
    api.confirmed_booking(other_user, booking_body(tail, start + 0.5 * H, minutes=60))
    before = make_room(name="C ends at start")
    api.confirmed_booking(user, booking_body(before, start - H, minutes=60))
    after = make_room(name="D starts at end")
    api.confirmed_booking(user, booking_body(after, end, minutes=60))
    dropped_room = make_room(name="E cancelled")
    dropped = api.confirmed_booking(other_user, booking_body(dropped_room, start, minutes=60))
    api.cancel(other_user, dropped)
    make_room(name="F never booked")

    page = available(api, user, start, end)

    assert names(page) == ["C ends at start", "D starts at end", "E cancelled", "F never booked"]
    assert page["total"] == 4
    assert (page["limit"], page["offset"]) == (50, 0)
    item = page["items"][0]
    assert item["id"] == before
    assert item["active"] is True
    assert set(item) == {
        "id",
        "name",
        "capacity",
        "location",
        "building",
        "floor",
        "amenities",
        "timezone",
        "auto_release_minutes",
        "policy",
        "active",
        "created_at",
        "updated_at",
    }
    assert booking_status(sessions, dropped) == BookingStatus.CANCELLED
    # The same window one minute earlier: the room booked until `start` is now taken.
    earlier = available(api, user, start - timedelta(minutes=1), end - timedelta(minutes=1))
    assert "C ends at start" not in names(earlier)
    assert "D starts at end" in names(earlier)


def test_availability_leaves_out_inactive_rooms(
    api: Api,
    user: dict[str, str],
    admin: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    kept = make_room(name="Kept")
    retired = make_room(name="Retired")
    response = api.client.delete(f"/v1/rooms/{retired}", headers=admin)
    assert response.status_code == 204

    page = available(api, user, future(1), future(2))

    assert [r["id"] for r in page["items"]] == [kept]
    assert page["total"] == 1
    with sessions() as session:
        room = session.get(Room, uuid.UUID(retired))
        assert room is not None and room.active is False


def test_availability_honours_capacity_and_every_amenity(
    api: Api, user: dict[str, str], make_room: Callable[..., str]
) -> None:
    """capacity_min and repeated amenity all apply, together with the free-window check."""
    start = future(3)
    make_room(name="Small", capacity=4, amenities=["projector", "whiteboard"])
    make_room(name="Big, projector only", capacity=20, amenities=["projector"])
    make_room(name="Big, both", capacity=20, amenities=["Projector", "whiteboard", "vc"])
    make_room(name="Exactly ten", capacity=10, amenities=["whiteboard", "projector"])
    busy = make_room(name="Big, both, busy", capacity=30, amenities=["projector", "whiteboard"])
    api.confirmed_booking(user, booking_body(busy, start))

    page = available(
        api, user, start, start + H, capacity_min=10, amenity=["projector", "WHITEBOARD"]
    )

    assert names(page) == ["Big, both", "Exactly ten"]
    assert names(available(api, user, start, start + H, capacity_min=21)) == []
    assert names(available(api, user, start, start + H, amenity="vc")) == ["Big, both"]
    # Once the window moves past the booking, the busy room matches again.
    later = available(api, user, start + H, start + 2 * H, capacity_min=10, amenity="projector")
    assert names(later) == ["Big, both", "Big, both, busy", "Big, projector only", "Exactly ten"]


def test_availability_pages(api: Api, user: dict[str, str], make_room: Callable[..., str]) -> None:
    for name in ("R1", "R2", "R3"):
        make_room(name=name)

    page = available(api, user, future(1), future(2), limit=1, offset=1)

    assert (names(page), page["total"], page["limit"], page["offset"]) == (["R2"], 3, 1, 1)


@pytest.fixture
def statements(sessions: sessionmaker[Session]) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the test runs."""
    engine = sessions.kw["bind"]
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_availability_is_one_query_whatever_the_number_of_rooms(
    api: Api,
    user: dict[str, str],
    make_room: Callable[..., str],
    statements: list[str],
) -> None:
    """The page and its total: one statement each, with the booking check inside (no loop)."""
    start = future(1)
    rooms = [make_room(name=f"Room {i:02}") for i in range(6)]
    api.confirmed_booking(user, booking_body(rooms[2], start))
    statements.clear()

    page = available(api, user, start, start + H)

    assert page["total"] == 5
    on_rooms = [s for s in statements if "FROM rooms" in s]
    assert len(on_rooms) == 2, on_rooms
    assert all("NOT (EXISTS" in s and "FROM bookings" in s for s in on_rooms), on_rooms
    assert not [s for s in statements if "FROM bookings" in s and "FROM rooms" not in s]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"end_time": "2030-01-01T10:00:00+00:00"}, "start_time"),
        ({"start_time": "2030-01-01T10:00:00+00:00"}, "end_time"),
        (
            {"start_time": "2030-01-01T10:00:00", "end_time": "2030-01-01T11:00:00+00:00"},
            "start_time",
        ),
        (
            {"start_time": "2030-01-01T10:00:00+00:00", "end_time": "2030-01-01T11:00:00"},
            "end_time",
        ),
        (
            {"start_time": "2030-01-01T10:00:00+00:00", "end_time": "2030-01-01T09:00:00+00:00"},
            "end_time",
        ),
        (
            {"start_time": "2030-01-01T10:00:00+00:00", "end_time": "2030-01-01T10:00:00+00:00"},
            "end_time",
        ),
        (
            {"start_time": "2030-01-01T11:00:00+02:00", "end_time": "2030-01-01T09:00:00Z"},
            "end_time",
        ),
        ({"start_time": "tomorrow", "end_time": "2030-01-01T10:00:00+00:00"}, "start_time"),
        (
            {
                "start_time": "2030-01-01T10:00:00+00:00",
                "end_time": "2030-01-01T11:00:00+00:00",
                "capacity_min": "0",
            },
            "capacity_min",
        ),
    ],
    ids=[
        "no-start",
        "no-end",
        "naive-start",
        "naive-end",
        "inverted",
        "empty",
        "inverted-across-offsets",
        "not-a-time",
        "capacity-zero",
    ],
)
def test_bad_availability_windows_are_422_naming_the_field(
    api: Api, user: dict[str, str], query: dict[str, str], field: str
) -> None:
    response = api.client.get("/v1/rooms/availability", query_string=query, headers=user)

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert field in error["details"], error


def test_availability_needs_a_token(api: Api) -> None:
    query = {"start_time": future(1).isoformat(), "end_time": future(2).isoformat()}
    assert_error(api.client.get("/v1/rooms/availability", query_string=query), 401, "UNAUTHORIZED")


# --- calendar.ics --------------------------------------------------------------------------


def feed(api: Api, headers: dict[str, str], room: str, **query: Any) -> Calendar:
    response = api.client.get(f"/v1/rooms/{room}/calendar.ics", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.data)


def events_by_uid(calendar: Calendar) -> dict[str, Any]:
    events = calendar.walk("VEVENT")
    by_uid = {str(e["UID"]): e for e in events}
    assert len(by_uid) == len(events)
    return by_uid


def booked_times(sessions: sessionmaker[Session], booking_id: str) -> tuple[datetime, datetime]:
    with sessions() as session:
        booking = session.get(Booking, uuid.UUID(booking_id))
        assert booking is not None and booking.status == BookingStatus.CONFIRMED
        return booking.start_time, booking.end_time


def test_calendar_shows_the_rooms_bookings_hiding_others_details(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    admin: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    room = make_room(name="Fjord", location="Floor 3, east")
    details: dict[str, Any] = {"description": "quarterly numbers", "attendees": ["x@example.com"]}
    alices = api.confirmed_booking(
        user, booking_body(room, future(5), minutes=90, title="Alice's review", **details)
    )
    bobs = api.confirmed_booking(
        other_user, booking_body(room, future(1), title="Bob's secret", **details)
    )
    dropped = api.confirmed_booking(user, booking_body(room, future(3), title="Dropped"))
    api.cancel(user, dropped)
    elsewhere = make_room(name="Elsewhere")
    api.confirmed_booking(user, booking_body(elsewhere, future(7), title="Not this room"))

    calendar = feed(api, user, room)

    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"])
    assert str(calendar["X-WR-CALNAME"]) == "Fjord"
    by_uid = events_by_uid(calendar)
    # A cancelled booking stays in the feed, as CANCELLED: a subscribed client drops it.
    assert set(by_uid) == {f"{b}@bookings" for b in (alices, bobs, dropped)}
    assert str(by_uid[f"{dropped}@bookings"]["STATUS"]) == "CANCELLED"
    for booking_id in (alices, bobs):
        event = by_uid[f"{booking_id}@bookings"]
        start, end = booked_times(sessions, booking_id)
        assert event.decoded("DTSTART") == start
        assert event.decoded("DTEND") == end
        assert event.decoded("DTSTART").utcoffset() == timedelta(0)
        assert event.decoded("DTEND").utcoffset() == timedelta(0)
        assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
        assert str(event["STATUS"]) == "CONFIRMED"
        assert str(event["LOCATION"]) == "Floor 3, east"
    own, other = by_uid[f"{alices}@bookings"], by_uid[f"{bobs}@bookings"]
    assert str(own["SUMMARY"]) == "Alice's review"
    assert str(own["DESCRIPTION"]) == "quarterly numbers"
    assert str(own["ATTENDEE"]) == "mailto:x@example.com"
    assert str(other["SUMMARY"]) == "Busy"
    assert "DESCRIPTION" not in other and "ATTENDEE" not in other

    as_bob = events_by_uid(feed(api, other_user, room))
    assert str(as_bob[f"{bobs}@bookings"]["SUMMARY"]) == "Bob's secret"
    assert str(as_bob[f"{alices}@bookings"]["SUMMARY"]) == "Busy"
    assert "DESCRIPTION" not in as_bob[f"{alices}@bookings"]

    as_admin = events_by_uid(feed(api, admin, room))
    summaries = {str(e["SUMMARY"]) for e in as_admin.values()}
    assert summaries == {"Alice's review", "Bob's secret", "Dropped"}
    assert booking_status(sessions, dropped) == BookingStatus.CANCELLED


def test_calendar_times_are_written_in_utc(api: Api, user: dict[str, str], room: str) -> None:
    """A booking sent with a +02:00 offset is written as the same instant with a Z."""
    start = future(2)
    local = start.astimezone(timezone(timedelta(hours=2)))
    body = booking_body(room, start)
    body.update(start_time=local.isoformat(), end_time=(local + H).isoformat())
    assert body["start_time"].endswith("+02:00")
    doc = api.wait_task(user, api.book(user, body))
    assert doc["status"] == "SUCCEEDED", doc

    response = api.client.get(f"/v1/rooms/{room}/calendar.ics", headers=user)

    text = response.get_data(as_text=True)
    assert f"DTSTART:{start:%Y%m%dT%H%M%SZ}" in text
    assert f"DTEND:{start + H:%Y%m%dT%H%M%SZ}" in text
    assert text.startswith("BEGIN:VCALENDAR") and text.count("BEGIN:VEVENT") == 1
    assert "\r\n" in text  # RFC 5545 content lines end in CRLF


def test_calendar_window_defaults_to_30_days_back_and_narrows_with_from_to(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """Past bookings (stored directly: the API refuses past starts) show for 30 days back."""
    organizer = uuid.UUID(api.me(user))
    now = datetime.now(UTC).replace(microsecond=0)
    with sessions.begin() as session:
        old, recent = (
            Booking(
                room_id=uuid.UUID(room),
                organizer_id=organizer,
                start_time=now - timedelta(days=days),
                end_time=now - timedelta(days=days) + H,
                title=f"{days} days ago",
            )
            for days in (40, 10)
        )
        session.add_all([old, recent])
        session.flush()
        old_id, recent_id = str(old.id), str(recent.id)
    upcoming = api.confirmed_booking(user, booking_body(room, future(1), title="Upcoming"))
    later = api.confirmed_booking(user, booking_body(room, future(30), title="Later"))

    default = events_by_uid(feed(api, user, room))
    assert set(default) == {f"{b}@bookings" for b in (recent_id, upcoming, later)}

    everything = events_by_uid(feed(api, user, room, **{"from": (now - 50 * 24 * H).isoformat()}))
    assert f"{old_id}@bookings" in everything and len(everything) == 4

    window = {"from": future(0).isoformat(), "to": future(2).isoformat()}
    assert set(events_by_uid(feed(api, user, room, **window))) == {f"{upcoming}@bookings"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2030-01-02T00:00:00+00:00", "to": "2030-01-01T00:00:00+00:00"}, "to"),
        ({"from": "2030-01-01T00:00:00"}, "from"),
        ({"to": "yesterday"}, "to"),
    ],
    ids=["inverted", "naive-from", "not-a-time"],
)
def test_bad_calendar_windows_are_422(
    api: Api, user: dict[str, str], room: str, query: dict[str, str], field: str
) -> None:
    response = api.client.get(f"/v1/rooms/{room}/calendar.ics", query_string=query, headers=user)

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert field in error["details"], error


def test_calendar_of_an_empty_room_and_of_an_unknown_one(
    api: Api, user: dict[str, str], room: str
) -> None:
    calendar = feed(api, user, room)
    assert calendar.walk("VEVENT") == []
    assert str(calendar["X-WR-CALNAME"]) == "Room 0"

    missing = uuid.uuid4()
    response = api.client.get(f"/v1/rooms/{missing}/calendar.ics", headers=user)
    error = assert_error(response, 404, "NOT_FOUND")
    assert response.mimetype == "application/json"
    assert error["details"] == {"room_id": str(missing)}
    assert_error(api.client.get(f"/v1/rooms/{room}/calendar.ics"), 401, "UNAUTHORIZED")


def test_location_is_left_out_when_the_room_has_none(
    api: Api, user: dict[str, str], room: str
) -> None:
    api.confirmed_booking(user, booking_body(room, future(1)))

    (event,) = feed(api, user, room).walk("VEVENT")

    assert "LOCATION" not in event


# --- the spec ------------------------------------------------------------------------------


def test_both_routes_are_in_the_openapi_spec(api: Api) -> None:
    paths = api.client.get("/openapi.json").json["paths"]

    availability = paths["/v1/rooms/availability"]["get"]
    params = {p["name"]: p for p in availability["parameters"]}
    assert params["start_time"]["required"] is True
    assert params["end_time"]["required"] is True
    assert {"capacity_min", "amenity", "limit", "offset"} <= set(params)
    assert "200" in availability["responses"]

    calendar = paths["/v1/rooms/{room_id}/calendar.ics"]["get"]
    assert {"from", "to"} <= {p["name"] for p in calendar["parameters"]}
    assert "text/calendar" in calendar["responses"]["200"]["content"]
