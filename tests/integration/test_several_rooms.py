"""Several rooms at once, through the API, the broker and a real worker: every room or
none, the refusal naming its room, acceptance order in every room, groups moved and
cancelled together, and a storm over overlapping room sets that always ends."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.tables.bookings import Booking
from tests.helpers import (
    Api,
    assert_error,
    booking_body,
    future,
    overlapping_pairs,
    request_count,
    seqs,
    undecided,
)
from tests.vcalendar import read_calendar

pytestmark = pytest.mark.usefixtures("worker")


def several(rooms: list[str], start: datetime, minutes: float = 60, **extra: Any) -> dict[str, Any]:
    body = booking_body(rooms[0], start, minutes, **extra)
    del body["room_id"]
    return {**body, "room_ids": rooms}


def bookings_of(sessions: sessionmaker[Session], request_id: str) -> list[Booking]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Booking)
                .where(Booking.request_id == uuid.UUID(request_id))
                .order_by(Booking.room_id)
            )
        )


@pytest.fixture
def rooms(make_room: Callable[..., str]) -> list[str]:
    return [make_room() for _ in range(5)]


def test_two_rooms_are_booked_together_as_one_group(
    api: Api, user: dict[str, str], rooms: list[str], sessions: sessionmaker[Session]
) -> None:
    start = future()
    task = api.wait_task(user, api.book(user, several(rooms[:2], start)))

    assert task["status"] == "SUCCEEDED", task
    result = task["result"]
    assert len(result["booking_ids"]) == 2
    made = bookings_of(sessions, task["task_id"])
    assert {str(b.room_id) for b in made} == set(rooms[:2])
    assert {str(b.group_id) for b in made} == {result["group_id"]}
    assert {b.start_time for b in made} == {start}
    shown = api.client.get(f"/v1/bookings/{result['booking_ids'][1]}", headers=user).json
    assert shown["group_id"] == result["group_id"]
    assert shown["version"] == 1
    assert shown["meeting"]["join_code"]


def test_a_refusal_in_one_room_books_none_and_names_that_room(
    api: Api, user: dict[str, str], other_user: dict[str, str], rooms: list[str], sessions
) -> None:
    start = future()
    api.confirmed_booking(other_user, booking_body(rooms[1], start + timedelta(minutes=30), 30))

    task = api.wait_task(user, api.book(user, several(rooms[:3], start)))

    assert task["status"] == "REJECTED"
    assert task["error"]["code"] == "CONFLICT"
    assert task["error"]["room_id"] == rooms[1]
    assert bookings_of(sessions, task["task_id"]) == []


def test_each_rooms_own_rules_apply(
    api: Api, user: dict[str, str], make_room: Callable[..., str], rooms: list[str], sessions
) -> None:
    short = make_room(policy={"max_duration_minutes": 30})

    task = api.wait_task(user, api.book(user, several([rooms[0], short], future())))

    assert (task["status"], task["error"]["code"]) == ("REJECTED", "DURATION_OUT_OF_POLICY")
    assert task["error"]["room_id"] == short
    assert task["error"]["rule"] == {"name": "max_duration_minutes", "limit": 30}
    assert bookings_of(sessions, task["task_id"]) == []


@pytest.mark.parametrize(
    ("rooms_named", "field"),
    [(1, "room_ids"), (11, "room_ids"), ("repeated", "room_ids"), ("both", "room_id")],
)
def test_a_bad_room_list_is_a_422_and_stores_nothing(
    api: Api,
    user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
    rooms_named: int | str,
    field: str,
) -> None:
    made = [make_room() for _ in range(11)]
    body = several(made[:2], future())
    if rooms_named == "repeated":
        body["room_ids"] = [made[0], made[0]]
    elif rooms_named == "both":
        body["room_id"] = made[0]
    else:
        assert isinstance(rooms_named, int)
        body["room_ids"] = made[:rooms_named]

    error = assert_error(api.client.post("/v1/bookings", json=body, headers=user), 422)

    assert field in error["details"], error
    assert request_count(sessions) == 0


def test_an_unknown_room_among_several_is_a_404(
    api: Api, user: dict[str, str], rooms: list[str], sessions: sessionmaker[Session]
) -> None:
    body = several([rooms[0], str(uuid.uuid4())], future())
    assert_error(api.client.post("/v1/bookings", json=body, headers=user), 404)
    assert request_count(sessions) == 0


def test_the_request_accepted_first_wins_in_the_room_two_share(
    api: Api, user: dict[str, str], other_user: dict[str, str], rooms: list[str]
) -> None:
    """A (rooms 0, 1) then B (rooms 1, 2), same window: A wins room 1, B gets none."""
    start = future()
    first = api.book(user, several(rooms[:2], start))
    second = api.book(other_user, several(rooms[1:3], start))

    assert api.wait_task(user, first)["status"] == "SUCCEEDED"
    refused = api.wait_task(other_user, second)
    assert (refused["status"], refused["error"]["room_id"]) == ("REJECTED", rooms[1])


def test_moving_a_group_moves_every_booking_and_a_room_swap_moves_one(
    api: Api, user: dict[str, str], rooms: list[str], sessions: sessionmaker[Session]
) -> None:
    start = future()
    made = api.wait_task(user, api.book(user, several(rooms[:2], start)))["result"]
    first, second = made["booking_ids"]
    later = start + timedelta(hours=2)

    moved = api.client.patch(
        f"/v1/bookings/{first}",
        json={
            "start_time": later.isoformat(),
            "end_time": (later + timedelta(hours=1)).isoformat(),
        },
        headers=user,
    )
    task = api.wait_task(user, moved.json["task_id"])
    swapped = api.client.patch(f"/v1/bookings/{second}", json={"room_id": rooms[3]}, headers=user)
    swap = api.wait_task(user, swapped.json["task_id"])

    assert task["status"] == "SUCCEEDED", task
    assert sorted(task["result"]["booking_ids"]) == sorted([first, second])
    assert swap["status"] == "SUCCEEDED", swap
    assert swap["result"]["booking_ids"] == [second]
    with sessions() as session:
        now = {str(b.id): b for b in session.scalars(select(Booking))}
    assert {now[first].start_time, now[second].start_time} == {later}
    assert (str(now[first].room_id), str(now[second].room_id)) == (rooms[0], rooms[3])
    assert (now[first].version, now[second].version) == (2, 3)
    assert now[second].group_id == now[first].group_id


def test_a_group_is_cancelled_whole_and_one_booking_of_it_alone(
    api: Api, user: dict[str, str], other_user: dict[str, str], rooms: list[str], sessions
) -> None:
    start = future()
    pair = api.wait_task(user, api.book(user, several(rooms[:2], start)))["result"]
    trio = api.wait_task(user, api.book(user, several(rooms[2:5], start)))["result"]

    api.cancel(user, pair["booking_ids"][0])
    hidden = api.client.post(f"/v1/groups/{trio['group_id']}/cancel", json={}, headers=other_user)
    response = api.client.post(f"/v1/groups/{trio['group_id']}/cancel", json={}, headers=user)
    task = api.wait_task(user, response.json["task_id"])

    assert_error(hidden, 404)
    assert task["status"] == "SUCCEEDED"
    assert sorted(task["result"]["cancelled"]) == sorted(trio["booking_ids"])
    with sessions() as session:
        status = {str(b.id): b.status.value for b in session.scalars(select(Booking))}
    assert [status[b] for b in pair["booking_ids"]] == ["CANCELLED", "CONFIRMED"]
    assert {status[b] for b in trio["booking_ids"]} == {"CANCELLED"}


def test_a_several_rooms_waiter_waits_until_every_room_is_free(
    api: Api, user: dict[str, str], other_user: dict[str, str], rooms: list[str]
) -> None:
    start = future()
    in_first = api.confirmed_booking(other_user, booking_body(rooms[0], start, 60))
    in_second = api.confirmed_booking(other_user, booking_body(rooms[1], start, 60))
    waiter = api.book(user, several(rooms[:2], start, waitlist=True))
    assert api.task(user, waiter, wait=10)["status"] == "WAITLISTED"

    api.cancel(other_user, in_first)
    assert api.task(user, waiter, wait=2)["status"] == "WAITLISTED"  # room 1 is still taken
    api.cancel(other_user, in_second)

    done = api.wait_task(user, waiter)
    assert done["status"] == "SUCCEEDED", done
    assert len(done["result"]["booking_ids"]) == 2


def test_a_recurring_booking_of_two_rooms_books_both_for_each_occurrence(
    api: Api, user: dict[str, str], rooms: list[str], sessions: sessionmaker[Session]
) -> None:
    body = {**several(rooms[:2], future()), "recurrence": {"freq": "DAILY", "count": 3}}
    response = api.client.post("/v1/bookings/recurring", json=body, headers=user)
    task = api.wait_task(user, response.json["task_id"])

    assert task["status"] == "SUCCEEDED", task
    entries = task["result"]["occurrences"]
    assert [len(e["booking_ids"]) for e in entries] == [2, 2, 2]
    made = bookings_of(sessions, task["task_id"])
    assert len(made) == 6
    assert len({b.group_id for b in made}) == 3
    assert {str(b.series_id) for b in made} == {task["result"]["series_id"]}


# --- the storm --------------------------------------------------------------------------------


def test_a_storm_over_overlapping_room_sets_ends_with_the_first_accepted_winning(
    app: Flask,
    api: Api,
    user: dict[str, str],
    rooms: list[str],
    sessions: sessionmaker[Session],
) -> None:
    """40 requests at once, each naming 2-3 of 5 rooms for one of three overlapping
    windows: every one is decided, no two held bookings overlap, each group is whole or
    absent, and the outcome is what acceptance order gives: a request is booked exactly
    when no request accepted before it and booked holds one of its rooms then."""
    chooser = random.Random(17)  # a fixed storm, the same on every run
    start = future()
    windows = [(start + timedelta(minutes=30 * k), 60) for k in range(3)]
    bodies = []
    for _ in range(40):
        named = chooser.sample(rooms, chooser.choice([2, 3]))
        when, minutes = chooser.choice(windows)
        bodies.append(several(named, when, minutes))

    def book(body: dict[str, Any]) -> str:
        return Api(app.test_client()).book(user, body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        tasks = list(pool.map(book, bodies))
    docs = {t: api.wait_task(user, t, timeout=120) for t in tasks}

    assert undecided(sessions) == []
    assert overlapping_pairs(sessions) == 0
    order = seqs(sessions, tasks)
    held: list[tuple[set[str], datetime, datetime]] = []
    expected: dict[str, str] = {}
    for task_id, body in sorted(zip(tasks, bodies, strict=True), key=lambda p: order[p[0]]):
        mine = set(body["room_ids"])
        begins = datetime.fromisoformat(body["start_time"])
        ends = datetime.fromisoformat(body["end_time"])
        free = not any(mine & taken and s < ends and begins < e for taken, s, e in held)
        expected[task_id] = "SUCCEEDED" if free else "REJECTED"
        if free:
            held.append((mine, begins, ends))
    assert {t: d["status"] for t, d in docs.items()} == expected
    for task_id, doc in docs.items():
        made = bookings_of(sessions, task_id)
        if doc["status"] == "SUCCEEDED":
            assert {str(b.room_id) for b in made} == set(bodies[tasks.index(task_id)]["room_ids"])
        else:
            assert made == []
            assert doc["error"]["code"] == "CONFLICT"
    assert sum(1 for s in expected.values() if s == "SUCCEEDED") >= 2  # a storm, not a queue


def test_the_feeds_show_a_group_as_one_meeting_in_all_its_rooms(
    api: Api, user: dict[str, str], make_room: Callable[..., str]
) -> None:
    """The personal feed: one event for a several-rooms booking, located in both rooms,
    and one recurring event whose every occurrence is in both; each room's feed: that
    room's bookings of them."""
    first, second = make_room(name="North"), make_room(name="South")
    start = future()
    single = api.wait_task(user, api.book(user, several([first, second], start)))["result"]
    body = {
        **several([first, second], start + timedelta(hours=3)),
        "recurrence": {"freq": "DAILY", "count": 3},
    }
    response = api.client.post("/v1/bookings/recurring", json=body, headers=user)
    recurring = api.wait_task(user, response.json["task_id"])
    assert recurring["status"] == "SUCCEEDED", recurring
    token = api.client.post("/v1/users/me/feed-token", headers=user).json["token"]

    def feed(url: str) -> list[Any]:
        answer = api.client.get(f"{url}?token={token}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return list(read_calendar(answer.get_data(as_text=True)).vevent_list)

    mine = feed("/v1/users/me/calendar.ics")
    [meeting] = [e for e in mine if not hasattr(e, "rrule")]
    [series] = [e for e in mine if hasattr(e, "rrule")]
    assert meeting.uid.value.split("@")[0] == min(single["booking_ids"])
    assert meeting.location.value == "North; South"
    assert series.location.value == "North; South"
    assert not [e for e in mine if hasattr(e, "recurrence_id")]  # no occurrence differs
    for room in (first, second):
        shown = feed(f"/v1/rooms/{room}/calendar.ics")
        assert len([e for e in shown if hasattr(e, "rrule")]) == 1
        assert len([e for e in shown if not hasattr(e, "rrule")]) == 1


def test_a_groups_event_keeps_its_uid_when_only_its_moved_booking_is_in_the_window(
    api: Api, user: dict[str, str], make_room: Callable[..., str]
) -> None:
    """One booking of the group is cancelled, then the group moves a week on (the
    cancelled one stays behind): a window with only the moved one shows the same event,
    confirmed, in the room it is held in."""
    first, second = make_room(name="North"), make_room(name="South")
    start = future()
    made = api.wait_task(user, api.book(user, several([first, second], start)))["result"]
    # The one left behind has the lower id, the one the event's UID is made of.
    behind, mover = sorted(made["booking_ids"])
    api.cancel(user, behind)
    held_in = api.client.get(f"/v1/bookings/{mover}", headers=user).json["room_id"]
    later = start + timedelta(weeks=1)
    body = {"start_time": later.isoformat(), "end_time": (later + timedelta(hours=1)).isoformat()}
    moved = api.client.patch(f"/v1/bookings/{mover}", json=body, headers=user)
    assert api.wait_task(user, moved.json["task_id"])["status"] == "SUCCEEDED"
    token = api.client.post("/v1/users/me/feed-token", headers=user).json["token"]

    def events(**window: datetime) -> list[Any]:
        query = {"token": token, **{k: v.isoformat() for k, v in window.items()}}
        answer = api.client.get("/v1/users/me/calendar.ics", query_string=query)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return list(read_calendar(answer.get_data(as_text=True)).vevent_list)

    [whole] = events()
    [moved_only] = events(**{"from": later - timedelta(hours=1)})
    place = {first: "North", second: "South"}[held_in]
    for event in (whole, moved_only):
        assert event.uid.value.split("@")[0] == behind
        assert (event.status.value, event.location.value) == ("CONFIRMED", place)
        assert event.dtstart.value == later
