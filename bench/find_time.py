"""The find_time scenario's world and questions (bench/run.py): 200 rooms in two buildings
and four time zones, each with opening hours (weekdays 08:00-12:00, 13:00-18:00), a
buffer, notice, horizon and a longest booking, and four bookings every weekday of one
week; GET /v1/rooms/find-time asked over that week, as a user and as an admin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOMS = 200
CAPACITY_MIN = 12  # every room here holds 12 or more, the other scenarios' rooms 10
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")
POLICY = {
    "opening_hours": {day: [["08:00", "12:00"], ["13:00", "18:00"]] for day in WEEKDAYS},
    "buffer_minutes": 10,
    "min_notice_minutes": 60,
    "horizon_days": 90,
    "max_duration_minutes": 240,
}
BOOKED = ((time(9), 60), (time(11), 30), (time(14), 60), (time(16), 60))  # local, weekdays
BATCH = 1000  # items per POST /v1/bookings/batch


def room_bodies() -> list[dict[str, Any]]:
    return [
        {
            "name": f"find-time-{i:03d}",
            "capacity": CAPACITY_MIN + i % 19,
            "building": ("North", "South")[i % 2],
            "floor": str(i % 5),
            "amenities": ["screen"] if i % 3 else ["screen", "video"],
            "timezone": ZONES[i % len(ZONES)],
            "policy": POLICY,
        }
        for i in range(ROOMS)
    ]


def monday_after(moment: datetime) -> date:
    day = moment.date() + timedelta(days=1)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def booking_batches(rooms: list[tuple[str, str]], monday: date) -> Iterator[list[dict[str, Any]]]:
    """Four bookings every weekday of the week in each room (its local times), in batches."""
    items = []
    for room_id, zone in rooms:
        for day in range(len(WEEKDAYS)):
            for clock, minutes in BOOKED:
                start = datetime.combine(monday + timedelta(days=day), clock, ZoneInfo(zone))
                items.append(
                    {
                        "room_id": room_id,
                        "start_time": start.isoformat(),
                        "end_time": (start + timedelta(minutes=minutes)).isoformat(),
                        "title": "find-time bench",
                    }
                )
    for first in range(0, len(items), BATCH):
        yield items[first : first + BATCH]


def questions(monday: date) -> list[tuple[str, str, bool]]:
    """(name, path, as the admin) of each question, over the week from Monday 00:00 UTC.
    `none_fits`: four hours fit in no room's hours that week, so every room is searched
    to the end of the week (the slowest answer)."""
    week = {
        "from": f"{monday.isoformat()}T00:00:00Z",
        "to": f"{(monday + timedelta(days=7)).isoformat()}T00:00:00Z",
    }
    every_room = {**week, "capacity_min": CAPACITY_MIN}
    asked = [
        ("an_hour", {**every_room, "duration_minutes": 60}, False),
        (
            "building_floor",
            {**week, "duration_minutes": 30, "building": "North", "floor": 2},
            False,
        ),
        ("none_fits", {**every_room, "duration_minutes": 240}, False),
        ("admin_an_hour", {**every_room, "duration_minutes": 60}, True),
    ]
    return [(name, f"/v1/rooms/find-time?{urlencode(q)}", admin) for name, q, admin in asked]
