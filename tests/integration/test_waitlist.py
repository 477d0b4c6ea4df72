"""The waitlist: requests that wait for a taken slot, their promotion, withdrawal and
expiry, through the API, the broker and a real worker (docs/api.md, "Waitlist")."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.services import housekeeping
from models.tables.bookings import Booking
from tests.helpers import (
    Api,
    assert_error,
    booking_body,
    decide_now,
    future,
    new_booking,
    overlapping_pairs,
    seqs,
    stored,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("worker")
UNDECIDED = ("QUEUED", "PROCESSING")


@pytest.fixture
def third_user(api: Api) -> dict[str, str]:
    return api.register_and_login("carol@example.com", "Carol")


def settled(api: Api, who: dict[str, str], task_id: str) -> dict[str, Any]:
    """The task once the worker has decided it for now (WAITLISTED or finished)."""

    def decided() -> dict[str, Any] | None:
        doc = api.task(who, task_id, wait=5)
        return None if doc["status"] in UNDECIDED else doc

    return wait_until(decided, 30, f"task {task_id} to be decided", interval=0)


def wait_listed(api: Api, who: dict[str, str], body: dict[str, Any]) -> str:
    """Book with waitlist: true and expect the task WAITLISTED; its id."""
    task_id = api.book(who, {**body, "waitlist": True})
    doc = settled(api, who, task_id)
    assert doc["status"] == "WAITLISTED", doc
    return task_id


def status(api: Api, who: dict[str, str], task_id: str) -> str:
    return str(api.task(who, task_id)["status"])


def booking(api: Api, who: dict[str, str], booking_id: str) -> dict[str, Any]:
    response = api.client.get(f"/v1/bookings/{booking_id}", headers=who)
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def withdraw(api: Api, who: dict[str, str], task_id: str) -> Any:
    return api.client.post(f"/v1/tasks/{task_id}/withdraw", headers=who)


def holding(sessions: sessionmaker[Session], room: str) -> list[Booking]:
    """The room's PENDING and CONFIRMED bookings, by start."""
    with sessions() as session:
        return list(
            session.scalars(
                select(Booking)
                .where(Booking.room_id == room, Booking.status.in_(["PENDING", "CONFIRMED"]))
                .order_by(Booking.start_time)
            )
        )


def created_event(api: Api, admin: dict[str, str], booking_id: str) -> dict[str, Any]:
    items = api.page(admin, "/v1/audit", {"booking_id": booking_id})["items"]
    [event] = [e for e in items if e["action"] == "booking.created"]
    return event  # type: ignore[no-any-return]


def test_a_waiter_waits_for_the_slot_and_gets_it_when_it_is_cancelled(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    start = future()
    first = api.confirmed_booking(user, booking_body(room, start, 60))
    task_id = api.book(
        other_user, booking_body(room, start + timedelta(minutes=30), 60, waitlist=True)
    )

    doc = settled(api, other_user, task_id)

    assert doc["status"] == "WAITLISTED", doc
    assert doc["error"]["code"] == "CONFLICT"
    assert [c["booking_id"] for c in doc["error"]["conflicts"]] == [first]
    assert doc["result"] is None
    assert [b.id for b in holding(sessions, room)] == [uuid.UUID(first)]

    api.cancel(user, first)

    promoted = api.wait_task(other_user, task_id)
    assert promoted["status"] == "SUCCEEDED", promoted
    assert promoted["error"] is None
    assert promoted["progress"] == {"total": 1, "done": 1, "confirmed": 1, "rejected": 0}
    booking_id = promoted["result"]["booking_id"]
    seen = booking(api, other_user, booking_id)
    assert seen["status"] == "CONFIRMED"
    assert seen["organizer_id"] == api.me(other_user)
    assert seen["meeting"]["state"] == "SCHEDULED"
    assert created_event(api, admin, booking_id)["data"]["from_waitlist"] is True
    assert [str(b.id) for b in holding(sessions, room)] == [booking_id]


def test_only_a_conflict_puts_a_request_on_the_waitlist(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Callable[..., str],
) -> None:
    room = make_room(capacity=2, policy={"max_duration_minutes": 60})
    start = future()
    api.confirmed_booking(user, booking_body(room, start, 60))
    crowd = ["a@example.com", "b@example.com", "c@example.com"]

    too_long = settled(
        api, other_user, api.book(other_user, booking_body(room, start, 90, waitlist=True))
    )
    too_many = settled(
        api,
        other_user,
        api.book(other_user, booking_body(room, start, 30, waitlist=True, attendees=crowd)),
    )
    plain = settled(api, other_user, api.book(other_user, booking_body(room, start, 30)))

    assert (too_long["status"], too_long["error"]["code"]) == ("REJECTED", "DURATION_OUT_OF_POLICY")
    assert (too_many["status"], too_many["error"]["code"]) == ("REJECTED", "CAPACITY_EXCEEDED")
    assert (plain["status"], plain["error"]["code"]) == ("REJECTED", "CONFLICT")
    series = {
        **booking_body(room, start, 30, waitlist=True),
        "recurrence": {"freq": "DAILY", "count": 2},
    }
    response = api.client.post("/v1/bookings/recurring", json=series, headers=other_user)
    assert "waitlist" in assert_error(response, 422)["details"]


def test_waiters_are_served_in_the_order_they_were_accepted(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    room: str,
) -> None:
    start = future()
    first = api.confirmed_booking(user, booking_body(room, start, 60))
    bob = wait_listed(api, other_user, booking_body(room, start + timedelta(minutes=20), 60))
    carol = wait_listed(api, third_user, booking_body(room, start + timedelta(minutes=10), 60))

    api.cancel(user, first)

    won = api.task(other_user, bob)
    assert won["status"] == "SUCCEEDED", won
    assert status(api, third_user, carol) == "WAITLISTED"  # Bob's booking is in her way

    api.cancel(other_user, won["result"]["booking_id"])

    assert api.wait_task(third_user, carol)["status"] == "SUCCEEDED"


def test_a_waiter_that_another_rule_now_refuses_is_rejected_and_the_next_one_served(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    room: str,
) -> None:
    start = future()
    first = api.confirmed_booking(user, booking_body(room, start, 60))
    hour = wait_listed(api, other_user, booking_body(room, start, 60))
    half = wait_listed(api, third_user, booking_body(room, start + timedelta(minutes=15), 30))
    response = api.client.patch(
        f"/v1/rooms/{room}", json={"policy": {"max_duration_minutes": 30}}, headers=admin
    )
    assert response.status_code == 200

    api.cancel(user, first)

    refused = api.task(other_user, hour)
    assert refused["status"] == "REJECTED", refused
    assert refused["error"]["code"] == "DURATION_OUT_OF_POLICY"
    assert refused["error"]["rule"] == {"name": "max_duration_minutes", "limit": 30}
    assert api.task(third_user, half)["status"] == "SUCCEEDED"


def test_a_waiter_may_withdraw_once_and_nobody_else_may(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    start = future()
    first_task = api.book(user, booking_body(room, start, 60))
    first = api.wait_task(user, first_task)["result"]["booking_id"]
    task_id = wait_listed(api, other_user, booking_body(room, start, 60))

    assert_error(withdraw(api, user, task_id), 404)  # not hers
    assert_error(withdraw(api, other_user, str(uuid.uuid4())), 404)
    response = withdraw(api, other_user, task_id)

    assert response.status_code == 200, response.json
    assert response.json["task_id"] == task_id
    assert response.json["status"] == "REJECTED"
    assert response.json["error"]["code"] == "WITHDRAWN"
    assert api.task(other_user, task_id)["status"] == "REJECTED"
    assert_error(withdraw(api, other_user, task_id), 409)
    assert_error(withdraw(api, user, first_task), 409)  # SUCCEEDED: not waiting
    api.cancel(user, first)
    assert api.task(other_user, task_id)["error"]["code"] == "WITHDRAWN"
    assert holding(sessions, room) == []  # nobody took the freed slot


def test_a_waiter_whose_start_passes_expires(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions,
    wake: Callable[..., object],
) -> None:
    start = future()
    api.confirmed_booking(user, booking_body(room, start, 60))
    task_id = wait_listed(api, other_user, booking_body(room, start + timedelta(minutes=30), 60))
    assert housekeeping.expire_waiting(sessions, now=start + timedelta(minutes=29), wake=wake) == 0
    assert status(api, other_user, task_id) == "WAITLISTED"

    expired = housekeeping.expire_waiting(sessions, now=start + timedelta(minutes=30), wake=wake)

    assert expired == 1
    doc = api.task(other_user, task_id)
    assert doc["status"] == "REJECTED"
    assert doc["error"]["code"] == "WAITLIST_EXPIRED"
    assert doc["progress"]["done"] == 1
    assert_error(withdraw(api, other_user, task_id), 409)


def test_a_closure_over_the_blocking_booking_serves_the_waiters_it_leaves_open(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    room: str,
) -> None:
    start = future()
    api.confirmed_booking(user, booking_body(room, start, 60))
    inside = wait_listed(api, other_user, booking_body(room, start, 60))  # accepted first
    after = wait_listed(api, third_user, booking_body(room, start + timedelta(minutes=30), 60))
    body = {
        "start_time": (start - timedelta(minutes=30)).isoformat(),
        "end_time": (start + timedelta(minutes=30)).isoformat(),
    }

    response = api.client.post(f"/v1/rooms/{room}/closures", json=body, headers=admin)

    assert api.wait_task(admin, response.json["task_id"])["status"] == "SUCCEEDED"
    closed = api.task(other_user, inside)
    assert (closed["status"], closed["error"]["code"]) == ("REJECTED", "ROOM_CLOSED")
    assert api.task(third_user, after)["status"] == "SUCCEEDED"


def test_a_freed_pending_slot_goes_to_the_next_waiter(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    third_user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
    wake: Callable[..., object],
) -> None:
    """A decline, or an approval that expires at its start, promotes like a cancel."""
    room = make_room(policy={"requires_approval": True, "approvers": [api.me(other_user)]})
    start = future()
    declined = api.wait_task(user, api.book(user, booking_body(room, start, 60)))["result"]
    expiring = api.wait_task(
        user, api.book(user, booking_body(room, start + timedelta(hours=2), 60))
    )["result"]
    assert declined["booking_status"] == expiring["booking_status"] == "PENDING"
    first = wait_listed(api, third_user, booking_body(room, start + timedelta(minutes=30), 60))
    second = wait_listed(
        api, third_user, booking_body(room, start + timedelta(hours=2, minutes=30), 60)
    )

    response = api.client.post(
        f"/v1/bookings/{declined['booking_id']}/decline", json={}, headers=other_user
    )
    assert api.wait_task(other_user, response.json["task_id"])["status"] == "SUCCEEDED"
    promoted = api.task(third_user, first)
    assert promoted["status"] == "SUCCEEDED", promoted
    assert promoted["result"]["booking_status"] == "PENDING"  # the room still wants approval
    assert status(api, third_user, second) == "WAITLISTED"
    approve = api.client.post(
        f"/v1/bookings/{promoted['result']['booking_id']}/approve", json={}, headers=other_user
    )
    assert api.wait_task(other_user, approve.json["task_id"])["status"] == "SUCCEEDED"

    # Expire the second PENDING booking at its start (+10 min); the waiter starts later.
    expiry = start + timedelta(hours=2, minutes=10)
    assert housekeeping.expire_waiting(sessions, now=expiry, wake=wake) == 1
    # The waiter goes back to the room's queue, where the worker books it.
    assert api.wait_task(third_user, second)["status"] == "SUCCEEDED"
    assert overlapping_pairs(sessions) == 0


def test_a_no_show_release_promotes_a_waiter(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
    wake: Callable[..., object],
) -> None:
    room = make_room(auto_release_minutes=10)
    start = future()
    first = api.confirmed_booking(user, booking_body(room, start, 60))
    task_id = wait_listed(api, other_user, booking_body(room, start + timedelta(minutes=30), 60))

    released = housekeeping.release_no_shows(sessions, now=start + timedelta(minutes=15), wake=wake)

    assert released == 1
    assert booking(api, user, first)["cancel_reason"] == "NO_SHOW"
    # The waiter goes back to the room's queue, where the worker books it.
    assert api.wait_task(other_user, task_id)["status"] == "SUCCEEDED"


def test_cancelling_a_series_promotes_the_waiters_it_blocked(
    api: Api, user: dict[str, str], other_user: dict[str, str], room: str
) -> None:
    start = future()
    body = {**booking_body(room, start, 60), "recurrence": {"freq": "DAILY", "count": 2}}
    response = api.client.post("/v1/bookings/recurring", json=body, headers=user)
    series = api.wait_task(user, response.json["task_id"])["result"]["series_id"]
    day_two = wait_listed(api, other_user, booking_body(room, start + timedelta(days=1), 30))

    response = api.client.post(f"/v1/series/{series}/cancel", json={}, headers=user)

    assert api.wait_task(user, response.json["task_id"])["status"] == "SUCCEEDED"
    assert api.task(other_user, day_two)["status"] == "SUCCEEDED"


# --- storms ----------------------------------------------------------------------------------


def users(api: Api, count: int, prefix: str) -> list[dict[str, str]]:
    return [
        api.register_and_login(f"{prefix}{i}@example.com", f"{prefix} {i}") for i in range(count)
    ]


def submit_all(app: Flask, jobs: list[tuple[dict[str, str], dict[str, Any]]]) -> list[str]:
    """Book every (who, body) at once from a pool of threads; the task ids, in job order."""

    def one(job: tuple[dict[str, str], dict[str, Any]]) -> str:
        return Api(app.test_client()).book(*job)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, jobs))


def test_a_storm_of_waiters_gives_a_freed_slot_to_the_earliest_one_only(
    app: Flask,
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    start = future()
    first = api.confirmed_booking(user, booking_body(room, start, 60))
    waiters = users(api, 10, "waiter")
    # Every window overlaps the first booking and every other waiter's window.
    bodies = [
        booking_body(room, start + timedelta(minutes=i), 60, waitlist=True) for i in range(10)
    ]
    tasks = submit_all(app, list(zip(waiters, bodies, strict=True)))
    owner = dict(zip(tasks, waiters, strict=True))
    for task_id in tasks:
        assert settled(api, owner[task_id], task_id)["status"] == "WAITLISTED"
    order = sorted(tasks, key=seqs(sessions, tasks).__getitem__)
    quitters = [order[0], order[4]]  # the earliest waiter among them: it may be too late

    def cancel() -> str:
        client = Api(app.test_client())
        response = client.client.post(f"/v1/bookings/{first}/cancel", json={}, headers=user)
        assert response.status_code == 202, response.json
        return str(response.json["task_id"])

    def leave(task_id: str) -> int:
        return (
            Api(app.test_client())
            .client.post(f"/v1/tasks/{task_id}/withdraw", headers=owner[task_id])
            .status_code
        )

    def latecomer(minutes: int) -> str:
        return Api(app.test_client()).book(
            user, booking_body(room, start + timedelta(minutes=minutes), 30)
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        cancelled = pool.submit(cancel)
        left = {t: pool.submit(leave, t) for t in quitters}
        late = [pool.submit(latecomer, m) for m in (0, 10, 20, 30, 40)]
        cancel_task = cancelled.result()
        withdrawn = {t: f.result() for t, f in left.items()}
        late_tasks = [f.result() for f in late]

    assert api.wait_task(user, cancel_task)["status"] == "SUCCEEDED"
    for task_id in late_tasks:
        doc = api.wait_task(user, task_id)
        assert (doc["status"], doc["error"]["code"]) == ("REJECTED", "CONFLICT"), doc
    final = {t: api.task(owner[t], t) for t in tasks}
    for task_id, code in withdrawn.items():
        # A withdrawal either came first (200) or found the task already served (409).
        expected = "REJECTED" if code == 200 else "SUCCEEDED"
        assert code in (200, 409) and final[task_id]["status"] == expected, (code, final[task_id])
    still_waiting = [t for t in order if final[t]["status"] != "REJECTED"]
    winner = still_waiting[0]
    assert final[winner]["status"] == "SUCCEEDED", final[winner]
    assert [final[t]["status"] for t in still_waiting[1:]] == ["WAITLISTED"] * (
        len(still_waiting) - 1
    )
    [held] = holding(sessions, room)
    assert str(held.id) == final[winner]["result"]["booking_id"]
    assert str(held.request_id) == winner
    assert created_event(api, admin, str(held.id))["data"]["from_waitlist"] is True
    assert overlapping_pairs(sessions) == 0


def test_two_slots_freed_at_once_each_go_to_their_own_earliest_waiter(
    app: Flask,
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    start = future()
    first = api.confirmed_booking(user, booking_body(room, start, 60))  # S1
    second = api.confirmed_booking(other_user, booking_body(room, start + timedelta(hours=1), 60))
    waiters = users(api, 7, "w")
    windows: list[tuple[str, datetime, int]] = [("both", start + timedelta(minutes=30), 60)]
    for i in range(3):  # interleaved: S1, S2, S1, S2, ...
        windows.append(("S1", start + timedelta(minutes=5 * i), 60 - 10 * i))
        windows.append(("S2", start + timedelta(minutes=60 + 5 * i), 60 - 10 * i))
    jobs = [
        (who, booking_body(room, at, minutes, waitlist=True))
        for who, (_, at, minutes) in zip(waiters, windows, strict=True)
    ]
    tasks = submit_all(app, jobs)
    owner = dict(zip(tasks, waiters, strict=True))
    slot = {t: name for t, (name, _, _) in zip(tasks, windows, strict=True)}
    for task_id in tasks:
        assert settled(api, owner[task_id], task_id)["status"] == "WAITLISTED"
    seq = seqs(sessions, tasks)

    def cancel(job: tuple[dict[str, str], str]) -> str:
        who, booking_id = job
        response = Api(app.test_client()).client.post(
            f"/v1/bookings/{booking_id}/cancel", json={}, headers=who
        )
        assert response.status_code == 202, response.json
        return str(response.json["task_id"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        cancels = list(pool.map(cancel, [(user, first), (other_user, second)]))

    assert api.wait_task(user, cancels[0])["status"] == "SUCCEEDED"
    assert api.wait_task(other_user, cancels[1])["status"] == "SUCCEEDED"
    final = {t: api.task(owner[t], t)["status"] for t in tasks}
    for name in ("S1", "S2"):
        mine = sorted((t for t in tasks if slot[t] == name), key=seq.__getitem__)
        assert [final[t] for t in mine] == ["SUCCEEDED", "WAITLISTED", "WAITLISTED"], (name, final)
    [spanning] = [t for t in tasks if slot[t] == "both"]
    assert final[spanning] == "WAITLISTED"  # each half went to a waiter for that half
    assert len(holding(sessions, room)) == 2
    assert overlapping_pairs(sessions) == 0


def test_the_careful_path_serves_a_waiter_accepted_in_the_same_batch_first(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    """Decided one request per savepoint (as after a refused batch): a waiter that joins
    the waitlist earlier in the batch is promoted by a cancel later in it, before a
    plain request accepted after the cancel."""
    from models.services.accept import CancelBooking

    start = future()
    first = api.confirmed_booking(user, booking_body(room, start, 60))
    waits = new_booking(booking_body(room, start, 60, title="waits", waitlist=True))
    waiter = stored(sessions, api.principal(other_user), waits)
    stored(sessions, api.principal(user), CancelBooking(uuid.UUID(first)))
    late = stored(sessions, api.principal(user), new_booking(booking_body(room, start, 60)))

    decided = decide_now(sessions, room, careful=True)

    statuses = {request_id: status for request_id, _, status, _ in decided.outcomes}
    assert statuses[waiter] == "SUCCEEDED"
    assert statuses[late] == "REJECTED"
    assert api.task(other_user, str(waiter))["status"] == "SUCCEEDED"
