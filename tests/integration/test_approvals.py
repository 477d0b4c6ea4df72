"""Approvals: PENDING bookings, their approvers and their expiry, through the API, the
broker and a real worker (docs/api.md, "Approvals")."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import BookingStatus
from models.services import housekeeping
from models.services.accept import CancelBooking, DecideApproval
from models.tables.bookings import Booking, Meeting
from tests.helpers import (
    Api,
    assert_error,
    booking_body,
    count_rows,
    decide_now,
    future,
    stored,
)

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def third_user(api: Api) -> dict[str, str]:
    return api.register_and_login("carol@example.com", "Carol")


@pytest.fixture
def approval_room(api: Api, make_room: Callable[..., str], other_user: dict[str, str]) -> str:
    """A room whose bookings other_user (Bob) approves."""
    return make_room(policy={"requires_approval": True, "approvers": [api.me(other_user)]})


def book(api: Api, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    return api.wait_task(who, api.book(who, body))


def pending_booking(api: Api, who: dict[str, str], body: dict[str, Any]) -> str:
    doc = book(api, who, body)
    assert doc["status"] == "SUCCEEDED", doc
    assert doc["result"]["booking_status"] == "PENDING", doc
    return str(doc["result"]["booking_id"])


def booking(api: Api, who: dict[str, str], booking_id: str) -> dict[str, Any]:
    response = api.client.get(f"/v1/bookings/{booking_id}", headers=who)
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def ask(api: Api, who: dict[str, str], booking_id: str, verb: str, **body: Any) -> Any:
    return api.client.post(f"/v1/bookings/{booking_id}/{verb}", json=body, headers=who)


def decision(api: Api, who: dict[str, str], booking_id: str, verb: str, **body: Any) -> dict:  # type: ignore[type-arg]
    """Approve or decline; the task once decided."""
    response = ask(api, who, booking_id, verb, **body)
    assert response.status_code == 202, response.json
    return api.wait_task(who, response.json["task_id"])


def audit(api: Api, admin: dict[str, str], booking_id: str) -> list[dict[str, Any]]:
    """The booking's audit events, oldest first."""
    return list(reversed(api.page(admin, "/v1/audit", {"booking_id": booking_id})["items"]))


def listed(api: Api, who: dict[str, str]) -> list[str]:
    return [b["id"] for b in api.page(who, "/v1/approvals")["items"]]


def test_a_booking_of_an_approval_room_is_pending_and_holds_its_slot(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    third_user: dict[str, str],
    approval_room: str,
    sessions: sessionmaker[Session],
) -> None:
    start = future()

    doc = book(api, user, booking_body(approval_room, start, 60))

    assert doc["status"] == "SUCCEEDED", doc
    assert doc["result"]["booking_status"] == "PENDING"
    booking_id = doc["result"]["booking_id"]
    seen = booking(api, user, booking_id)
    assert (seen["status"], seen["meeting"], seen["cancel_reason"]) == ("PENDING", None, None)
    assert count_rows(sessions, Meeting) == 0
    clash = book(api, third_user, booking_body(approval_room, start + timedelta(minutes=30), 60))
    assert clash["status"] == "REJECTED"
    assert clash["error"]["code"] == "CONFLICT"
    assert [c["booking_id"] for c in clash["error"]["conflicts"]] == [booking_id]
    assert [e["action"] for e in audit(api, admin, booking_id)] == ["booking.requested"]
    calendar = api.page(third_user, f"/v1/rooms/{approval_room}/bookings")
    assert [b["id"] for b in calendar["items"]] == [booking_id]


def test_pending_bookings_show_in_lists_and_as_tentative_in_the_calendar_feed(
    api: Api, user: dict[str, str], admin: dict[str, str], approval_room: str
) -> None:
    start = future()
    pending = pending_booking(api, user, booking_body(approval_room, start, 60, title="Asked"))
    confirmed = book(api, admin, booking_body(approval_room, start + timedelta(hours=2), 60))
    assert confirmed["result"]["booking_status"] == "CONFIRMED"

    mine = api.page(user, "/v1/bookings", {"status": "PENDING"})
    feed = api.client.get(f"/v1/rooms/{approval_room}/calendar.ics", headers=user)

    assert [b["id"] for b in mine["items"]] == [pending]
    assert feed.status_code == 200
    events = feed.get_data(as_text=True).split("BEGIN:VEVENT")[1:]
    statuses = {
        ("Asked" in event): next(
            line.split(":", 1)[1].strip()
            for line in event.splitlines()
            if line.startswith("STATUS:")
        )
        for event in events
    }
    assert statuses == {True: "TENTATIVE", False: "CONFIRMED"}


def test_approvers_and_admins_list_what_they_may_decide_oldest_first(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    approval_room: str,
    make_room: Callable[..., str],
) -> None:
    start = future()
    first = pending_booking(api, user, booking_body(approval_room, start))
    second = pending_booking(
        api, third_user, booking_body(approval_room, start - timedelta(hours=3))
    )
    elsewhere = make_room(policy={"requires_approval": True, "approvers": [api.me(third_user)]})
    foreign = pending_booking(api, user, booking_body(elsewhere, start))

    assert listed(api, other_user) == [first, second]  # by request, not by start
    assert listed(api, admin) == [first, second, foreign]
    assert listed(api, third_user) == [foreign]
    page = api.page(user, "/v1/approvals")  # the organizer is no approver
    assert (page["items"], page["total"]) == ([], 0)
    item = api.page(other_user, "/v1/approvals", {"limit": 1})["items"][0]
    assert (item["id"], item["status"], item["room_id"]) == (first, "PENDING", approval_room)


def test_an_approval_confirms_the_booking_with_its_meeting(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    approval_room: str,
) -> None:
    body = booking_body(approval_room, future(), external_meeting_url="https://meet.example.com/ok")
    booking_id = pending_booking(api, user, body)
    key = {**other_user, "Idempotency-Key": "approve-once"}
    sent = ask(api, key, booking_id, "approve")
    assert sent.status_code == 202, sent.json
    assert ask(api, key, booking_id, "approve").json["task_id"] == sent.json["task_id"]

    doc = api.wait_task(other_user, sent.json["task_id"])

    assert doc["status"] == "SUCCEEDED", doc
    assert doc["kind"] == "approval"
    assert doc["result"] == {"booking_id": booking_id, "booking_status": "CONFIRMED"}
    seen = booking(api, user, booking_id)
    assert seen["status"] == "CONFIRMED"
    assert seen["meeting"]["state"] == "SCHEDULED"
    assert len(seen["meeting"]["join_code"]) >= 6
    assert seen["meeting"]["external_meeting_url"] == "https://meet.example.com/ok"
    code = seen["meeting"]["join_code"]
    assert api.client.get(f"/v1/meetings/{code}", headers=other_user).status_code == 200
    events = audit(api, admin, booking_id)
    assert [e["action"] for e in events] == ["booking.requested", "booking.approved"]
    assert events[1]["actor_id"] == api.me(other_user)
    assert listed(api, other_user) == []

    again = decision(api, other_user, booking_id, "approve")
    assert again["status"] == "REJECTED"
    assert again["error"]["code"] == "NOT_PENDING"
    declined = decision(api, admin, booking_id, "decline")
    assert declined["error"]["code"] == "NOT_PENDING"
    assert booking(api, user, booking_id)["status"] == "CONFIRMED"


def test_a_decline_cancels_the_booking_and_frees_its_slot(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    approval_room: str,
) -> None:
    start = future()
    booking_id = pending_booking(api, user, booking_body(approval_room, start))

    doc = decision(api, other_user, booking_id, "decline", reason="Board meeting")

    assert doc["status"] == "SUCCEEDED", doc
    assert doc["result"]["booking_status"] == "CANCELLED"
    seen = booking(api, user, booking_id)
    assert (seen["status"], seen["cancel_reason"], seen["meeting"]) == (
        "CANCELLED",
        "DECLINED",
        None,
    )
    events = audit(api, admin, booking_id)
    assert [e["action"] for e in events] == ["booking.requested", "booking.declined"]
    assert events[1]["data"].get("note") == "Board meeting"
    assert decision(api, other_user, booking_id, "approve")["error"]["code"] == "NOT_PENDING"
    pending_booking(api, third_user, booking_body(approval_room, start))  # the slot is free


def test_whoever_is_neither_admin_nor_approver_gets_404(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    third_user: dict[str, str],
    approval_room: str,
    sessions: sessionmaker[Session],
) -> None:
    booking_id = pending_booking(api, user, booking_body(approval_room, future()))

    for who in (third_user, user):  # a stranger, and the organizer herself
        assert_error(ask(api, who, booking_id, "approve"), 404)
        assert_error(ask(api, who, booking_id, "decline"), 404)
    assert_error(ask(api, admin, str(uuid.uuid4()), "approve"), 404)

    assert booking(api, user, booking_id)["status"] == "PENDING"
    assert decision(api, admin, booking_id, "approve")["status"] == "SUCCEEDED"  # an admin may
    assert booking(api, user, booking_id)["status"] == "CONFIRMED"


def test_an_approvers_and_an_admins_own_bookings_are_confirmed_at_once(
    api: Api,
    admin: dict[str, str],
    other_user: dict[str, str],
    approval_room: str,
) -> None:
    start = future()
    for who, at in ((other_user, start), (admin, start + timedelta(hours=2))):
        doc = book(api, who, booking_body(approval_room, at))
        assert doc["status"] == "SUCCEEDED", doc
        assert doc["result"]["booking_status"] == "CONFIRMED"
        seen = booking(api, who, doc["result"]["booking_id"])
        assert seen["status"] == "CONFIRMED"
        assert seen["meeting"]["state"] == "SCHEDULED"
    assert listed(api, other_user) == []


def test_every_occurrence_of_a_series_waits_for_approval(
    api: Api, user: dict[str, str], other_user: dict[str, str], approval_room: str
) -> None:
    body = {**booking_body(approval_room, future()), "recurrence": {"freq": "DAILY", "count": 3}}
    response = api.client.post("/v1/bookings/recurring", json=body, headers=user)
    doc = api.wait_task(user, response.json["task_id"])

    assert doc["status"] == "SUCCEEDED", doc
    assert [o["status"] for o in doc["result"]["occurrences"]] == ["PENDING"] * 3
    ids = [o["booking_id"] for o in doc["result"]["occurrences"]]
    assert sorted(listed(api, other_user)) == sorted(ids)  # one request: equally old
    assert all(booking(api, user, i)["status"] == "PENDING" for i in ids)


def test_a_booking_undecided_at_its_start_expires(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    approval_room: str,
    sessions: sessionmaker[Session],
    wake: Callable[..., object],
) -> None:
    start = future()
    booking_id = pending_booking(api, user, booking_body(approval_room, start))
    assert housekeeping.expire_waiting(sessions, now=start - timedelta(minutes=1), wake=wake) == 0
    assert booking(api, user, booking_id)["status"] == "PENDING"

    expired = housekeeping.expire_waiting(sessions, now=start + timedelta(minutes=1), wake=wake)

    assert expired == 1
    seen = booking(api, user, booking_id)
    assert (seen["status"], seen["cancel_reason"]) == ("CANCELLED", "APPROVAL_EXPIRED")
    events = audit(api, admin, booking_id)
    assert [e["action"] for e in events] == ["booking.requested", "booking.approval_expired"]
    assert listed(api, other_user) == []
    assert decision(api, other_user, booking_id, "approve")["error"]["code"] == "NOT_PENDING"
    assert housekeeping.expire_waiting(sessions, now=start + timedelta(minutes=2), wake=wake) == 0


def test_an_approval_and_a_cancel_in_one_batch_both_leave_their_trace(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    approval_room: str,
    sessions: sessionmaker[Session],
) -> None:
    """Approved, then cancelled, in one transaction: the audit shows both, and the
    booking got its meeting before it ended."""
    booking_id = pending_booking(api, user, booking_body(approval_room, future()))
    room_id, target = uuid.UUID(approval_room), uuid.UUID(booking_id)
    stored(sessions, api.principal(other_user), DecideApproval(target, approve=True))
    stored(sessions, api.principal(user), CancelBooking(target))

    outcome = decide_now(sessions, room_id)  # both in one batch, in this process

    assert [status for _, _, status, _ in outcome.outcomes] == ["SUCCEEDED", "SUCCEEDED"]
    seen = booking(api, user, booking_id)
    assert seen["status"] == "CANCELLED"
    assert seen["meeting"]["state"] == "ENDED"
    # The last two share a transaction, so their `at`: the audit list may give either first.
    assert sorted(e["action"] for e in audit(api, admin, booking_id)) == [
        "booking.approved",
        "booking.cancelled",
        "booking.requested",
    ]
    assert (
        count_rows(
            sessions,
            Booking,
            Booking.room_id == room_id,
            Booking.status != BookingStatus.CANCELLED,
        )
        == 0
    )
