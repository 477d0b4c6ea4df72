"""GET /v1/rooms/find-time through HTTP, a real worker deciding the bookings, against
windows worked out by hand (docs/api.md, "Rooms"); and a room's building and floor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.helpers import Api, assert_error, booking_body

pytestmark = pytest.mark.usefixtures("worker")

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = {  # lunch from 12:00 to 13:00, every day, in the room's time zone
    day: [["08:00", "12:00"], ["13:00", "18:00"]]
    for day in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
}
Found = list[tuple[str, datetime, datetime]]


def day() -> date:
    """Three days ahead: its whole day is in the future in every time zone."""
    return datetime.now(UTC).date() + timedelta(days=3)


def at(hour: int, minute: int = 0, zone: ZoneInfo | None = None) -> datetime:
    return datetime.combine(day(), time(hour, minute), zone or UTC)


def find(api: Api, headers: dict[str, str], **query: Any) -> Found:
    """The windows found, as (room_id, start, end); checks the answer's shape."""
    for bound in ("from", "to"):
        if isinstance(query.get(bound), datetime):
            query[bound] = query[bound].isoformat()
    query.setdefault("duration_minutes", 60)
    response = api.client.get("/v1/rooms/find-time", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    assert set(response.json) == {"items"}, response.json
    found = []
    for item in response.json["items"]:
        assert set(item) == {"room_id", "start_time", "end_time"}, item
        start, end = (datetime.fromisoformat(item[k]) for k in ("start_time", "end_time"))
        assert start.utcoffset() == end.utcoffset() == timedelta(0), item  # answers in UTC
        found.append((item["room_id"], start, end))
    return found


def decided(api: Api, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    doc = api.wait_task(who, api.book(who, body))
    assert doc["status"] == "SUCCEEDED", doc
    return doc["result"]  # type: ignore[no-any-return]


def test_a_users_windows_keep_to_opening_hours_and_buffers_an_admins_and_approvers_only_to_buffers(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Callable[..., str],
) -> None:
    """A Berlin room open 08:00-12:00 and 13:00-18:00 with a 15-minute buffer, booked
    08:00-09:00 (PENDING: it needs approval) and 10:00-11:00 (CONFIRMED). Free for an
    hour: 09:15-09:45 and 11:15-12:00 are too short, so a user's first window is 13:00;
    an admin or the approver is not held to the hours: 11:15 (07:00-07:45 is too short)."""
    approver = api.me(other_user)
    room = make_room(
        name="Spree 2",
        timezone="Europe/Berlin",
        building="Spreehaus",
        floor="2",
        policy={
            "opening_hours": OFFICE,
            "buffer_minutes": 15,
            "requires_approval": True,
            "approvers": [approver],
        },
    )
    make_room(name="Spree 3", building="Spreehaus", floor="3")  # free all day: other floor
    make_room(name="Docks 2", building="Docks", floor="2")  # other building
    pending = decided(api, user, booking_body(room, at(8, zone=BERLIN)))
    assert pending["booking_status"] == "PENDING"
    confirmed = decided(api, admin, booking_body(room, at(10, zone=BERLIN)))
    assert confirmed["booking_status"] == "CONFIRMED"
    query = {
        "from": at(7, zone=BERLIN),
        "to": at(18, zone=BERLIN),
        "building": "spreehaus",  # ignoring case
        "floor": "2",
    }

    assert find(api, user, **query) == [(room, at(13, zone=BERLIN), at(14, zone=BERLIN))]
    lunch = [(room, at(11, 15, BERLIN), at(12, 15, BERLIN))]
    assert find(api, admin, **query) == lunch
    assert find(api, other_user, **query) == lunch  # the room's approver


def test_closures_and_bookings_split_the_day_and_rooms_merge_earliest_first(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    make_room: Callable[..., str],
) -> None:
    """Dock 1 (UTC) is closed 09:00-12:00 and booked 13:30-14:00 (a booking 12:00-13:00
    was cancelled): from 08:30 to 16:00 its hours are 12:00 and 14:00. Dock 2 is free
    from 08:30."""
    docks = make_room(name="Dock 1", building="Docks", floor="1")
    free = make_room(name="Dock 2", building="Docks", floor="2")
    make_room(name="Tower", building="Tower")
    closure = {"start_time": at(9).isoformat(), "end_time": at(12).isoformat(), "reason": "x"}
    response = api.client.post(f"/v1/rooms/{docks}/closures", json=closure, headers=admin)
    assert response.status_code == 202, response.json
    assert api.wait_task(admin, response.json["task_id"])["status"] == "SUCCEEDED"
    api.cancel(user, api.confirmed_booking(user, booking_body(docks, at(12))))
    api.confirmed_booking(user, booking_body(docks, at(13, 30), 30))
    query = {"from": at(8, 30), "to": at(16), "building": "Docks"}

    assert find(api, user, **query) == [
        (free, at(8, 30), at(9, 30)),
        (docks, at(12), at(13)),
        (docks, at(14), at(15)),
    ]
    assert find(api, user, **query, floor="1", limit=1) == [(docks, at(12), at(13))]
    assert find(api, user, **query, duration_minutes=90) == [
        (free, at(8, 30), at(10)),
        (docks, at(12), at(13, 30)),
        (docks, at(14), at(15, 30)),
    ]
    assert find(api, user, **query, capacity_min=9) == []  # every room holds 8


def test_at_most_limit_windows_ten_unless_asked_a_tie_going_to_the_room_first_by_name(
    api: Api, user: dict[str, str], make_room: Callable[..., str]
) -> None:
    rooms = [make_room(name=f"Row {i:02d}", amenities=["screen"]) for i in range(12)]
    make_room(name="Row 99")  # no screen

    found = find(api, user, **{"from": at(9), "to": at(10), "amenity": "Screen"})

    assert found == [(room, at(9), at(10)) for room in rooms[:10]]
    assert len(find(api, user, **{"from": at(9), "to": at(10), "limit": 200})) == 13


def test_notice_and_duration_bind_a_user_and_no_window_starts_in_the_past(
    api: Api, admin: dict[str, str], user: dict[str, str], make_room: Callable[..., str]
) -> None:
    room = make_room(policy={"min_notice_minutes": 120, "max_duration_minutes": 90})
    before = datetime.now(UTC)
    query = {"from": before - timedelta(hours=1), "to": before + timedelta(hours=8)}

    [(found_room, start, end)] = find(api, user, **query)
    after = datetime.now(UTC)

    assert found_room == room and end - start == timedelta(hours=1)
    assert before + timedelta(minutes=120) <= start <= after + timedelta(minutes=121)
    assert start.second == start.microsecond == 0
    assert find(api, user, **query, duration_minutes=120) == []  # longer than 90 minutes
    [(_, start, _)] = find(api, admin, **query, duration_minutes=120)  # exempt
    assert before <= start <= after + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "FROM"}, "to"),  # to == from
        ({"to": "FROM-1m"}, "to"),
        ({"to": "FROM+31d+1m"}, "to"),
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"duration_minutes": 1441}, "duration_minutes"),
        ({"duration_minutes": None}, "duration_minutes"),
        ({"from": "2030-01-07T09:00:00"}, "from"),  # no offset
        ({"to": None}, "to"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
    ],
)
def test_a_bad_question_is_a_422_naming_the_field(
    api: Api, user: dict[str, str], query: dict[str, Any], field: str
) -> None:
    start = at(9)
    shifts = {"FROM": timedelta(0), "FROM-1m": -timedelta(minutes=1)}
    shifts["FROM+31d+1m"] = timedelta(days=31, minutes=1)
    full: dict[str, Any] = {
        "duration_minutes": 30,
        "from": start.isoformat(),
        "to": (start + timedelta(days=31)).isoformat(),  # the longest search allowed
    }
    response = api.client.get("/v1/rooms/find-time", query_string=full, headers=user)
    assert response.status_code == 200, response.json
    for key, value in query.items():
        if value is None:
            del full[key]
        else:
            full[key] = (start + shifts[value]).isoformat() if value in shifts else value

    response = api.client.get("/v1/rooms/find-time", query_string=full, headers=user)

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert field in error["details"], error


def test_find_time_needs_a_login(api: Api) -> None:
    query = {"duration_minutes": 30, "from": at(9).isoformat(), "to": at(10).isoformat()}
    assert_error(api.client.get("/v1/rooms/find-time", query_string=query), 401)


def test_a_room_has_an_optional_building_and_floor_and_the_lists_filter_by_them(
    api: Api, admin: dict[str, str], user: dict[str, str], make_room: Callable[..., str]
) -> None:
    north = make_room(name="North 1", building="North", floor="1")
    upper = make_room(name="North 2", building="North", floor="2")
    plain = make_room(name="Plain")
    shown = api.client.get(f"/v1/rooms/{north}", headers=user).json
    assert (shown["building"], shown["floor"]) == ("North", "1")
    assert api.client.get(f"/v1/rooms/{plain}", headers=user).json["building"] is None

    def listed(url: str, **query: Any) -> list[str]:
        return [room["id"] for room in api.page(user, url, query)["items"]]

    assert listed("/v1/rooms", building="NORTH") == [north, upper]
    assert listed("/v1/rooms", building="north", floor="2") == [upper]
    assert listed("/v1/rooms", floor="1") == [north]
    assert listed("/v1/rooms", building="Nort") == []  # a whole name, not a part
    window = {"start_time": at(9).isoformat(), "end_time": at(10).isoformat()}
    api.confirmed_booking(user, booking_body(north, at(9)))
    assert listed("/v1/rooms/availability", **window, building="North") == [upper]
    assert listed("/v1/rooms/availability", **window, floor="1") == []

    cleared = api.client.patch(f"/v1/rooms/{upper}", json={"floor": None}, headers=admin)
    assert cleared.status_code == 200 and cleared.json["floor"] is None, cleared.json
    blank = api.client.patch(f"/v1/rooms/{upper}", json={"building": "  "}, headers=admin)
    assert "building" in assert_error(blank, 422)["details"]
