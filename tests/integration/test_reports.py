"""The utilization report through HTTP against figures worked out by hand: open time from
each room's opening hours in its own zone (the whole day without them), booked time of
confirmed bookings inside it, and the check-ins, no-shows and cancellations; as JSON, as a
page with charts, and written to a file by `bookings report`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from cli.main import main
from tests.helpers import Api, assert_error, booking_body, move_booking
from worker.periodic import run_all

pytestmark = pytest.mark.usefixtures("worker")

NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")}


@dataclass
class Scene:
    day: date  # a Wednesday, D
    atlas: str  # UTC, open 09:00-17:00 (480 minutes a day), releases no-shows
    hudson: str  # Asia/Tokyo (UTC+9, no DST), no opening hours: open all day
    window: dict[str, str]  # [D 00:00Z, D+1 00:00Z)


def at(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), UTC)


def now_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.fixture
def scene(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> Scene:
    """In Atlas on D: 09-10 checked in, 11-12 cancelled, 13-14, 15:00-15:30 a no-show, and
    an admin's 18-19 outside the opening hours; in Hudson, D 14:00Z-16:00Z (23:00-01:00 in
    Tokyo, across its local midnight)."""
    day = datetime.now(UTC).date() + timedelta(days=3)
    day += timedelta(days=(2 - day.weekday()) % 7)  # the next Wednesday
    atlas = make_room(
        name="Atlas",
        timezone="UTC",
        auto_release_minutes=10,
        policy={"opening_hours": NINE_TO_FIVE},
    )
    hudson = make_room(name="Hudson", timezone="Asia/Tokyo")
    retired = make_room(name="Retired")  # inactive: in no report but its own
    assert api.client.delete(f"/v1/rooms/{retired}", headers=admin).status_code == 204

    def book(who: dict[str, str], room: str, start: str, minutes: int) -> str:
        return api.confirmed_booking(who, booking_body(room, at(day, start), minutes))

    checked_in = book(user, atlas, "09:00", 60)
    cancelled = book(user, atlas, "11:00", 60)
    book(user, atlas, "13:00", 60)
    no_show = book(user, atlas, "15:00", 30)
    book(admin, atlas, "18:00", 60)  # an admin is not held to the opening hours
    book(user, hudson, "14:00", 120)

    api.cancel(user, cancelled)
    # Under way now: checked in, then back to D.
    now = now_minute()
    move_booking(sessions, checked_in, now - timedelta(minutes=5), now + timedelta(minutes=55))
    assert api.client.post(f"/v1/bookings/{checked_in}/check-in", headers=user).status_code == 200
    move_booking(sessions, checked_in, at(day, "09:00"), at(day, "10:00"))
    # Started 20 minutes ago, unchecked: released by the periodic job, then back to D.
    move_booking(sessions, no_show, now - timedelta(minutes=20), now + timedelta(minutes=10))
    assert run_all()["release_no_shows"] == "1 row(s)"
    move_booking(sessions, no_show, at(day, "15:00"), at(day, "15:30"))

    window = {"from": f"{day}T00:00:00Z", "to": f"{day + timedelta(days=1)}T00:00:00Z"}
    return Scene(day, atlas, hudson, window)


def report(api: Api, admin: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    answer = api.client.get("/v1/reports/utilization", query_string=query, headers=admin)
    assert answer.status_code == 200, answer.json
    assert set(answer.json) == {"items"}
    return answer.json["items"]  # type: ignore[no-any-return]


def usage(
    booked: int,
    open_: int,
    utilization: float,
    bookings: int = 0,
    checked_in: int = 0,
    no_shows: int = 0,
    cancelled: int = 0,
) -> dict[str, Any]:
    return {
        "booked_minutes": booked,
        "open_minutes": open_,
        "utilization": utilization,
        "bookings": bookings,
        "checked_in": checked_in,
        "no_shows": no_shows,
        "cancelled": cancelled,
    }


def test_utilization_per_room_day_and_week_as_worked_out_by_hand(
    api: Api, admin: dict[str, str], scene: Scene
) -> None:
    by_room = report(api, admin, **scene.window)

    # Atlas: two 60-minute bookings inside an 8-hour day (the 18:00 one lies outside it,
    # but is a booking): 120 / 480. Hudson: 120 minutes of a 24-hour window.
    assert {item.pop("room_id"): item for item in by_room} == {
        scene.atlas: usage(120, 480, 0.25, 3, 1, 1, 1),
        scene.hudson: usage(120, 1440, 0.0833, 1),
    }

    by_day = report(api, admin, **scene.window, group_by="day")

    # Each room's local day: Hudson's window is D 09:00-24:00 and D+1 00:00-09:00 in Tokyo,
    # its booking 60 minutes on each, counted on D where it starts.
    next_day = scene.day + timedelta(days=1)
    assert by_day == [
        {"day": str(scene.day), **usage(180, 480 + 900, 0.1304, 4, 1, 1, 1)},
        {"day": str(next_day), **usage(60, 540, 0.1111)},
    ]

    by_week = report(api, admin, **scene.window, group_by="week")

    monday = scene.day - timedelta(days=2)
    assert by_week == [{"week": str(monday), **usage(240, 1920, 0.125, 4, 1, 1, 1)}]


def test_a_report_of_one_room_or_one_building(
    api: Api, admin: dict[str, str], scene: Scene
) -> None:
    patched = api.client.patch(
        f"/v1/rooms/{scene.atlas}", json={"building": "North"}, headers=admin
    )
    assert patched.status_code == 200, patched.json

    assert [i["room_id"] for i in report(api, admin, **scene.window, building="north")] == [
        scene.atlas
    ]
    only = report(api, admin, **scene.window, room_id=scene.hudson, group_by="day")
    assert [(i["day"], i["booked_minutes"]) for i in only] == [
        (str(scene.day), 60),
        (str(scene.day + timedelta(days=1)), 60),
    ]
    assert report(api, admin, **scene.window, building="South") == []


def test_bad_windows_groupings_and_callers_are_refused(
    api: Api, admin: dict[str, str], user: dict[str, str], room: str
) -> None:
    start = now_minute()
    window = {"from": start.isoformat(), "to": (start + timedelta(days=7)).isoformat()}
    for path in ("/v1/reports/utilization", "/reports/utilization"):

        def get(who: dict[str, str], path: str = path, **query: Any) -> Any:
            return api.client.get(path, query_string=query, headers=who)

        assert get(admin, **window).status_code == 200
        assert "to" in assert_error(get(admin, **{**window, "to": window["from"]}), 422)["details"]
        too_long = (start + timedelta(days=401)).isoformat()
        assert "400 days" in str(assert_error(get(admin, **{**window, "to": too_long}), 422))
        assert "from" in assert_error(get(admin, to=window["to"]), 422)["details"]
        assert_error(get(admin, **window, room_id="9" * 8 + "-1111-2222-3333-444444444444"), 404)
        assert_error(get(user, **window), 403)
        assert_error(get({}, **window), 401)
    by_month = {**window, "group_by": "month"}
    unknown = api.client.get("/v1/reports/utilization", query_string=by_month, headers=admin)
    assert "group_by" in assert_error(unknown, 422)["details"]


def test_the_report_page_and_file_draw_both_charts(
    api: Api, admin: dict[str, str], scene: Scene, tmp_path: Path
) -> None:
    answer = api.client.get("/reports/utilization", query_string=scene.window, headers=admin)

    assert answer.status_code == 200 and answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    assert page.count('class="pygal-chart"') == 2  # per room (bars), per day (a line)
    assert "Utilization per room" in page and "Utilization per day" in page
    rows = re.findall(r"<tr>\s*<td>(\w+)</td>(.*?)</tr>", page, re.DOTALL)
    cells = {name: re.findall(r"<td>([^<]*)</td>", rest) for name, rest in rows}
    assert cells == {
        "Atlas": ["2.0", "8.0", "25.0%", "3", "1", "1", "1"],
        "Hudson": ["2.0", "24.0", "8.3%", "1", "0", "0", "0"],
    }
    assert not re.search(r"<(script|img|link)\b|\b(src|href)=", page)
    policy = answer.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-") and "unsafe" not in policy

    out = tmp_path / "report.html"
    window = ["--from", scene.window["from"], "--to", scene.window["to"]]
    written = CliRunner().invoke(main, ["report", *window, "--out", str(out)])

    assert written.exit_code == 0, written.output
    assert f"wrote {out}" in written.output
    saved = out.read_text()
    assert saved.count('class="pygal-chart"') == 2 and "<td>25.0%</td>" in saved
    backwards = ["--from", scene.window["to"], "--to", scene.window["from"]]
    refused = CliRunner().invoke(main, ["report", *backwards, "--out", str(out)])
    assert refused.exit_code == 2 and "--to: must be after from" in refused.output
