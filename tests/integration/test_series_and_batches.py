"""Recurring series and batch jobs through the real pipeline."""

from __future__ import annotations

import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import BookingStatus
from models.locks import LOCK_DECIDE, room_lock_key
from models.tables.bookings import Booking
from models.tables.requests import BookingRequest
from tests.helpers import (
    Api,
    booking_body,
    confirmed_bookings,
    future,
    next_dst_change,
    request_count,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("worker")
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def series_body(room: str, start: datetime, minutes: int = 60, **extra) -> dict:  # type: ignore[no-untyped-def]
    recurrence = extra.pop("recurrence", {"freq": "WEEKLY", "count": 4})
    return {**booking_body(room, start, minutes), "recurrence": recurrence, **extra}


def submit_series(api: Api, who: dict[str, str], body: dict) -> dict:  # type: ignore[type-arg]
    response = api.client.post("/v1/bookings/recurring", json=body, headers=who)
    assert response.status_code == 202, response.json
    return api.wait_task(who, response.json["task_id"])


def next_weekday(weekday: int, hour: int, zone: ZoneInfo, after: datetime) -> datetime:
    day = after.astimezone(zone).date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


def test_weekly_series_keeps_nine_oclock_new_york_across_the_spring_change(
    api: Api, user: dict[str, str], make_room, sessions: sessionmaker[Session]
) -> None:
    room = make_room(timezone="America/New_York")
    start = next_dst_change(NY, spring=True)  # clocks go forward between weeks 2 and 3

    doc = submit_series(
        api, user, series_body(room, start, recurrence={"freq": "WEEKLY", "count": 3})
    )

    assert doc["status"] == "SUCCEEDED", doc
    assert doc["kind"] == "series"
    assert doc["progress"] == {"total": 3, "done": 3, "confirmed": 3, "rejected": 0}
    occurrences = doc["result"]["occurrences"]
    assert [o["status"] for o in occurrences] == ["CONFIRMED"] * 3
    rows = confirmed_bookings(sessions, room)
    assert [b.start_time.astimezone(NY).hour for b in rows] == [9, 9, 9]
    assert [b.start_time.hour for b in rows] == [14, 14, 13]  # UTC moves, local stays
    assert {b.series_id for b in rows} == {uuid.UUID(doc["result"]["series_id"])}


def test_weekly_series_in_berlin_across_the_autumn_change(
    api: Api, user: dict[str, str], make_room, sessions: sessionmaker[Session]
) -> None:
    room = make_room(timezone="Europe/Berlin")
    start = datetime(2027, 10, 20, 9, tzinfo=BERLIN)  # DST ends 2027-10-31 in Berlin

    doc = submit_series(
        api, user, series_body(room, start, recurrence={"freq": "WEEKLY", "count": 3})
    )

    assert doc["status"] == "SUCCEEDED", doc
    hours = [b.start_time.astimezone(BERLIN).hour for b in confirmed_bookings(sessions, room)]
    assert hours == [9, 9, 9]


def test_all_or_nothing_with_one_blocked_week_books_nothing(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    start = future()
    blocker = api.confirmed_booking(other_user, booking_body(room, start + timedelta(weeks=2), 30))

    doc = submit_series(api, user, series_body(room, start, conflict_policy="all_or_nothing"))

    assert doc["status"] == "REJECTED"
    assert doc["error"]["code"] == "CONFLICT"
    assert [c["booking_id"] for c in doc["error"]["conflicts"]] == [blocker]
    assert len(doc["error"]["occurrences"]) == 1
    assert [o["status"] for o in doc["result"]["occurrences"]] == ["SKIPPED"] * 4
    assert [bool(o["conflicts"]) for o in doc["result"]["occurrences"]] == [0, 0, 1, 0]
    assert [b.id for b in confirmed_bookings(sessions, room)] == [uuid.UUID(blocker)]


def test_skip_conflicts_books_the_free_weeks_and_reports_the_skipped_one(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    start = future()
    blocker = api.confirmed_booking(other_user, booking_body(room, start + timedelta(weeks=2), 30))

    doc = submit_series(api, user, series_body(room, start, conflict_policy="skip_conflicts"))

    assert doc["status"] == "SUCCEEDED"
    statuses = [o["status"] for o in doc["result"]["occurrences"]]
    assert statuses == ["CONFIRMED", "CONFIRMED", "SKIPPED", "CONFIRMED"]
    skipped = doc["result"]["occurrences"][2]
    assert skipped["conflicts"][0]["booking_id"] == blocker
    assert doc["progress"] == {"total": 4, "done": 4, "confirmed": 3, "rejected": 1}
    assert len(confirmed_bookings(sessions, room)) == 4  # 3 of the series + the blocker


def test_by_weekday_until_monthly_and_interval(api: Api, user: dict[str, str], make_room) -> None:
    start = next_weekday(0, 9, ZoneInfo("UTC"), future())
    weekdays = submit_series(
        api,
        user,
        series_body(
            make_room(),
            start,
            recurrence={
                "freq": "WEEKLY",
                "by_weekday": ["MO", "TH"],
                "until": (start + timedelta(days=13)).isoformat(),
            },
        ),
    )
    monthly = submit_series(
        api, user, series_body(make_room(), start, recurrence={"freq": "MONTHLY", "count": 3})
    )
    every_other = submit_series(
        api,
        user,
        series_body(make_room(), start, recurrence={"freq": "WEEKLY", "interval": 2, "count": 3}),
    )

    def days(doc: dict) -> list[int]:  # type: ignore[type-arg]
        return [
            (datetime.fromisoformat(o["start_time"]) - start).days
            for o in doc["result"]["occurrences"]
        ]

    assert days(weekdays) == [0, 3, 7, 10]
    assert len(monthly["result"]["occurrences"]) == 3
    assert days(every_other) == [0, 14, 28]


def test_series_validation_is_synchronous(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    cases = {
        "count": {"freq": "DAILY", "count": 501},
        "freq": {"freq": "HOURLY", "count": 2},
        "until": {"freq": "WEEKLY", "until": (future() + timedelta(days=400)).isoformat()},
        "by_weekday": {"freq": "DAILY", "count": 3, "by_weekday": ["MO"]},
    }
    for field, recurrence in cases.items():
        response = api.client.post(
            "/v1/bookings/recurring",
            headers=user,
            json=series_body(room, future(), recurrence=recurrence),
        )
        assert response.status_code == 422, (field, response.json)
        assert field in response.json["error"]["details"]["recurrence"], (field, response.json)
    assert request_count(sessions) == 0


def test_series_cancel_from_a_date(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    start = future()
    doc = submit_series(
        api, user, series_body(room, start, recurrence={"freq": "WEEKLY", "count": 5})
    )
    series_id = doc["result"]["series_id"]

    response = api.client.post(
        f"/v1/series/{series_id}/cancel",
        headers=user,
        json={"from": (start + timedelta(weeks=2)).isoformat()},
    )
    assert response.status_code == 202
    cancel = api.wait_task(user, response.json["task_id"])

    assert cancel["status"] == "SUCCEEDED", cancel
    assert len(cancel["result"]["cancelled"]) == 3
    left = confirmed_bookings(sessions, room)
    assert [b.start_time for b in left] == [start, start + timedelta(weeks=1)]


def test_two_concurrent_series_the_earlier_accepted_wins_shared_weeks(
    api: Api,
    app,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
) -> None:
    start = future()
    first = series_body(
        room, start, recurrence={"freq": "WEEKLY", "count": 6}, conflict_policy="skip_conflicts"
    )
    # Overlaps the first in weeks 2..5 (every week, 30 minutes later).
    second = series_body(
        room,
        start + timedelta(weeks=2, minutes=30),
        recurrence={"freq": "WEEKLY", "count": 6},
        conflict_policy="skip_conflicts",
    )

    def post(args):  # type: ignore[no-untyped-def]
        who, body = args
        response = Api(app.test_client()).client.post(
            "/v1/bookings/recurring", json=body, headers=who
        )
        assert response.status_code == 202
        return who, response.json["task_id"]

    with ThreadPoolExecutor(2) as pool:
        submitted = list(pool.map(post, [(user, first), (other_user, second)]))
    with sessions() as session:
        seqs = {str(r.id): r.seq for r in session.scalars(select(BookingRequest))}
    (early_who, early), (late_who, late) = sorted(submitted, key=lambda s: seqs[s[1]])
    early_doc, late_doc = api.wait_task(early_who, early), api.wait_task(late_who, late)

    early_statuses = [o["status"] for o in early_doc["result"]["occurrences"]]
    late_statuses = [o["status"] for o in late_doc["result"]["occurrences"]]
    assert early_statuses == ["CONFIRMED"] * 6
    # The two share four weeks: the first series' weeks 2-5 meet the second's weeks 0-3.
    shared = ["SKIPPED"] * 4
    if late_who is other_user:  # the second series was accepted last
        assert late_statuses == shared + ["CONFIRMED"] * 2
    else:  # the first series was accepted last
        assert late_statuses == ["CONFIRMED"] * 2 + shared
    rows = confirmed_bookings(sessions, room)
    assert len(rows) == 8
    assert all(a.end_time <= b.start_time for a, b in itertools.pairwise(rows))


def test_a_batch_over_several_rooms_with_one_conflict(
    api: Api, user: dict[str, str], make_room, sessions: sessionmaker[Session]
) -> None:
    rooms = [make_room() for _ in range(5)]
    start = future()
    items = [booking_body(rooms[i % 5], start + timedelta(hours=i // 5), 60) for i in range(210)]
    items.append(booking_body(rooms[0], start + timedelta(minutes=30), 30))  # clashes with item 0
    items.append(
        {
            **booking_body(rooms[1], start + timedelta(days=30), 60),
            "recurrence": {"freq": "DAILY", "count": 3},
        }
    )

    response = api.client.post("/v1/bookings/batch", json={"items": items}, headers=user)
    assert response.status_code == 202, response.json
    doc = api.wait_task(user, response.json["task_id"], timeout=120)

    assert doc["kind"] == "batch"
    assert doc["status"] == "SUCCEEDED", doc["progress"]
    assert doc["progress"] == {"total": 212, "done": 212, "confirmed": 211, "rejected": 1}
    results = doc["result"]["items"]
    assert [r["index"] for r in results] == list(range(212))
    assert results[210]["status"] == "REJECTED"
    item = api.task(user, results[210]["task_id"])
    assert item["error"]["code"] == "CONFLICT"
    assert api.task(user, results[211]["task_id"])["kind"] == "series"
    with sessions() as session:
        total = session.scalar(
            select(func.count()).where(Booking.status == BookingStatus.CONFIRMED)
        )
    assert total == 210 + 3


def test_a_batch_with_a_bad_item_queues_nothing(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    good = booking_body(room, future())
    bad_time = {**booking_body(room, future(2)), "end_time": future(1).isoformat()}
    unknown_room = booking_body("00000000-0000-4000-8000-000000000000", future(3))

    response = api.client.post(
        "/v1/bookings/batch", headers=user, json={"items": [good, bad_time, unknown_room]}
    )

    assert response.status_code == 422
    details = response.json["error"]["details"]["items"]
    assert set(details) == {"1", "2"}
    assert "end_time" in details["1"]
    assert "room_id" in details["2"]
    assert request_count(sessions) == 0
    assert (
        api.client.post("/v1/bookings/batch", json={"items": []}, headers=user).status_code == 422
    )


def test_batch_progress_rises_while_it_runs(
    api: Api, user: dict[str, str], make_room, sessions: sessionmaker[Session]
) -> None:
    rooms = [make_room() for _ in range(4)]
    start = future()
    items = [booking_body(rooms[i % 4], start + timedelta(hours=i // 4), 60) for i in range(40)]
    with sessions.begin() as session:  # hold room 0's decisions back with its advisory lock
        session.execute(select(func.pg_advisory_xact_lock(LOCK_DECIDE, room_lock_key(rooms[0]))))
        response = api.client.post("/v1/bookings/batch", json={"items": items}, headers=user)
        assert response.status_code == 202
        task_id = response.json["task_id"]

        def three_rooms_done() -> dict[str, Any] | None:
            doc = api.task(user, task_id)
            return doc if doc["progress"]["done"] >= 30 else None

        midway = wait_until(three_rooms_done, 30, "the three free rooms' 30 items")
    finished = api.wait_task(user, task_id)

    assert midway["status"] == "PROCESSING"
    assert midway["progress"] == {"total": 40, "done": 30, "confirmed": 30, "rejected": 0}
    assert [i["status"] for i in midway["result"]["items"]].count("QUEUED") == 10
    assert finished["status"] == "SUCCEEDED"
    assert finished["progress"] == {"total": 40, "done": 40, "confirmed": 40, "rejected": 0}
