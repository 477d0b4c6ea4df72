"""Changing bookings in place, through the API, the broker and a real worker: moves in
time and between rooms, what a booking under way may change, series from one occurrence
on, and what a refused or malformed change leaves (nothing)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers import Api, assert_error, booking_body, future, next_dst_change, request_count
from tests.vcalendar import read_calendar

pytestmark = pytest.mark.usefixtures("worker")
BERLIN = ZoneInfo("Europe/Berlin")


def get(api: Api, who: dict[str, str], booking_id: str) -> dict[str, Any]:
    response = api.client.get(f"/v1/bookings/{booking_id}", headers=who)
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def change(api: Api, who: dict[str, str], booking_id: str, **fields: Any) -> dict[str, Any]:
    """PATCH the booking and wait for the change's task."""
    body = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}
    response = api.client.patch(f"/v1/bookings/{booking_id}", json=body, headers=who)
    assert response.status_code == 202, response.json
    return api.wait_task(who, response.json["task_id"])


def change_series(api: Api, who: dict[str, str], series_id: str, **fields: Any) -> dict[str, Any]:
    body = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}
    response = api.client.patch(f"/v1/series/{series_id}", json=body, headers=who)
    assert response.status_code == 202, response.json
    return api.wait_task(who, response.json["task_id"])


def audit(api: Api, admin: dict[str, str], booking_id: str) -> list[dict[str, Any]]:
    return api.page(admin, "/v1/audit", {"booking_id": booking_id})["items"]  # type: ignore[no-any-return]


def test_a_move_keeps_the_booking_its_meeting_and_join_code(
    api: Api, admin: dict[str, str], user: dict[str, str], room: str
) -> None:
    start = future()
    booking_id = api.confirmed_booking(user, booking_body(room, start, 60))
    before = get(api, user, booking_id)
    later = start + timedelta(hours=1)

    task = change(api, user, booking_id, start_time=later, end_time=later + timedelta(hours=1))

    assert (task["status"], task["kind"]) == ("SUCCEEDED", "change")
    assert task["result"] == {
        "booking_id": booking_id,
        "version": 2,
        "booking_status": "CONFIRMED",
    }
    after = get(api, user, booking_id)
    assert datetime.fromisoformat(after["start_time"]) == later
    assert after["version"] == 2
    assert after["meeting"]["id"] == before["meeting"]["id"]
    assert after["meeting"]["join_code"] == before["meeting"]["join_code"]
    [changed] = [e for e in audit(api, admin, booking_id) if e["action"] == "booking.changed"]
    assert changed["data"]["old"]["start_time"] == before["start_time"].replace("Z", "+00:00")
    assert datetime.fromisoformat(changed["data"]["new"]["start_time"]) == later
    assert changed["data"]["new"]["version"] == 2


def test_a_booking_never_conflicts_with_itself(api: Api, user: dict[str, str], room: str) -> None:
    start = future()
    booking_id = api.confirmed_booking(user, booking_body(room, start, 60))
    half = start + timedelta(minutes=30)

    task = change(api, user, booking_id, start_time=half, end_time=half + timedelta(hours=1))

    assert task["status"] == "SUCCEEDED", task


def test_a_refused_change_leaves_the_booking_exactly_as_it_was(
    api: Api, user: dict[str, str], other_user: dict[str, str], room: str
) -> None:
    start = future()
    booking_id = api.confirmed_booking(user, booking_body(room, start, 60))
    api.confirmed_booking(other_user, booking_body(room, start + timedelta(hours=2), 60))
    before = api.client.get(f"/v1/bookings/{booking_id}", headers=user).get_data()

    task = change(
        api,
        user,
        booking_id,
        end_time=start + timedelta(hours=2, minutes=30),
        title="Longer",
    )

    assert (task["status"], task["error"]["code"]) == ("REJECTED", "CONFLICT")
    assert api.client.get(f"/v1/bookings/{booking_id}", headers=user).get_data() == before


def test_a_change_meets_every_rule_a_new_request_would(
    api: Api, user: dict[str, str], make_room: Callable[..., str]
) -> None:
    small = make_room(capacity=2, policy={"max_duration_minutes": 90})
    start = future()
    booking_id = api.confirmed_booking(user, booking_body(small, start, 60))

    crowded = change(api, user, booking_id, attendees=["a@x.io", "b@x.io", "c@x.io"])
    too_long = change(api, user, booking_id, end_time=start + timedelta(hours=2))

    assert crowded["error"]["code"] == "CAPACITY_EXCEEDED"
    assert too_long["error"]["code"] == "DURATION_OUT_OF_POLICY"
    assert too_long["error"]["rule"] == {"name": "max_duration_minutes", "limit": 90}
    assert get(api, user, booking_id)["version"] == 1


def test_a_move_to_another_room_frees_the_old_slot_for_its_waiter(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Callable[..., str],
) -> None:
    old, new = make_room(), make_room()
    start = future()
    booking_id = api.confirmed_booking(user, booking_body(old, start, 60))
    waiter = api.book(other_user, booking_body(old, start, 60, waitlist=True))
    assert api.task(other_user, waiter, wait=10)["status"] == "WAITLISTED"

    task = change(api, user, booking_id, room_id=new)

    assert task["status"] == "SUCCEEDED", task
    assert get(api, user, booking_id)["room_id"] == new
    promoted = api.wait_task(other_user, waiter)
    assert promoted["status"] == "SUCCEEDED", promoted


def test_under_way_only_the_end_may_change_and_not_to_before_now(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    start = future()
    booking_id = api.confirmed_booking(user, booking_body(room, start, 60))
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    with sessions.begin() as session:  # the meeting has started ten minutes ago
        session.execute(
            text("UPDATE bookings SET start_time = :s, end_time = :e WHERE id = :id"),
            {"s": began, "e": began + timedelta(hours=1), "id": uuid.UUID(booking_id)},
        )

    extended = change(api, user, booking_id, end_time=began + timedelta(hours=2))
    renamed = change(api, user, booking_id, title="Other")
    ended_now = change(api, user, booking_id, end_time=datetime.now(UTC) + timedelta(minutes=1))
    too_late = api.client.patch(
        f"/v1/bookings/{booking_id}",
        json={"end_time": (began - timedelta(minutes=5)).isoformat()},
        headers=user,
    )

    assert extended["status"] == "SUCCEEDED", extended
    assert (renamed["status"], renamed["error"]["code"]) == ("REJECTED", "NOT_CHANGEABLE")
    assert ended_now["status"] == "SUCCEEDED", ended_now
    assert_error(too_late, 422)


def test_a_cancelled_booking_cannot_change(api: Api, user: dict[str, str], room: str) -> None:
    booking_id = api.confirmed_booking(user, booking_body(room, future(), 60))
    api.cancel(user, booking_id)

    task = change(api, user, booking_id, title="Too late")

    assert (task["status"], task["error"]["code"]) == ("REJECTED", "NOT_CHANGEABLE")


def test_in_a_room_that_asks_for_approval_a_users_move_waits_for_it_again(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Callable[..., str],
) -> None:
    approver = api.me(other_user)
    room = make_room(policy={"requires_approval": True, "approvers": [approver]})
    start = future()
    booking_id = api.confirmed_booking(admin, booking_body(room, start, 60))  # admins: CONFIRMED
    booking = get(api, admin, booking_id)
    renamed = change(api, admin, booking_id, title="Renamed")
    assert renamed["result"]["booking_status"] == "CONFIRMED"

    # The admin moves it: still CONFIRMED. Booked again by a user, a move asks again.
    mine = api.wait_task(user, api.book(user, booking_body(room, start + timedelta(hours=3))))
    approve = api.client.post(
        f"/v1/bookings/{mine['result']['booking_id']}/approve", json={}, headers=other_user
    )
    assert api.wait_task(other_user, approve.json["task_id"])["status"] == "SUCCEEDED"
    later = start + timedelta(hours=4)
    moved = change(
        api,
        user,
        mine["result"]["booking_id"],
        start_time=later,
        end_time=later + timedelta(hours=1),
    )

    assert moved["result"]["booking_status"] == "PENDING"
    again = get(api, user, mine["result"]["booking_id"])
    assert again["status"] == "PENDING"
    assert again["meeting"] is not None  # it keeps its meeting and join code
    assert booking["status"] == "CONFIRMED"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "_schema"),
        ({"colour": "blue"}, "colour"),
        ({"start_time": "2031-01-01T09:00:00"}, "start_time"),
        ({"end_time": "FIRST"}, "end_time"),
        ({"title": ""}, "title"),
    ],
)
def test_a_malformed_change_is_a_422_and_queues_nothing(
    api: Api,
    user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
    body: dict[str, Any],
    field: str,
) -> None:
    booking_id = api.confirmed_booking(user, booking_body(room, future(), 60))
    before = request_count(sessions)

    error = assert_error(
        api.client.patch(f"/v1/bookings/{booking_id}", json=body, headers=user), 422
    )

    assert field in error["details"], error
    assert request_count(sessions) == before


def test_a_window_that_makes_no_sense_is_a_422(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    start = future()
    booking_id = api.confirmed_booking(user, booking_body(room, start, 60))
    before = request_count(sessions)

    backwards = {"end_time": (start - timedelta(minutes=30)).isoformat()}
    too_long = {"end_time": (start + timedelta(hours=25)).isoformat()}
    for body in (backwards, too_long):
        error = assert_error(
            api.client.patch(f"/v1/bookings/{booking_id}", json=body, headers=user), 422
        )
        assert "end_time" in error["details"], error
    assert request_count(sessions) == before


def test_someone_elses_booking_is_a_404_and_an_unknown_room_too(
    api: Api, user: dict[str, str], other_user: dict[str, str], room: str
) -> None:
    booking_id = api.confirmed_booking(user, booking_body(room, future(), 60))

    hidden = api.client.patch(f"/v1/bookings/{booking_id}", json={"title": "x"}, headers=other_user)
    nowhere = api.client.patch(
        f"/v1/bookings/{booking_id}", json={"room_id": str(uuid.uuid4())}, headers=user
    )

    assert_error(hidden, 404)
    assert_error(nowhere, 404)


def test_the_feed_shows_a_changed_booking_with_a_higher_sequence(
    api: Api, user: dict[str, str], room: str
) -> None:
    start = future()
    booking_id = api.confirmed_booking(user, booking_body(room, start, 60))
    token = api.client.post("/v1/users/me/feed-token", headers=user).json["token"]

    def event() -> Any:
        feed = api.client.get(f"/v1/users/me/calendar.ics?token={token}")
        [found] = [e for e in read_calendar(feed.get_data(as_text=True)).vevent_list]
        return found

    first = event()
    change(
        api,
        user,
        booking_id,
        start_time=start + timedelta(hours=1),
        end_time=start + timedelta(hours=2),
    )
    second = event()

    assert int(first.sequence.value) == 1
    assert int(second.sequence.value) == 2
    assert second.uid.value == first.uid.value
    assert second.dtstart.value == start + timedelta(hours=1)


# --- series ------------------------------------------------------------------------------------


def make_series(
    api: Api, who: dict[str, str], room: str, start: datetime, count: int = 4, **extra: Any
) -> tuple[str, list[dict[str, Any]]]:
    body = {
        **booking_body(room, start, 60),
        "recurrence": {"freq": "WEEKLY", "count": count},
        **extra,
    }
    response = api.client.post("/v1/bookings/recurring", json=body, headers=who)
    task = api.wait_task(who, response.json["task_id"])
    assert task["status"] == "SUCCEEDED", task
    return task["result"]["series_id"], task["result"]["occurrences"]


def test_a_series_moves_from_an_occurrence_on_at_local_wall_clock_time(
    api: Api, user: dict[str, str], make_room: Callable[..., str]
) -> None:
    """A weekly 09:00 Berlin series across a DST change, shifted by an hour from its
    second occurrence: the later ones are at 10:00 local, on either side of the change;
    the first keeps its time."""
    room = make_room(timezone="Europe/Berlin")
    first = next_dst_change(BERLIN, spring=False)
    series_id, occurrences = make_series(api, user, room, first)
    second = occurrences[1]["start_time"]

    task = change_series(api, user, series_id, **{"from": second, "shift_minutes": 60})

    assert (task["status"], task["kind"]) == ("SUCCEEDED", "series_change")
    entries = task["result"]["occurrences"]
    assert [e["status"] for e in entries] == ["CONFIRMED"] * 3
    local = [datetime.fromisoformat(e["start_time"]).astimezone(BERLIN) for e in entries]
    assert [(t.hour, t.minute) for t in local] == [(10, 0)] * 3
    kept = get(api, user, occurrences[0]["booking_id"])
    assert datetime.fromisoformat(kept["start_time"]).astimezone(BERLIN).hour == 9
    assert get(api, user, occurrences[1]["booking_id"])["version"] == 2


def test_a_series_change_is_all_or_nothing_unless_told_to_skip(
    api: Api, user: dict[str, str], other_user: dict[str, str], room: str
) -> None:
    start = future()
    series_id, occurrences = make_series(api, user, room, start)
    in_the_way = start + timedelta(weeks=2, hours=1)
    api.confirmed_booking(other_user, booking_body(room, in_the_way, 60))

    whole = change_series(api, user, series_id, shift_minutes=60)
    skipping = change_series(
        api, user, series_id, shift_minutes=60, conflict_policy="skip_conflicts"
    )

    assert (whole["status"], whole["error"]["code"]) == ("REJECTED", "CONFLICT")
    assert [e["status"] for e in whole["result"]["occurrences"]] == ["SKIPPED"] * 4
    assert skipping["status"] == "SUCCEEDED", skipping
    entries = skipping["result"]["occurrences"]
    assert [e["status"] for e in entries] == ["CONFIRMED", "CONFIRMED", "SKIPPED", "CONFIRMED"]
    assert entries[2]["code"] == "CONFLICT"
    kept = get(api, user, occurrences[2]["booking_id"])
    assert datetime.fromisoformat(kept["start_time"]) == start + timedelta(weeks=2)


def test_a_from_that_is_not_an_occurrence_is_a_422(
    api: Api, user: dict[str, str], other_user: dict[str, str], room: str, sessions
) -> None:
    start = future()
    series_id, _ = make_series(api, user, room, start)
    before = request_count(sessions)

    off = {"from": (start + timedelta(minutes=5)).isoformat(), "shift_minutes": 30}
    error = assert_error(api.client.patch(f"/v1/series/{series_id}", json=off, headers=user), 422)
    nothing = api.client.patch(
        f"/v1/series/{series_id}", json={"from": start.isoformat()}, headers=user
    )
    hidden = api.client.patch(
        f"/v1/series/{series_id}", json={"shift_minutes": 30}, headers=other_user
    )

    assert "from" in error["details"], error
    assert_error(nothing, 422)
    assert_error(hidden, 404)
    assert request_count(sessions) == before


def test_a_moved_occurrence_is_an_override_of_its_series_in_the_feed(
    api: Api, user: dict[str, str], room: str
) -> None:
    start = future()
    _, occurrences = make_series(api, user, room, start, count=3)
    moved = occurrences[1]["booking_id"]
    change(
        api,
        user,
        moved,
        start_time=start + timedelta(weeks=1, hours=2),
        end_time=start + timedelta(weeks=1, hours=3),
    )
    token = api.client.post("/v1/users/me/feed-token", headers=user).json["token"]

    feed = api.client.get(f"/v1/users/me/calendar.ics?token={token}")
    calendar = read_calendar(feed.get_data(as_text=True))

    events = calendar.vevent_list
    master = [e for e in events if hasattr(e, "rrule")]
    overrides = [e for e in events if hasattr(e, "recurrence_id")]
    assert len(master) == 1 and len(overrides) == 1
    [override] = overrides
    assert override.uid.value == master[0].uid.value
    assert override.recurrence_id.value == start + timedelta(weeks=1)
    assert override.dtstart.value == start + timedelta(weeks=1, hours=2)
    assert int(override.sequence.value) == 2


def test_a_change_is_told_as_booking_changed_with_where_it_was(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["booking.changed"]}
    assert api.client.post("/v1/webhooks", json=hook, headers=user).status_code == 201
    start = future()
    booking_id = api.confirmed_booking(user, booking_body(room, start, 60))

    change(api, user, booking_id, end_time=start + timedelta(hours=2))

    with sessions() as session:
        [data] = session.execute(
            text("SELECT data FROM events WHERE type = 'booking.changed'")
        ).scalars()
    assert data["id"] == booking_id
    assert data["version"] == 2
    assert datetime.fromisoformat(data["end_time"]) == start + timedelta(hours=2)
    assert data["previous"]["room_id"] == room
    assert datetime.fromisoformat(data["previous"]["end_time"]) == start + timedelta(hours=1)


def test_an_occurrence_moved_to_another_room_is_in_that_rooms_feed_and_not_its_own(
    api: Api, user: dict[str, str], make_room: Callable[..., str]
) -> None:
    first, other = make_room(name="Oak"), make_room(name="Elm")
    start = future()
    _, occurrences = make_series(api, user, first, start, count=3)
    assert change(api, user, occurrences[1]["booking_id"], room_id=other)["status"] == "SUCCEEDED"
    token = api.client.post("/v1/users/me/feed-token", headers=user).json["token"]

    def feed(url: str) -> list[Any]:
        answer = api.client.get(f"{url}?token={token}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return list(read_calendar(answer.get_data(as_text=True)).vevent_list)

    [master] = feed(f"/v1/rooms/{first}/calendar.ics")
    assert [d for line in master.exdate_list for d in line.value] == [start + timedelta(weeks=1)]
    [there] = feed(f"/v1/rooms/{other}/calendar.ics")
    assert there.dtstart.value == start + timedelta(weeks=1)
    mine = feed("/v1/users/me/calendar.ics")
    [override] = [e for e in mine if hasattr(e, "recurrence_id")]
    assert override.location.value == "Elm"
    assert [e.location.value for e in mine if hasattr(e, "rrule")] == ["Oak"]
