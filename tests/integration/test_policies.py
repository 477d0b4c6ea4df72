"""Room policies, closures and the dry run, through the API, the broker and a real worker
(docs/api.md, "Room policies")."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import BookingStatus
from models.services.accept import CloseRoom
from models.tables.bookings import Booking, RoomClosure
from tests.helpers import (
    Api,
    assert_error,
    booking_body,
    count_rows,
    decide_now,
    future,
    new_booking,
    request_count,
    stored,
)

pytestmark = pytest.mark.usefixtures("worker")
BERLIN = ZoneInfo("Europe/Berlin")
EVERY_DAY_HOURS = {
    day: [["08:00", "12:00"], ["13:00", "18:00"]]
    for day in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
}
NO_RULES = {
    "min_duration_minutes": None,
    "max_duration_minutes": None,
    "min_notice_minutes": None,
    "horizon_days": None,
    "buffer_minutes": None,
    "opening_hours": None,
    "max_minutes_per_user_per_day": None,
    "max_minutes_per_user_per_week": None,
    "requires_approval": False,
    "approvers": [],
}


def berlin(days: int, clock: str) -> datetime:
    """`clock` (HH:MM) local time in Berlin, `days` from today there."""
    day = (datetime.now(BERLIN) + timedelta(days=days)).date()
    hour, minute = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def next_monday(clock: str, zone: ZoneInfo = BERLIN) -> datetime:
    """A Monday at least two days ahead, at `clock` local time in `zone`."""
    day = (datetime.now(zone) + timedelta(days=2)).date()
    day += timedelta(days=(7 - day.weekday()) % 7)
    hour, minute = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def patch_policy(api: Api, admin: dict[str, str], room: str, **policy: Any) -> dict[str, Any]:
    response = api.client.patch(f"/v1/rooms/{room}", json={"policy": policy}, headers=admin)
    assert response.status_code == 200, response.json
    return response.json["policy"]  # type: ignore[no-any-return]


def decided(api: Api, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    return api.wait_task(who, api.book(who, body))


def refused(api: Api, who: dict[str, str], body: dict[str, Any], code: str) -> dict[str, Any]:
    """Book and expect the task REJECTED with `code`; the error."""
    doc = decided(api, who, body)
    assert doc["status"] == "REJECTED", doc
    assert doc["error"]["code"] == code, doc
    return doc["error"]  # type: ignore[no-any-return]


def granted(api: Api, who: dict[str, str], body: dict[str, Any]) -> str:
    doc = decided(api, who, body)
    assert doc["status"] == "SUCCEEDED", doc
    return str(doc["result"]["booking_id"])


def booking(api: Api, who: dict[str, str], booking_id: str) -> dict[str, Any]:
    response = api.client.get(f"/v1/bookings/{booking_id}", headers=who)
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def audit_actions(api: Api, admin: dict[str, str], booking_id: str) -> list[str]:
    """The booking's audit actions, oldest first."""
    items = api.page(admin, "/v1/audit", {"booking_id": booking_id})["items"]
    return [e["action"] for e in reversed(items)]


def holding_count(sessions: sessionmaker[Session], room: str) -> int:
    return count_rows(
        sessions,
        Booking,
        Booking.room_id == uuid.UUID(room),
        Booking.status.in_([BookingStatus.PENDING, BookingStatus.CONFIRMED]),
    )


# --- setting a policy ------------------------------------------------------------------------


def test_a_patch_sets_the_keys_it_names_and_keeps_the_others(
    api: Api, admin: dict[str, str], user: dict[str, str], room: str
) -> None:
    assert api.client.get(f"/v1/rooms/{room}", headers=user).json["policy"] == NO_RULES

    first = patch_policy(
        api, admin, room, max_duration_minutes=120, buffer_minutes=10, opening_hours=EVERY_DAY_HOURS
    )
    assert first == {
        **NO_RULES,
        "max_duration_minutes": 120,
        "buffer_minutes": 10,
        "opening_hours": EVERY_DAY_HOURS,
    }
    second = patch_policy(api, admin, room, buffer_minutes=5, min_duration_minutes=15)
    assert second == {**first, "buffer_minutes": 5, "min_duration_minutes": 15}
    third = patch_policy(api, admin, room, opening_hours=None)  # null: no limit again
    assert third == {**second, "opening_hours": None}
    assert api.client.get(f"/v1/rooms/{room}", headers=user).json["policy"] == third
    # A PATCH of other fields leaves the policy alone.
    response = api.client.patch(f"/v1/rooms/{room}", json={"capacity": 3}, headers=admin)
    assert response.status_code == 200
    assert response.json["policy"] == third


def test_null_means_no_limit_for_every_key(
    api: Api, admin: dict[str, str], other_user: dict[str, str], make_room: Callable[..., str]
) -> None:
    room = make_room(
        policy={
            "max_duration_minutes": 30,
            "buffer_minutes": 10,
            "opening_hours": EVERY_DAY_HOURS,
            "requires_approval": True,
            "approvers": [api.me(other_user)],
        }
    )

    assert patch_policy(api, admin, room, **dict.fromkeys(NO_RULES)) == NO_RULES


@pytest.mark.parametrize(
    ("policy", "key"),
    [
        ({"colour": "red"}, "policy.colour"),
        ({"min_duration_minutes": 60, "max_duration_minutes": 30}, "policy.max_duration_minutes"),
        ({"max_duration_minutes": 20}, "policy.max_duration_minutes"),  # below the stored min
        (
            {"opening_hours": {"MO": [["08:00", "12:00"], ["11:00", "13:00"]]}},
            "policy.opening_hours",
        ),
        ({"opening_hours": {"MO": [["12:00", "08:00"]]}}, "policy.opening_hours"),
        ({"opening_hours": {"XX": [["08:00", "12:00"]]}}, "policy.opening_hours"),
        ({"opening_hours": {"MO": [["8am", "12:00"]]}}, "policy.opening_hours"),
        ({"approvers": [str(uuid.uuid4())]}, "policy.approvers"),
        ({"approvers": ["not-a-user-id"]}, "policy.approvers"),
        ({"requires_approval": "yes"}, "policy.requires_approval"),
        ({"buffer_minutes": -1}, "policy.buffer_minutes"),
    ],
)
def test_an_invalid_policy_is_a_422_naming_the_key_and_changes_nothing(
    api: Api,
    admin: dict[str, str],
    make_room: Callable[..., str],
    policy: dict[str, Any],
    key: str,
) -> None:
    room = make_room(policy={"min_duration_minutes": 30, "buffer_minutes": 5})
    before = api.client.get(f"/v1/rooms/{room}", headers=admin).json

    response = api.client.patch(
        f"/v1/rooms/{room}", json={"name": "Renamed", "policy": policy}, headers=admin
    )

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert key in error["details"], error
    assert api.client.get(f"/v1/rooms/{room}", headers=admin).json == before
    # The same policy is refused when a room is created with it (unless it needs the base).
    if key != "policy.max_duration_minutes" or "min_duration_minutes" in policy:
        created = api.create_room(admin, name="Never made", policy=policy)
        assert key in assert_error(created, 422, "VALIDATION_ERROR")["details"]
        assert "Never made" not in [
            r["name"] for r in api.page(admin, "/v1/rooms", {"limit": 200})["items"]
        ]


def test_a_known_approver_is_accepted(
    api: Api, admin: dict[str, str], other_user: dict[str, str], room: str
) -> None:
    approver = api.me(other_user)
    policy = patch_policy(api, admin, room, requires_approval=True, approvers=[approver])
    assert (policy["requires_approval"], policy["approvers"]) == (True, [approver])


# --- what the worker refuses -----------------------------------------------------------------


def test_a_booking_outside_the_duration_limits_is_rejected_naming_the_rule(
    api: Api, admin: dict[str, str], user: dict[str, str], room: str, sessions
) -> None:
    patch_policy(api, admin, room, min_duration_minutes=30, max_duration_minutes=60)
    start = future()

    long = refused(api, user, booking_body(room, start, 61), "DURATION_OUT_OF_POLICY")
    short = refused(api, user, booking_body(room, start, 15), "DURATION_OUT_OF_POLICY")

    assert long["rule"] == {"name": "max_duration_minutes", "limit": 60}
    assert short["rule"] == {"name": "min_duration_minutes", "limit": 30}
    assert long["conflicts"] == []
    assert holding_count(sessions, room) == 0
    granted(api, user, booking_body(room, start, 60))
    granted(api, user, booking_body(room, start + timedelta(hours=2), 30))


def test_notice_and_horizon(
    api: Api, admin: dict[str, str], user: dict[str, str], room: str
) -> None:
    # future(h) is two days and h hours ahead: 72 h ahead is inside 4 days' notice.
    patch_policy(api, admin, room, min_notice_minutes=4 * 24 * 60, horizon_days=10)

    soon = refused(api, user, booking_body(room, future(24)), "NOTICE_TOO_SHORT")
    far = refused(api, user, booking_body(room, future(24 * 10)), "BEYOND_HORIZON")

    assert soon["rule"] == {"name": "min_notice_minutes", "limit": 4 * 24 * 60}
    assert far["rule"] == {"name": "horizon_days", "limit": 10}
    granted(api, user, booking_body(room, future(24 * 3)))


def test_opening_hours_are_the_rooms_local_time(
    api: Api, admin: dict[str, str], user: dict[str, str], make_room: Callable[..., str]
) -> None:
    room = make_room(timezone="Europe/Berlin", policy={"opening_hours": EVERY_DAY_HOURS})

    early = refused(api, user, booking_body(room, berlin(3, "07:30"), 60), "OUTSIDE_OPENING_HOURS")
    lunch = booking_body(room, berlin(3, "11:30"), 60)  # spans the break: in no one interval
    refused(api, user, lunch, "OUTSIDE_OPENING_HOURS")

    assert early["rule"] == {"name": "opening_hours", "limit": EVERY_DAY_HOURS}
    granted(api, user, booking_body(room, berlin(3, "08:00"), 240))
    granted(api, user, booking_body(room, berlin(3, "13:00"), 300))
    # 07:30 UTC is 08:30 or 09:30 in Berlin (open); 17:30 UTC is 18:30 or 19:30 (closed).
    day = berlin(4, "00:00").date()
    utc_morning = datetime(day.year, day.month, day.day, 7, 30, tzinfo=UTC)
    granted(api, user, booking_body(room, utc_morning, 30))
    refused(
        api,
        user,
        booking_body(room, utc_morning + timedelta(hours=10), 30),
        "OUTSIDE_OPENING_HOURS",
    )


def test_a_buffer_keeps_bookings_apart_even_for_admins(
    api: Api, admin: dict[str, str], user: dict[str, str], other_user: dict[str, str], room: str
) -> None:
    patch_policy(api, admin, room, buffer_minutes=10)
    nine = future().replace(hour=9, minute=0)
    first = granted(api, user, booking_body(room, nine, 60))  # 09:00-10:00

    close = refused(
        api, other_user, booking_body(room, nine + timedelta(minutes=65), 60), "CONFLICT"
    )
    before = refused(api, admin, booking_body(room, nine - timedelta(minutes=65), 60), "CONFLICT")

    assert [c["booking_id"] for c in close["conflicts"]] == [first]
    assert [c["booking_id"] for c in before["conflicts"]] == [first]
    assert "rule" not in close
    granted(api, other_user, booking_body(room, nine + timedelta(minutes=70), 60))  # 10:10
    granted(api, admin, booking_body(room, nine - timedelta(minutes=70), 60))  # ends 08:50


def test_the_daily_quota_counts_pending_bookings(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
) -> None:
    patch_policy(
        api,
        admin,
        room,
        requires_approval=True,
        approvers=[api.me(other_user)],
        max_minutes_per_user_per_day=90,
    )
    nine = future().replace(hour=9, minute=0)
    pending = decided(api, user, booking_body(room, nine, 60))
    assert pending["result"]["booking_status"] == "PENDING", pending

    over = refused(api, user, booking_body(room, nine + timedelta(hours=2), 60), "QUOTA_EXCEEDED")

    assert over["rule"] == {"name": "max_minutes_per_user_per_day", "limit": 90}
    granted(api, user, booking_body(room, nine + timedelta(hours=2), 30))  # 90 exactly
    granted(api, user, booking_body(room, nine + timedelta(days=1), 60))  # another day
    # Cancelling gives the minutes back.
    api.cancel(user, pending["result"]["booking_id"])
    granted(api, user, booking_body(room, nine + timedelta(hours=4), 60))


def test_quotas_count_local_days_and_iso_weeks(
    api: Api, user: dict[str, str], make_room: Callable[..., str]
) -> None:
    room = make_room(
        timezone="Europe/Berlin",
        policy={"max_minutes_per_user_per_day": 60, "max_minutes_per_user_per_week": 180},
    )
    monday = next_monday("22:30")
    granted(api, user, booking_body(room, monday, 60))  # Monday 22:30-23:30 Berlin
    # Tuesday 00:00 Berlin is still Monday in UTC: another local day, so it fits.
    granted(api, user, booking_body(room, monday + timedelta(minutes=90), 60))
    day = refused(api, user, booking_body(room, monday + timedelta(hours=3), 30), "QUOTA_EXCEEDED")
    assert day["rule"] == {"name": "max_minutes_per_user_per_day", "limit": 60}
    granted(api, user, booking_body(room, monday + timedelta(days=2), 60))  # 180 this week

    week = refused(api, user, booking_body(room, monday + timedelta(days=3), 30), "QUOTA_EXCEEDED")

    assert week["rule"] == {"name": "max_minutes_per_user_per_week", "limit": 180}
    granted(api, user, booking_body(room, monday + timedelta(days=7), 60))  # the next week


def test_admins_and_approvers_are_spared_the_rules_but_not_conflicts(
    api: Api, admin: dict[str, str], user: dict[str, str], other_user: dict[str, str], room: str
) -> None:
    patch_policy(
        api,
        admin,
        room,
        max_duration_minutes=60,
        max_minutes_per_user_per_day=60,
        min_notice_minutes=5 * 24 * 60,
        approvers=[api.me(other_user)],
    )
    start = future().replace(hour=8, minute=0)  # inside the notice

    refused(api, user, booking_body(room, start, 120), "DURATION_OUT_OF_POLICY")
    refused(api, user, booking_body(room, start, 60), "NOTICE_TOO_SHORT")
    granted(api, admin, booking_body(room, start, 120))  # 08:00-10:00
    granted(api, admin, booking_body(room, start + timedelta(hours=3), 60))
    refused(api, admin, booking_body(room, start + timedelta(minutes=30), 30), "CONFLICT")
    granted(api, other_user, booking_body(room, start + timedelta(hours=5), 120))  # approver
    granted(api, other_user, booking_body(room, start + timedelta(hours=7), 60))
    refused(api, other_user, booking_body(room, start + timedelta(hours=6), 60), "CONFLICT")


def series_body(room: str, start: datetime, policy: str) -> dict[str, Any]:
    return {
        **booking_body(room, start, 60),
        "recurrence": {"freq": "DAILY", "count": 7},
        "conflict_policy": policy,
    }


def test_a_series_skips_the_occurrences_a_rule_refuses(
    api: Api, user: dict[str, str], make_room: Callable[..., str], sessions
) -> None:
    weekdays = {day: [["08:00", "18:00"]] for day in ("MO", "TU", "WE", "TH", "FR")}
    room = make_room(timezone="Europe/Berlin", policy={"opening_hours": weekdays})
    monday = next_monday("09:00")

    response = api.client.post(
        "/v1/bookings/recurring", json=series_body(room, monday, "skip_conflicts"), headers=user
    )
    doc = api.wait_task(user, response.json["task_id"])

    assert doc["status"] == "SUCCEEDED", doc
    occurrences = doc["result"]["occurrences"]
    assert [o["status"] for o in occurrences] == ["CONFIRMED"] * 5 + ["SKIPPED"] * 2
    for skipped in occurrences[5:]:
        assert skipped["code"] == "OUTSIDE_OPENING_HOURS", skipped
        assert skipped["booking_id"] is None
    assert all("code" not in o for o in occurrences[:5])
    assert doc["progress"] == {"total": 7, "done": 7, "confirmed": 5, "rejected": 2}
    assert holding_count(sessions, room) == 5


def test_all_or_nothing_rejects_a_series_with_the_rule_it_breaks(
    api: Api, user: dict[str, str], make_room: Callable[..., str], sessions
) -> None:
    weekdays = {day: [["08:00", "18:00"]] for day in ("MO", "TU", "WE", "TH", "FR")}
    room = make_room(timezone="Europe/Berlin", policy={"opening_hours": weekdays})

    response = api.client.post(
        "/v1/bookings/recurring",
        json=series_body(room, next_monday("09:00"), "all_or_nothing"),
        headers=user,
    )
    doc = api.wait_task(user, response.json["task_id"])

    assert doc["status"] == "REJECTED", doc
    assert doc["error"]["code"] == "OUTSIDE_OPENING_HOURS"
    assert doc["error"]["rule"]["name"] == "opening_hours"
    assert holding_count(sessions, room) == 0


# --- closures --------------------------------------------------------------------------------


def close(api: Api, who: dict[str, str], room: str, start: datetime, end: datetime) -> Any:
    body = {"start_time": start.isoformat(), "end_time": end.isoformat(), "reason": "Painting"}
    return api.client.post(f"/v1/rooms/{room}/closures", json=body, headers=who)


def test_a_closure_cancels_the_bookings_it_covers_and_refuses_new_ones(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
) -> None:
    patch_policy(api, admin, room, requires_approval=True, approvers=[api.me(other_user)])
    start = future().replace(hour=9, minute=0)
    pending = decided(api, user, booking_body(room, start, 60))["result"]["booking_id"]
    confirmed = granted(api, other_user, booking_body(room, start + timedelta(hours=2), 60))
    outside = granted(api, other_user, booking_body(room, start + timedelta(hours=5), 60))
    assert booking(api, user, pending)["status"] == "PENDING"

    response = close(api, admin, room, start, start + timedelta(hours=4))

    assert response.status_code == 202, response.json
    doc = api.wait_task(admin, response.json["task_id"])
    assert doc["status"] == "SUCCEEDED", doc
    assert sorted(doc["result"]["cancelled"]) == sorted([pending, confirmed])
    closure_id = doc["result"]["closure_id"]
    for booking_id in (pending, confirmed):
        seen = booking(api, admin, booking_id)
        assert (seen["status"], seen["cancel_reason"]) == ("CANCELLED", "ROOM_CLOSED")
        assert audit_actions(api, admin, booking_id)[-1] == "booking.closed"
    assert booking(api, admin, confirmed)["meeting"]["state"] == "ENDED"
    assert audit_actions(api, admin, pending) == ["booking.requested", "booking.closed"]
    assert booking(api, admin, outside)["status"] == "CONFIRMED"
    listed = api.page(user, f"/v1/rooms/{room}/closures")
    assert [c["id"] for c in listed["items"]] == [closure_id]
    assert listed["items"][0]["reason"] == "Painting"

    later = refused(
        api, other_user, booking_body(room, start + timedelta(hours=3), 30), "ROOM_CLOSED"
    )
    assert later["conflicts"] == []
    refused(api, admin, booking_body(room, start - timedelta(minutes=30), 60), "ROOM_CLOSED")

    reopened = api.client.delete(f"/v1/rooms/{room}/closures/{closure_id}", headers=admin)
    assert reopened.status_code == 204
    assert api.page(user, f"/v1/rooms/{room}/closures")["items"] == []
    granted(api, other_user, booking_body(room, start + timedelta(hours=3), 30))
    assert booking(api, admin, confirmed)["status"] == "CANCELLED"  # stays cancelled
    room_events = api.page(admin, "/v1/audit", {"room_id": room})["items"]
    trail = [e for e in room_events if e["booking_id"] is None]
    assert [e["action"] for e in trail] == ["room.reopened", "room.closed"]  # newest first
    assert {e["data"]["closure_id"] for e in trail} == {closure_id}


def test_only_admins_close_and_reopen(
    api: Api, admin: dict[str, str], user: dict[str, str], room: str, sessions
) -> None:
    start = future()
    assert_error(close(api, user, room, start, start + timedelta(hours=1)), 403)
    assert request_count(sessions) == 0
    doc = api.wait_task(
        admin, close(api, admin, room, start, start + timedelta(hours=1)).json["task_id"]
    )
    closure_id = doc["result"]["closure_id"]

    assert_error(api.client.delete(f"/v1/rooms/{room}/closures/{closure_id}", headers=user), 403)
    assert count_rows(sessions, RoomClosure) == 1
    missing = api.client.delete(f"/v1/rooms/{room}/closures/{uuid.uuid4()}", headers=admin)
    assert_error(missing, 404)
    unknown_room = close(api, admin, str(uuid.uuid4()), start, start + timedelta(hours=1))
    assert_error(unknown_room, 404)
    backwards = close(api, admin, room, start, start - timedelta(hours=1))
    assert "end_time" in assert_error(backwards, 422)["details"]


def test_availability_leaves_out_closed_shut_and_pending_rooms(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Callable[..., str],
) -> None:
    start = berlin(3, "19:00")  # after hours in Berlin
    end = start + timedelta(hours=1)
    free = make_room(name="A free")
    closed = make_room(name="B closed")
    api.wait_task(
        admin,
        close(api, admin, closed, start - timedelta(hours=2), start + timedelta(minutes=1)).json[
            "task_id"
        ],
    )
    make_room(
        name="C after hours", timezone="Europe/Berlin", policy={"opening_hours": EVERY_DAY_HOURS}
    )
    all_day = {day: [["00:00", "24:00"]] for day in EVERY_DAY_HOURS}
    make_room(name="D open late", timezone="Europe/Berlin", policy={"opening_hours": all_day})
    pending = make_room(
        name="E pending", policy={"requires_approval": True, "approvers": [api.me(other_user)]}
    )
    doc = decided(api, user, booking_body(pending, start + timedelta(minutes=30), 60))
    assert doc["result"]["booking_status"] == "PENDING"

    page = api.page(
        user,
        "/v1/rooms/availability",
        {"start_time": start.isoformat(), "end_time": end.isoformat()},
    )

    assert [r["name"] for r in page["items"]] == ["A free", "D open late"]
    assert page["items"][0]["id"] == free
    # Inside opening hours, and after the closure and the pending booking, all are free.
    later = api.page(
        user,
        "/v1/rooms/availability",
        {
            "start_time": berlin(3, "09:00").isoformat(),
            "end_time": berlin(3, "10:00").isoformat(),
        },
    )
    assert [r["name"] for r in later["items"]] == [
        "A free",
        "B closed",
        "C after hours",
        "D open late",
        "E pending",
    ]


def test_a_closure_decided_with_a_booking_in_one_batch_cancels_it(
    api: Api, admin: dict[str, str], user: dict[str, str], room: str, sessions
) -> None:
    """A booking granted earlier in the same transaction as a closure over it is cancelled
    too: never left CONFIRMED in a closed window."""
    room_id, start = uuid.UUID(room), future()
    stored(sessions, api.principal(user), new_booking(booking_body(room, start, title="first")))
    closure = CloseRoom(room_id, start - timedelta(hours=1), start + timedelta(hours=2))
    stored(sessions, api.principal(admin), closure)

    outcome = decide_now(sessions, room_id)  # both in one batch, in this process

    assert [status for _, _, status, _ in outcome.outcomes] == ["SUCCEEDED", "SUCCEEDED"]
    with sessions() as session:
        rows = session.execute(
            select(Booking.id, Booking.status, Booking.cancel_reason).where(
                Booking.room_id == room_id
            )
        ).all()
    [(booking_id, status, reason)] = rows
    assert (status, reason) == (BookingStatus.CANCELLED, "ROOM_CLOSED")
    assert booking(api, admin, str(booking_id))["meeting"]["state"] == "ENDED"
    # One transaction, one `at`: the audit list may give either first.
    assert sorted(audit_actions(api, admin, str(booking_id))) == [
        "booking.closed",
        "booking.created",
    ]
    assert holding_count(sessions, room) == 0


# --- the dry run -----------------------------------------------------------------------------


def check(api: Api, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post("/v1/bookings/check", json=body, headers=who)
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def test_the_dry_run_answers_what_the_worker_would_decide_and_writes_nothing(
    api: Api, admin: dict[str, str], user: dict[str, str], room: str, sessions
) -> None:
    patch_policy(api, admin, room, max_duration_minutes=60)
    start = future()
    taken = granted(api, user, booking_body(room, start, 60))
    rows = (request_count(sessions), count_rows(sessions, Booking))

    free = check(api, user, booking_body(room, start + timedelta(hours=2), 60))
    too_long = check(api, user, booking_body(room, start + timedelta(hours=2), 90))
    clash = check(api, user, booking_body(room, start + timedelta(minutes=30), 60))
    waits = check(api, user, booking_body(room, start, 60, waitlist=True))

    assert free == {"ok": True, "refusals": []}
    assert too_long["ok"] is False
    [refusal] = too_long["refusals"]
    assert refusal["code"] == "DURATION_OUT_OF_POLICY"
    assert refusal["rule"] == {"name": "max_duration_minutes", "limit": 60}
    assert clash["ok"] is False
    assert [r["code"] for r in clash["refusals"]] == ["CONFLICT"]
    assert [c["booking_id"] for c in clash["refusals"][0]["conflicts"]] == [taken]
    assert waits["ok"] is False
    assert [r["code"] for r in waits["refusals"]] == ["CONFLICT"]
    assert (request_count(sessions), count_rows(sessions, Booking)) == rows
    # What the dry run said is what the worker does.
    granted(api, user, booking_body(room, start + timedelta(hours=2), 60))


def test_the_dry_run_of_a_series_reports_each_occurrence(
    api: Api, user: dict[str, str], make_room: Callable[..., str], sessions
) -> None:
    weekdays = {day: [["08:00", "18:00"]] for day in ("MO", "TU", "WE", "TH", "FR")}
    room = make_room(timezone="Europe/Berlin", policy={"opening_hours": weekdays})
    monday = next_monday("09:00")

    skip = check(api, user, series_body(room, monday, "skip_conflicts"))
    strict = check(api, user, series_body(room, monday, "all_or_nothing"))

    assert skip["ok"] is True
    assert [o["status"] for o in skip["occurrences"]] == ["CONFIRMED"] * 5 + ["SKIPPED"] * 2
    assert [o.get("code") for o in skip["occurrences"][5:]] == ["OUTSIDE_OPENING_HOURS"] * 2
    assert [r["code"] for r in skip["refusals"]] == ["OUTSIDE_OPENING_HOURS"]
    assert strict["ok"] is False
    assert [r["code"] for r in strict["refusals"]] == ["OUTSIDE_OPENING_HOURS"]
    assert len(strict["occurrences"]) == 7
    assert all(o["booking_id"] is None for o in skip["occurrences"] + strict["occurrences"])
    assert request_count(sessions) == 0 and count_rows(sessions, Booking) == 0


def test_a_malformed_dry_run_is_a_422(api: Api, user: dict[str, str], room: str, sessions) -> None:
    start = future()
    untitled = booking_body(room, start)
    del untitled["title"]
    backwards = booking_body(room, start, -30)
    naive = {**booking_body(room, start), "start_time": "2031-03-01T09:00:00"}

    assert (
        "title"
        in assert_error(api.client.post("/v1/bookings/check", json=untitled, headers=user), 422)[
            "details"
        ]
    )
    assert_error(api.client.post("/v1/bookings/check", json=backwards, headers=user), 422)
    assert (
        "start_time"
        in assert_error(api.client.post("/v1/bookings/check", json=naive, headers=user), 422)[
            "details"
        ]
    )
    assert_error(
        api.client.post(
            "/v1/bookings/check", json=booking_body(str(uuid.uuid4()), start), headers=user
        ),
        404,
    )
    assert request_count(sessions) == 0
