"""Booking on someone's behalf and delegates, through the API, the broker and a real worker
(docs/api.md, "Changing bookings": the paragraph "On behalf:" and the delegates rows;
"Bookings and meetings": `booked_by`, `group_id`, `version`).

Alice names Bob her delegate; Bob books for her with `organizer_id`. Carol is nobody's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from models.tables.bookings import Booking, BookingSeries
from models.tables.users import Delegate
from tests.helpers import (
    Api,
    assert_error,
    booking_body,
    count_rows,
    future,
    request_count,
    wait_until,
)
from tests.roles import start_role, stop_role
from tests.vcalendar import read_calendar
from tests.webhook_receiver import Receiver, receiving

pytestmark = pytest.mark.usefixtures("worker")

DELEGATES = "/v1/users/me/delegates"


@pytest.fixture
def third_user(api: Api) -> dict[str, str]:
    return api.register_and_login("carol@example.com", "Carol")


@pytest.fixture
def alice_named_bob(api: Api, user: dict[str, str], other_user: dict[str, str]) -> None:
    """Alice (user) lets Bob (other_user) book on her behalf."""
    response = name_delegate(api, user, api.me(other_user))
    assert response.status_code == 201, response.json


@pytest.fixture(scope="module")
def webhook_sender(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[None]:
    """`bookings webhooks`, the process that sends deliveries, for the one test here that
    needs it."""
    proc = start_role(
        ["webhooks", "--concurrency", "2"], tmp_path_factory.mktemp("webhooks") / "webhooks.log"
    )
    yield
    stop_role(proc)


def name_delegate(api: Api, who: dict[str, str], user_id: str) -> TestResponse:
    return api.client.post(DELEGATES, json={"user_id": user_id}, headers=who)


def drop_delegate(api: Api, who: dict[str, str], user_id: str) -> TestResponse:
    return api.client.delete(f"{DELEGATES}/{user_id}", headers=who)


def send(api: Api, who: dict[str, str], url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a write, then its task once decided."""
    response = api.client.post(url, json=body, headers=who)
    assert response.status_code == 202, response.json
    return api.wait_task(who, response.json["task_id"])


def booked(api: Api, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/bookings, decided SUCCEEDED: its task."""
    doc = send(api, who, "/v1/bookings", body)
    assert doc["status"] == "SUCCEEDED", doc
    return doc


def booking(api: Api, who: dict[str, str], booking_id: str) -> dict[str, Any]:
    response = api.client.get(f"/v1/bookings/{booking_id}", headers=who)
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def row(sessions: sessionmaker[Session], booking_id: str) -> Booking:
    with sessions() as session:
        found = session.get(Booking, uuid.UUID(booking_id))
        assert found is not None, booking_id
        return found


def listed(api: Api, who: dict[str, str], query: dict[str, str] | None = None) -> list[str]:
    return [b["id"] for b in api.page(who, "/v1/bookings", query)["items"]]


def several_rooms(rooms: list[str], start: datetime, **extra: Any) -> dict[str, Any]:
    body = booking_body(rooms[0], start, **extra)
    del body["room_id"]
    return {**body, "room_ids": rooms}


def recurring(room: str, start: datetime, count: int = 3, **extra: Any) -> dict[str, Any]:
    return {**booking_body(room, start, **extra), "recurrence": {"freq": "DAILY", "count": count}}


def settled(api: Api, who: dict[str, str], task_id: str) -> dict[str, Any]:
    """The task once it is no longer QUEUED or PROCESSING (WAITLISTED counts)."""

    def decided() -> dict[str, Any] | None:
        doc = api.task(who, task_id, wait=5)
        return doc if doc["status"] not in {"QUEUED", "PROCESSING"} else None

    found = wait_until(decided, 60, f"task {task_id} to be decided")
    assert found is not None
    return found


def nothing_stored(sessions: sessionmaker[Session]) -> bool:
    return request_count(sessions) == 0 and count_rows(sessions, Booking) == 0


# --- delegates ---------------------------------------------------------------------------


def test_naming_a_delegate_is_idempotent_and_lists_who_they_are(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    sessions: sessionmaker[Session],
) -> None:
    bob, carol = api.me(other_user), api.me(third_user)

    first = name_delegate(api, user, bob)
    again = name_delegate(api, user, bob)

    assert first.status_code == 201, first.json
    assert set(first.json) == {"user_id", "name", "email", "created_at"}
    assert (first.json["user_id"], first.json["name"], first.json["email"]) == (
        bob,
        "Bob",
        "bob@example.com",
    )
    assert datetime.fromisoformat(first.json["created_at"]).utcoffset() == timedelta(0)
    assert again.status_code == 201, again.json
    assert again.json == first.json  # the same delegation, not a second one
    assert count_rows(sessions, Delegate) == 1
    assert name_delegate(api, user, carol).status_code == 201

    page = api.page(user, DELEGATES)
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    assert [d["user_id"] for d in page["items"]] == [bob, carol]  # oldest first
    assert page["items"][0] == first.json
    assert api.page(user, DELEGATES, {"limit": 1, "offset": 1})["items"][0]["user_id"] == carol
    bobs = api.page(other_user, DELEGATES)  # whom Bob lets book for him: nobody
    assert (bobs["items"], bobs["total"]) == ([], 0)
    with sessions() as session:
        pairs = {tuple(r) for r in session.execute(select(Delegate.user_id, Delegate.delegate_id))}
    alice = uuid.UUID(api.me(user))
    assert pairs == {(alice, uuid.UUID(bob)), (alice, uuid.UUID(carol))}


def test_a_delegate_is_someone_else_who_exists_and_only_a_delegate_is_removed(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    sessions: sessionmaker[Session],
) -> None:
    me, bob, nobody = api.me(user), api.me(other_user), str(uuid.uuid4())

    error = assert_error(name_delegate(api, user, me), 422, "VALIDATION_ERROR")
    assert "user_id" in error["details"], error
    assert_error(name_delegate(api, user, nobody), 404)
    assert (
        "user_id" in assert_error(api.client.post(DELEGATES, json={}, headers=user), 422)["details"]
    )
    assert count_rows(sessions, Delegate) == 0

    assert_error(drop_delegate(api, user, bob), 404)  # a user, but not a delegate
    assert_error(drop_delegate(api, user, nobody), 404)
    assert name_delegate(api, user, bob).status_code == 201
    assert_error(drop_delegate(api, other_user, api.me(user)), 404)  # not the other way round

    gone = drop_delegate(api, user, bob)

    assert gone.status_code == 204
    assert gone.get_data() == b""
    assert api.page(user, DELEGATES)["total"] == 0
    assert count_rows(sessions, Delegate) == 0
    assert_error(drop_delegate(api, user, bob), 404)


# --- booking for someone ------------------------------------------------------------------


@pytest.mark.usefixtures("alice_named_bob")
def test_a_delegate_books_for_the_organizer_who_owns_the_booking(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    alice, bob = api.me(user), api.me(other_user)
    body = booking_body(room, future(), title="Alice's review", organizer_id=alice)

    task_id = api.book(other_user, body)
    doc = api.wait_task(other_user, task_id)

    assert doc["status"] == "SUCCEEDED", doc
    booking_id = doc["result"]["booking_id"]
    seen = booking(api, user, booking_id)
    assert (seen["organizer_id"], seen["booked_by"], seen["group_id"]) == (alice, bob, None)
    assert (seen["status"], seen["version"], seen["title"]) == ("CONFIRMED", 1, "Alice's review")
    assert seen["meeting"]["state"] == "SCHEDULED"
    assert booking(api, other_user, booking_id) == seen  # the sender reads it too
    assert booking(api, admin, booking_id) == seen
    assert_error(api.client.get(f"/v1/bookings/{booking_id}", headers=third_user), 404)
    assert listed(api, user) == [booking_id]
    assert booking_id not in listed(api, third_user)
    assert listed(api, admin, {"organizer_id": alice}) == [booking_id]
    assert listed(api, admin, {"organizer_id": bob}) == []
    # The task is the sender's: the organizer and anyone else get 404 for it.
    assert api.task(admin, task_id)["status"] == "SUCCEEDED"
    assert_error(api.client.get(f"/v1/tasks/{task_id}", headers=user), 404)
    assert_error(api.client.get(f"/v1/tasks/{task_id}", headers=third_user), 404)
    stored = row(sessions, booking_id)
    assert (stored.organizer_id, stored.booked_by) == (uuid.UUID(alice), uuid.UUID(bob))
    assert (stored.room_id, stored.version) == (uuid.UUID(room), 1)


@pytest.mark.usefixtures("alice_named_bob")
def test_the_organizers_calendar_feed_carries_a_booking_made_for_them(
    api: Api, user: dict[str, str], other_user: dict[str, str], room: str
) -> None:
    alice = api.me(user)
    for_alice = booked(
        api, other_user, booking_body(room, future(), title="For Alice", organizer_id=alice)
    )["result"]["booking_id"]
    bobs_own = booked(api, other_user, booking_body(room, future(3), title="Bob's own"))["result"][
        "booking_id"
    ]
    created = api.client.post("/v1/users/me/feed-token", headers=user)
    assert created.status_code == 201, created.json

    feed = api.client.get(
        "/v1/users/me/calendar.ics", query_string={"token": created.json["token"]}
    )

    assert feed.status_code == 200, feed.get_data(as_text=True)
    assert feed.mimetype == "text/calendar"
    calendar = read_calendar(feed.get_data(as_text=True))
    events = {e.uid.value: e for e in calendar.contents.get("vevent", [])}
    assert set(events) == {f"{for_alice}@bookings"}, set(events)
    assert events[f"{for_alice}@bookings"].summary.value == "For Alice"
    assert f"{bobs_own}@bookings" not in events


def test_organizer_id_naming_the_caller_is_an_ordinary_booking(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    """No delegate is needed to name yourself, and nobody is recorded as sender."""
    for who, hours in ((user, 0), (admin, 3)):
        me = api.me(who)
        doc = booked(api, who, booking_body(room, future(hours), organizer_id=me))
        booking_id = doc["result"]["booking_id"]
        seen = booking(api, who, booking_id)
        assert (seen["organizer_id"], seen["booked_by"]) == (me, None)
        assert row(sessions, booking_id).booked_by is None
        assert listed(api, who, {"room_id": room, "organizer_id": me}) == [booking_id]


def test_who_is_no_delegate_gets_403_for_every_kind_of_booking_and_nothing_is_stored(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    alice, bob = api.me(user), api.me(other_user)
    rooms = [make_room(), make_room()]
    assert name_delegate(api, user, bob).status_code == 201  # Bob may book for Alice
    start = future()
    for_alice = {"organizer_id": alice}
    attempts = [
        # Carol is nobody's delegate, in every form a booking may take.
        (third_user, "/v1/bookings", booking_body(rooms[0], start, **for_alice)),
        (third_user, "/v1/bookings", several_rooms(rooms, start, **for_alice)),
        (third_user, "/v1/bookings/recurring", recurring(rooms[0], start, **for_alice)),
        (
            third_user,
            "/v1/bookings/batch",
            {"items": [booking_body(rooms[0], start), booking_body(rooms[1], start, **for_alice)]},
        ),
        (
            third_user,
            "/v1/bookings/batch",
            {"items": [recurring(rooms[1], start, **for_alice)]},
        ),
        # A delegation goes one way: Alice may not book for Bob.
        (user, "/v1/bookings", booking_body(rooms[0], start, organizer_id=bob)),
        # A user naming nobody learns nothing: refused like any other.
        (other_user, "/v1/bookings", booking_body(rooms[0], start, organizer_id=str(uuid.uuid4()))),
    ]

    for who, url, body in attempts:
        error = assert_error(api.client.post(url, json=body, headers=who), 403, "FORBIDDEN")
        assert nothing_stored(sessions), (url, body, error)

    assert count_rows(sessions, BookingSeries) == 0
    assert listed(api, user) == []


def test_an_admin_books_for_anyone_and_an_unknown_organizer_is_a_422(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    room: str,
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    alice, admin_id = api.me(user), api.me(admin)
    assert api.page(user, DELEGATES)["total"] == 0  # Alice named nobody
    nobody = {"organizer_id": str(uuid.uuid4())}
    start = future()
    for url, body in (
        ("/v1/bookings", booking_body(room, start, **nobody)),
        ("/v1/bookings", several_rooms([room, make_room()], start, **nobody)),
        ("/v1/bookings/recurring", recurring(room, start, **nobody)),
        (
            "/v1/bookings/batch",
            {"items": [booking_body(room, start), recurring(room, start, **nobody)]},
        ),
    ):
        unknown = api.client.post(url, json=body, headers=admin)
        error = assert_error(unknown, 422, "VALIDATION_ERROR")
        assert "organizer_id" in str(error["details"]), (url, error)
        assert nothing_stored(sessions), url

    doc = booked(api, admin, booking_body(room, future(), title="Set up", organizer_id=alice))

    booking_id = doc["result"]["booking_id"]
    seen = booking(api, user, booking_id)
    assert (seen["organizer_id"], seen["booked_by"], seen["title"]) == (alice, admin_id, "Set up")
    assert listed(api, user) == [booking_id]
    assert_error(api.client.get(f"/v1/tasks/{doc['task_id']}", headers=user), 404)
    stored = row(sessions, booking_id)
    assert (stored.organizer_id, stored.booked_by) == (uuid.UUID(alice), uuid.UUID(admin_id))


@pytest.mark.usefixtures("alice_named_bob")
def test_a_series_booked_for_someone_is_theirs_in_every_occurrence(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    alice, bob = api.me(user), api.me(other_user)

    doc = send(
        api, other_user, "/v1/bookings/recurring", recurring(room, future(), 3, organizer_id=alice)
    )

    assert doc["status"] == "SUCCEEDED", doc
    ids = [o["booking_id"] for o in doc["result"]["occurrences"]]
    assert len(ids) == 3
    for booking_id in ids:
        seen = booking(api, user, booking_id)
        assert (seen["organizer_id"], seen["booked_by"], seen["status"]) == (
            alice,
            bob,
            "CONFIRMED",
        )
        assert seen["series_id"] == doc["result"]["series_id"]
    assert listed(api, user) == ids  # by start
    assert listed(api, third_user) == []
    with sessions() as session:
        series = session.get(BookingSeries, uuid.UUID(doc["result"]["series_id"]))
        assert series is not None and series.organizer_id == uuid.UUID(alice)
        owners = {
            tuple(r)
            for r in session.execute(
                select(Booking.organizer_id, Booking.booked_by).where(
                    Booking.series_id == series.id
                )
            )
        }
    assert owners == {(uuid.UUID(alice), uuid.UUID(bob))}

    # The series is Alice's and Bob's to change and cancel; Carol gets 404.
    series_url = f"/v1/series/{doc['result']['series_id']}"
    before = request_count(sessions)
    assert_error(api.client.patch(series_url, json={"title": "Carol's"}, headers=third_user), 404)
    assert_error(api.client.post(f"{series_url}/cancel", json={}, headers=third_user), 404)
    assert request_count(sessions) == before
    for who, title in ((other_user, "Renamed by Bob"), (user, "Renamed by Alice")):
        response = api.client.patch(series_url, json={"title": title}, headers=who)
        assert response.status_code == 202, response.json
        changed = api.wait_task(who, response.json["task_id"])
        assert (changed["kind"], changed["status"]) == ("series_change", "SUCCEEDED"), changed
        assert {booking(api, user, i)["title"] for i in ids} == {title}
    cancelled = api.client.post(f"{series_url}/cancel", json={}, headers=other_user)
    assert cancelled.status_code == 202, cancelled.json
    assert api.wait_task(other_user, cancelled.json["task_id"])["status"] == "SUCCEEDED"
    assert {booking(api, user, i)["status"] for i in ids} == {"CANCELLED"}


@pytest.mark.usefixtures("alice_named_bob")
def test_each_item_of_a_batch_books_for_whom_it_names(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    alice, bob = api.me(user), api.me(other_user)
    rooms = [make_room(), make_room()]
    start = future()
    items = [
        booking_body(rooms[0], start, title="For Alice", organizer_id=alice),
        booking_body(rooms[1], start, title="Bob's own"),
        recurring(
            rooms[1], start + timedelta(hours=2), 2, title="Alice's series", organizer_id=alice
        ),
    ]

    doc = send(api, other_user, "/v1/bookings/batch", {"items": items})

    assert doc["status"] == "SUCCEEDED", doc
    assert doc["progress"] == {"total": 3, "done": 3, "confirmed": 3, "rejected": 0}
    tasks = [api.task(other_user, item["task_id"]) for item in doc["result"]["items"]]
    assert [t["status"] for t in tasks] == ["SUCCEEDED"] * 3
    first = booking(api, user, tasks[0]["result"]["booking_id"])
    assert (first["organizer_id"], first["booked_by"], first["title"]) == (alice, bob, "For Alice")
    own = booking(api, other_user, tasks[1]["result"]["booking_id"])
    assert (own["organizer_id"], own["booked_by"]) == (bob, None)
    series_ids = [o["booking_id"] for o in tasks[2]["result"]["occurrences"]]
    for booking_id in series_ids:
        seen = booking(api, user, booking_id)
        assert (seen["organizer_id"], seen["booked_by"]) == (alice, bob)
    assert sorted(listed(api, user)) == sorted([first["id"], *series_ids])
    assert_error(api.client.get(f"/v1/bookings/{own['id']}", headers=user), 404)
    assert count_rows(sessions, Booking, Booking.organizer_id == uuid.UUID(alice)) == 3


@pytest.mark.usefixtures("alice_named_bob")
def test_several_rooms_booked_for_someone_are_one_group_they_own(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    alice, bob = api.me(user), api.me(other_user)
    rooms = [make_room(), make_room()]

    doc = booked(api, other_user, several_rooms(rooms, future(), organizer_id=alice))

    ids, group = doc["result"]["booking_ids"], doc["result"]["group_id"]
    assert len(ids) == 2
    seen = [booking(api, user, booking_id) for booking_id in ids]
    assert sorted(b["room_id"] for b in seen) == sorted(rooms)
    assert {(b["organizer_id"], b["booked_by"], b["group_id"]) for b in seen} == {
        (alice, bob, group)
    }
    assert sorted(listed(api, user)) == sorted(ids)
    for booking_id in ids:
        assert_error(api.client.get(f"/v1/bookings/{booking_id}", headers=third_user), 404)
    stored = [row(sessions, booking_id) for booking_id in ids]
    assert {(b.organizer_id, b.booked_by, str(b.group_id)) for b in stored} == {
        (uuid.UUID(alice), uuid.UUID(bob), group)
    }
    # The several-rooms form of a series: each occurrence one group, all of them Alice's.
    series = send(
        api,
        other_user,
        "/v1/bookings/recurring",
        {
            **several_rooms(rooms, future(3), organizer_id=alice),
            "recurrence": {"freq": "DAILY", "count": 2},
        },
    )
    assert series["status"] == "SUCCEEDED", series
    occurrences = series["result"]["occurrences"]
    assert len(occurrences) == 2
    for occurrence in occurrences:
        members = [booking(api, user, i) for i in occurrence["booking_ids"]]
        assert sorted(b["room_id"] for b in members) == sorted(rooms)
        assert {(b["organizer_id"], b["booked_by"], b["group_id"]) for b in members} == {
            (alice, bob, occurrence["group_id"])
        }
    assert len(listed(api, user)) == 2 + 2 * 2
    # The organizer cancels the whole group; Carol may not.
    group_url = f"/v1/groups/{group}/cancel"
    assert_error(api.client.post(group_url, json={}, headers=third_user), 404)
    cancel = api.client.post(group_url, json={}, headers=user)
    assert cancel.status_code == 202, cancel.json
    assert api.wait_task(user, cancel.json["task_id"])["status"] == "SUCCEEDED"
    assert {booking(api, other_user, i)["status"] for i in ids} == {"CANCELLED"}


@pytest.mark.usefixtures("alice_named_bob")
def test_the_organizer_and_the_sender_change_and_cancel_it_and_a_third_user_gets_404(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    alice = api.me(user)
    by_bob = booked(api, other_user, booking_body(room, future(), organizer_id=alice))
    by_bob_too = booked(api, other_user, booking_body(room, future(3), organizer_id=alice))
    booking_id, other_id = by_bob["result"]["booking_id"], by_bob_too["result"]["booking_id"]
    url = f"/v1/bookings/{booking_id}"

    # Carol: nothing to see, change or cancel, and nothing is queued for her.
    before = request_count(sessions)
    assert_error(api.client.get(url, headers=third_user), 404)
    assert_error(api.client.patch(url, json={"title": "Mine now"}, headers=third_user), 404)
    assert_error(api.client.post(f"{url}/cancel", json={}, headers=third_user), 404)
    assert request_count(sessions) == before

    by_sender = api.client.patch(url, json={"title": "Renamed by Bob"}, headers=other_user)
    assert by_sender.status_code == 202, by_sender.json
    changed = api.wait_task(other_user, by_sender.json["task_id"])
    assert (changed["status"], changed["kind"]) == ("SUCCEEDED", "change")
    seen = booking(api, user, booking_id)
    assert (seen["title"], seen["version"], seen["organizer_id"]) == ("Renamed by Bob", 2, alice)

    by_organizer = api.client.patch(url, json={"title": "Renamed by Alice"}, headers=user)
    assert by_organizer.status_code == 202, by_organizer.json
    assert api.wait_task(user, by_organizer.json["task_id"])["status"] == "SUCCEEDED"
    seen = booking(api, other_user, booking_id)
    assert (seen["title"], seen["version"]) == ("Renamed by Alice", 3)

    api.cancel(other_user, booking_id)  # the sender cancels one
    api.cancel(user, other_id)  # the organizer the other

    for cancelled in (booking_id, other_id):
        seen = booking(api, user, cancelled)
        assert (seen["status"], seen["organizer_id"]) == ("CANCELLED", alice)
        assert row(sessions, cancelled).status.value == "CANCELLED"
    assert row(sessions, booking_id).title == "Renamed by Alice"


def test_quotas_count_the_organizer_not_the_sender(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    alice_named_bob: None,
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    alice = api.me(user)
    room = make_room(policy={"max_minutes_per_user_per_day": 60})
    day = future(24).replace(hour=0, minute=0)  # a whole UTC day (the room's zone) ahead

    def at(hour: int) -> datetime:
        return day + timedelta(hours=hour)

    # Bob uses his whole hour first: what he books for Alice is not his.
    bobs = booked(api, other_user, booking_body(room, at(8), 60))
    dry_run = api.client.post(
        "/v1/bookings/check",
        json=booking_body(room, at(10), 30, organizer_id=alice),
        headers=other_user,
    )
    assert dry_run.status_code == 200, dry_run.json
    assert (dry_run.json["ok"], dry_run.json["refusals"]) == (True, [])
    for_alice = booked(api, other_user, booking_body(room, at(10), 30, organizer_id=alice))
    booking_id = for_alice["result"]["booking_id"]
    # Bob makes it Alice's whole hour: her quota, not his, is asked.
    response = api.client.patch(
        f"/v1/bookings/{booking_id}", json={"end_time": at(11).isoformat()}, headers=other_user
    )
    assert response.status_code == 202, response.json
    extended = api.wait_task(other_user, response.json["task_id"])
    assert extended["status"] == "SUCCEEDED", extended
    assert datetime.fromisoformat(booking(api, user, booking_id)["end_time"]) == at(11)

    # Now Alice's hour is full, whoever asks for more of it.
    over = booking_body(room, at(13), 30, organizer_id=alice)
    dry_run = api.client.post("/v1/bookings/check", json=over, headers=other_user)
    assert dry_run.json["ok"] is False, dry_run.json
    assert [r["code"] for r in dry_run.json["refusals"]] == ["QUOTA_EXCEEDED"]
    over_for_alice = send(api, other_user, "/v1/bookings", over)
    over_by_alice = send(api, user, "/v1/bookings", booking_body(room, at(15), 30))

    for refused in (over_for_alice, over_by_alice):
        assert refused["status"] == "REJECTED", refused
        assert refused["error"]["code"] == "QUOTA_EXCEEDED"
        assert refused["error"]["rule"] == {"name": "max_minutes_per_user_per_day", "limit": 60}
    minutes = {
        (b.organizer_id, b.booked_by): (b.end_time - b.start_time) // timedelta(minutes=1)
        for b in (row(sessions, booking_id), row(sessions, bobs["result"]["booking_id"]))
    }
    assert minutes == {
        (uuid.UUID(alice), uuid.UUID(api.me(other_user))): 60,
        (uuid.UUID(api.me(other_user)), None): 60,
    }
    assert count_rows(sessions, Booking, Booking.room_id == uuid.UUID(room)) == 2


def test_removing_a_delegate_stops_new_bookings_and_keeps_the_made_ones(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    alice_named_bob: None,
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    alice, bob = api.me(user), api.me(other_user)
    made = booked(api, other_user, booking_body(room, future(), organizer_id=alice))
    booking_id = made["result"]["booking_id"]

    assert drop_delegate(api, user, bob).status_code == 204

    before = request_count(sessions)
    for url, body in (
        ("/v1/bookings", booking_body(room, future(3), organizer_id=alice)),
        ("/v1/bookings/recurring", recurring(room, future(3), organizer_id=alice)),
    ):
        assert_error(api.client.post(url, json=body, headers=other_user), 403, "FORBIDDEN")
    assert request_count(sessions) == before
    seen = booking(api, user, booking_id)
    assert (seen["status"], seen["organizer_id"], seen["booked_by"]) == ("CONFIRMED", alice, bob)
    assert listed(api, user) == [booking_id]
    assert count_rows(sessions, Booking) == 1
    # Named again, Bob books for her again.
    assert name_delegate(api, user, bob).status_code == 201
    again = booked(api, other_user, booking_body(room, future(3), organizer_id=alice))
    assert booking(api, user, again["result"]["booking_id"])["booked_by"] == bob


@pytest.mark.usefixtures("alice_named_bob")
def test_a_waitlisted_booking_for_someone_is_theirs_when_it_is_promoted(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    alice, bob = api.me(user), api.me(other_user)
    start = future()
    blocker = api.confirmed_booking(third_user, booking_body(room, start, 60))
    task_id = api.book(other_user, booking_body(room, start, 60, organizer_id=alice, waitlist=True))
    waiting = settled(api, other_user, task_id)
    assert waiting["status"] == "WAITLISTED", waiting

    api.cancel(third_user, blocker)

    promoted = api.wait_task(other_user, task_id)
    assert promoted["status"] == "SUCCEEDED", promoted
    booking_id = promoted["result"]["booking_id"]
    seen = booking(api, user, booking_id)
    assert (seen["organizer_id"], seen["booked_by"], seen["status"]) == (alice, bob, "CONFIRMED")
    assert listed(api, user) == [booking_id]
    stored = row(sessions, booking_id)
    assert (stored.organizer_id, stored.booked_by) == (uuid.UUID(alice), uuid.UUID(bob))


@pytest.mark.usefixtures("alice_named_bob", "webhook_sender")
def test_the_organizers_webhook_gets_the_events_of_a_booking_made_for_them(
    api: Api, user: dict[str, str], other_user: dict[str, str], room: str
) -> None:
    alice, bob = api.me(user), api.me(other_user)
    with receiving(Receiver()) as alices, receiving(Receiver()) as bobs:
        booking_events = ["booking.confirmed", "booking.changed", "booking.cancelled"]
        for who, receiver, events in (
            (user, alices, booking_events),
            (other_user, bobs, ["task.finished"]),
        ):
            response = api.client.post(
                "/v1/webhooks", json={"url": receiver.url, "events": events}, headers=who
            )
            assert response.status_code == 201, response.json

        doc = booked(api, other_user, booking_body(room, future(), organizer_id=alice))
        booking_id = doc["result"]["booking_id"]
        api.cancel(other_user, booking_id)

        wait_until(
            lambda: (
                {"booking.confirmed", "booking.cancelled"} <= {c.json["type"] for c in alices.calls}
            ),
            30,
            lambda: f"Alice's booking events: {[c.json['type'] for c in alices.calls]}",
        )
        wait_until(lambda: len(bobs.calls) >= 2, 30, "Bob's two task events")

    confirmed = alices.of_type("booking.confirmed")[0].json["data"]
    assert (confirmed["id"], confirmed["organizer_id"], confirmed["booked_by"]) == (
        booking_id,
        alice,
        bob,
    )
    cancelled = alices.of_type("booking.cancelled")[0].json["data"]
    assert (cancelled["id"], cancelled["status"]) == (booking_id, "CANCELLED")
    assert not alices.of_type("task.finished")
    # The tasks are Bob's: his booking task and his cancel task.
    assert doc["task_id"] in {c.json["data"]["task_id"] for c in bobs.of_type("task.finished")}
