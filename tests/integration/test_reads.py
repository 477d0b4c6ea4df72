"""Reading tasks, bookings, room calendars and the audit trail: who may see what."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import BookingStatus
from models.tables.audit import AuditEvent
from models.tables.bookings import Booking
from tests.helpers import TERMINAL, Api, assert_error, booking_body, future, request_count

pytestmark = pytest.mark.usefixtures("worker")


# --- tasks ---------------------------------------------------------------------------------


def test_someone_elses_task_is_404_but_the_admin_reads_it(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    admin: dict[str, str],
    room: str,
) -> None:
    """Only the submitter and admins see a task; to anyone else it does not exist."""
    task_id = api.book(user, booking_body(room, future()))
    own = api.wait_task(user, task_id)

    assert_error(api.client.get(f"/v1/tasks/{task_id}", headers=other_user), 404)
    seen = api.client.get(f"/v1/tasks/{task_id}", headers=admin)
    assert seen.status_code == 200
    assert seen.json["task_id"] == task_id
    assert seen.json["status"] == own["status"] == "SUCCEEDED"
    assert seen.json["result"]["booking_id"] == own["result"]["booking_id"]


def test_an_unknown_task_is_404(api: Api, user: dict[str, str], admin: dict[str, str]) -> None:
    """A task id nobody created is 404, for users and admins alike."""
    for headers in (user, admin):
        assert_error(api.client.get(f"/v1/tasks/{uuid.uuid4()}", headers=headers), 404)


def test_wait_holds_the_answer_until_the_task_is_finished(
    api: Api, user: dict[str, str], room: str
) -> None:
    """?wait=5 right after submitting answers a finished task, with the contract's fields."""
    task_id = api.book(user, booking_body(room, future()))

    response = api.client.get(f"/v1/tasks/{task_id}", query_string={"wait": 5}, headers=user)

    assert response.status_code == 200
    doc = response.json
    assert doc["status"] in TERMINAL
    assert doc["status"] == "SUCCEEDED", doc
    assert doc["task_id"] == task_id
    assert doc["kind"] == "booking"
    assert {"created_at", "updated_at", "result", "error", "progress"} <= set(doc)
    assert doc["progress"]["done"] == 1


@pytest.mark.parametrize("wait", ["31", "-1", "soon"])
def test_wait_outside_0_to_30_is_422(api: Api, user: dict[str, str], room: str, wait: str) -> None:
    """wait is 0-30 seconds; anything else is 422 naming it."""
    task_id = api.book(user, booking_body(room, future()))

    response = api.client.get(f"/v1/tasks/{task_id}", query_string={"wait": wait}, headers=user)

    assert "wait" in assert_error(response, 422)["details"]
    api.wait_task(user, task_id)


# --- bookings lists and reads --------------------------------------------------------------


@pytest.fixture
def three_bookings(
    api: Api, user: dict[str, str], other_user: dict[str, str], room: str
) -> dict[str, str]:
    """Alice at +0 h and +6 h, Bob at +3 h, one hour each: label -> booking id."""
    return {
        "alice_early": api.confirmed_booking(user, booking_body(room, future(0))),
        "bob_middle": api.confirmed_booking(other_user, booking_body(room, future(3))),
        "alice_late": api.confirmed_booking(user, booking_body(room, future(6))),
    }


def test_a_user_lists_only_their_own_bookings(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    three_bookings: dict[str, str],
) -> None:
    """GET /v1/bookings shows the caller's bookings only, by start; organizer_id is ignored."""
    alice = api.page(user, "/v1/bookings")

    assert alice["total"] == 2
    assert [b["id"] for b in alice["items"]] == [
        three_bookings["alice_early"],
        three_bookings["alice_late"],
    ]
    assert {b["organizer_id"] for b in alice["items"]} == {api.me(user)}
    snooping = api.page(user, "/v1/bookings", {"organizer_id": api.me(other_user)})
    assert {b["organizer_id"] for b in snooping["items"]} == {api.me(user)}
    bob = api.page(other_user, "/v1/bookings")
    assert [b["id"] for b in bob["items"]] == [three_bookings["bob_middle"]]


def test_an_admin_lists_all_bookings_and_filters_by_organizer(
    api: Api,
    admin: dict[str, str],
    other_user: dict[str, str],
    three_bookings: dict[str, str],
) -> None:
    """Admins see every booking, and organizer_id narrows it to one person's."""
    everything = api.page(admin, "/v1/bookings")
    assert everything["total"] == 3
    assert {b["id"] for b in everything["items"]} == set(three_bookings.values())

    bobs = api.page(admin, "/v1/bookings", {"organizer_id": api.me(other_user)})
    assert bobs["total"] == 1
    assert [b["id"] for b in bobs["items"]] == [three_bookings["bob_middle"]]


def test_the_from_to_window_keeps_overlapping_bookings(
    api: Api, admin: dict[str, str], three_bookings: dict[str, str]
) -> None:
    """from/to keep bookings overlapping the window, and only those."""
    middle_only = {"from": future(2).isoformat(), "to": future(5).isoformat()}
    assert [b["id"] for b in api.page(admin, "/v1/bookings", middle_only)["items"]] == [
        three_bookings["bob_middle"]
    ]
    # A window starting inside the first booking still catches it.
    overlap = {"from": future(0, minutes=30).isoformat(), "to": future(1).isoformat()}
    assert [b["id"] for b in api.page(admin, "/v1/bookings", overlap)["items"]] == [
        three_bookings["alice_early"]
    ]
    after_all = {"from": future(7).isoformat()}
    assert api.page(admin, "/v1/bookings", after_all)["total"] == 0


def test_the_status_filter(api: Api, user: dict[str, str], three_bookings: dict[str, str]) -> None:
    """status=CANCELLED / CONFIRMED split the caller's bookings."""
    api.cancel(user, three_bookings["alice_early"])

    cancelled = api.page(user, "/v1/bookings", {"status": "CANCELLED"})
    confirmed = api.page(user, "/v1/bookings", {"status": "CONFIRMED"})

    assert [b["id"] for b in cancelled["items"]] == [three_bookings["alice_early"]]
    assert cancelled["items"][0]["status"] == "CANCELLED"
    assert [b["id"] for b in confirmed["items"]] == [three_bookings["alice_late"]]
    assert_error(api.client.get("/v1/bookings?status=MAYBE", headers=user), 422)


def test_bookings_answer_times_in_utc(api: Api, user: dict[str, str], room: str) -> None:
    """A booking made with a +05:30 offset reads back as the same instant, in UTC."""
    start = future().astimezone(timezone(timedelta(hours=5, minutes=30)))
    booking_id = api.confirmed_booking(user, booking_body(room, start))

    booking = api.client.get(f"/v1/bookings/{booking_id}", headers=user).json

    for name, expected in (("start_time", start), ("end_time", start + timedelta(hours=1))):
        value = booking[name]
        assert value.endswith(("Z", "+00:00")), value
        assert datetime.fromisoformat(value.replace("Z", "+00:00")) == expected


@pytest.mark.parametrize(
    "query",
    [{"limit": 0}, {"limit": 201}, {"from": "2027-03-01T09:00:00"}],
    ids=["limit-0", "limit-201", "naive-from"],
)
def test_bad_booking_list_parameters_are_422(
    api: Api, user: dict[str, str], query: dict[str, Any]
) -> None:
    """The list bounds and the offset rule hold for GET /v1/bookings too."""
    response = api.client.get("/v1/bookings", query_string=query, headers=user)

    assert set(query) <= set(assert_error(response, 422)["details"])


def test_someone_elses_booking_is_404_but_the_admin_reads_it(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    admin: dict[str, str],
    room: str,
) -> None:
    """GET /v1/bookings/{id}: organizer and admin see it; anyone else gets 404."""
    booking_id = api.confirmed_booking(user, booking_body(room, future(), title="Secret plan"))

    assert_error(api.client.get(f"/v1/bookings/{booking_id}", headers=other_user), 404)
    seen = api.client.get(f"/v1/bookings/{booking_id}", headers=admin)
    assert seen.status_code == 200
    assert seen.json["id"] == booking_id
    assert seen.json["title"] == "Secret plan"
    assert seen.json["organizer_id"] == api.me(user)
    assert_error(api.client.get(f"/v1/bookings/{uuid.uuid4()}", headers=admin), 404)


def test_cancelling_someone_elses_booking_is_404_and_queues_nothing(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    """A stranger's cancel is 404, stores no request, and leaves the booking confirmed."""
    booking_id = api.confirmed_booking(user, booking_body(room, future()))
    rows_before = request_count(sessions)

    response = api.client.post(
        f"/v1/bookings/{booking_id}/cancel", json={"reason": "mine now"}, headers=other_user
    )

    assert_error(response, 404)
    assert request_count(sessions) == rows_before
    with sessions() as session:
        booking = session.get(Booking, uuid.UUID(booking_id))
        assert booking is not None
        assert booking.status == BookingStatus.CONFIRMED
        assert booking.cancel_reason is None


# --- a room's calendar ---------------------------------------------------------------------


def test_room_bookings_hide_others_details_from_non_admins(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    admin: dict[str, str],
    room: str,
) -> None:
    """Everyone sees the room's confirmed bookings by start; others' details are hidden."""
    details = {
        "description": "quarterly numbers",
        "attendees": ["x@example.com"],
        "external_meeting_url": "https://meet.example.com/q",
    }
    own_late = api.confirmed_booking(
        user, booking_body(room, future(5), title="Alice's review", **details)
    )
    bobs = api.confirmed_booking(
        other_user, booking_body(room, future(1), title="Bob's secret", **details)
    )
    dropped = api.confirmed_booking(user, booking_body(room, future(3), title="Dropped"))
    api.cancel(user, dropped)

    page = api.page(user, f"/v1/rooms/{room}/bookings")

    assert page["total"] == 2
    assert [b["id"] for b in page["items"]] == [bobs, own_late]
    other, own = page["items"]
    assert (other["title"], other["description"], other["meeting"]) == (None, None, None)
    assert other["attendees"] == []
    assert other["organizer_id"] is None  # who books what is not every user's to read
    assert other["start_time"] and other["end_time"]
    assert other["status"] == "CONFIRMED"
    assert own["title"] == "Alice's review"
    assert own["organizer_id"] is not None
    assert own["description"] == "quarterly numbers"
    assert own["attendees"] == ["x@example.com"]
    assert own["meeting"]["external_meeting_url"] == "https://meet.example.com/q"

    as_admin = api.page(admin, f"/v1/rooms/{room}/bookings")
    assert [b["title"] for b in as_admin["items"]] == ["Bob's secret", "Alice's review"]
    assert all(b["meeting"] is not None for b in as_admin["items"])
    assert all(b["organizer_id"] is not None for b in as_admin["items"])


def test_room_bookings_window_and_unknown_room(
    api: Api, user: dict[str, str], room: str, make_room: Callable[..., str]
) -> None:
    """from/to narrow the calendar; another room's bookings never show; unknown room is 404."""
    early = api.confirmed_booking(user, booking_body(room, future(0)))
    api.confirmed_booking(user, booking_body(room, future(4)))
    elsewhere = make_room()
    api.confirmed_booking(user, booking_body(elsewhere, future(0)))

    window = {"from": future(-1).isoformat(), "to": future(2).isoformat()}
    page = api.page(user, f"/v1/rooms/{room}/bookings", window)

    assert [b["id"] for b in page["items"]] == [early]
    assert {b["room_id"] for b in api.page(user, f"/v1/rooms/{room}/bookings")["items"]} == {room}
    assert_error(api.client.get(f"/v1/rooms/{uuid.uuid4()}/bookings", headers=user), 404)


# --- audit ---------------------------------------------------------------------------------


def test_audit_is_admin_only(api: Api, user: dict[str, str], room: str) -> None:
    """A USER asking for the audit trail gets 403."""
    api.confirmed_booking(user, booking_body(room, future()))

    assert_error(api.client.get("/v1/audit", headers=user), 403)


def test_audit_filters_by_booking_and_room_and_paginates(
    api: Api,
    user: dict[str, str],
    admin: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    """booking_id and room_id narrow the trail to matching events; limit/offset page it."""
    room_a, room_b = make_room(), make_room()
    kept = api.confirmed_booking(user, booking_body(room_a, future(0)))
    dropped = api.confirmed_booking(user, booking_body(room_a, future(2)))
    api.cancel(user, dropped)
    other = api.confirmed_booking(user, booking_body(room_b, future(0)))

    by_booking = api.page(admin, "/v1/audit", {"booking_id": dropped})
    assert sorted(e["action"] for e in by_booking["items"]) == [
        "booking.cancelled",
        "booking.created",
    ]
    assert {e["booking_id"] for e in by_booking["items"]} == {dropped}
    first = by_booking["items"][0]
    assert set(first) == {"id", "at", "actor_id", "action", "booking_id", "room_id", "data"}
    assert first["actor_id"] == api.me(user)

    by_room = api.page(admin, "/v1/audit", {"room_id": room_a})
    assert by_room["total"] == 3
    assert {e["booking_id"] for e in by_room["items"]} == {kept, dropped}
    assert {e["room_id"] for e in by_room["items"]} == {room_a}
    assert [
        e["booking_id"] for e in api.page(admin, "/v1/audit", {"room_id": room_b})["items"]
    ] == [other]

    with sessions() as session:
        total = session.scalar(select(func.count()).select_from(AuditEvent))
    everything = api.page(admin, "/v1/audit")
    assert everything["total"] == total == 4
    ids: list[str] = []
    for offset in range(0, 4, 3):
        page = api.page(admin, "/v1/audit", {"limit": 3, "offset": offset})
        assert (page["total"], page["limit"], page["offset"]) == (4, 3, offset)
        ids += [e["id"] for e in page["items"]]
    assert sorted(ids) == sorted(e["id"] for e in everything["items"])
    assert len(set(ids)) == 4
    assert_error(api.client.get("/v1/audit?limit=0", headers=admin), 422)


def test_audit_time_window(
    api: Api, user: dict[str, str], admin: dict[str, str], room: str
) -> None:
    """from/to select events by when they happened: a window in the past holds none."""
    api.confirmed_booking(user, booking_body(room, future()))
    long_ago = {"to": (future(0) - timedelta(days=30)).isoformat()}

    assert api.page(admin, "/v1/audit", long_ago)["total"] == 0
    recent = {"from": (future(0) - timedelta(days=30)).isoformat()}
    assert api.page(admin, "/v1/audit", recent)["total"] == 1
