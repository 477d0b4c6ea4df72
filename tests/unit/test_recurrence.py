"""expand_occurrences: wall-clock time across DST, rule shapes, and the limits; rule_starts:
the same rule expanded between two of its occurrences, as a calendar feed writes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from models.domain.recurrence import Occurrence, expand_occurrences, rule_starts
from models.errors import ValidationFailed

NOW = datetime(2027, 1, 4, 8, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def expand(start: datetime, minutes: int = 60, tz: str = "UTC", **rule):  # type: ignore[no-untyped-def]
    return expand_occurrences(
        start=start,
        end=start + timedelta(minutes=minutes),
        timezone=tz,
        recurrence={"interval": 1, **rule},
        now=NOW,
    )


def local_times(occurrences: list[Occurrence], zone: ZoneInfo) -> set[str]:
    return {o.start.astimezone(zone).strftime("%H:%M") for o in occurrences}


def test_weekly_in_new_york_keeps_nine_oclock_across_spring_forward() -> None:
    occurrences = expand(
        datetime(2027, 3, 1, 9, tzinfo=NY), tz="America/New_York", freq="WEEKLY", count=4
    )

    assert local_times(occurrences, NY) == {"09:00"}
    assert [o.start.hour for o in occurrences] == [14, 14, 13, 13]  # UTC moves, local stays
    assert all(o.end - o.start == timedelta(hours=1) for o in occurrences)


def test_weekly_in_berlin_keeps_local_time_across_the_autumn_change() -> None:
    occurrences = expand(
        datetime(2027, 10, 18, 9, 30, tzinfo=BERLIN), tz="Europe/Berlin", freq="WEEKLY", count=3
    )

    assert local_times(occurrences, BERLIN) == {"09:30"}
    assert [o.start.hour for o in occurrences] == [7, 7, 8]


def test_the_series_zone_decides_the_wall_clock_not_the_offset_sent() -> None:
    # 15:00Z is 10:00 in New York in January; the series stays at 10:00 New York time.
    occurrences = expand(
        datetime(2027, 3, 8, 14, tzinfo=UTC) - timedelta(days=63),
        tz="America/New_York",
        freq="WEEKLY",
        count=12,
    )
    assert local_times(occurrences, NY) == {"09:00"}


def test_by_weekday_with_until() -> None:
    occurrences = expand(
        datetime(2027, 1, 11, 9, tzinfo=UTC),
        freq="WEEKLY",
        by_weekday=["MO", "WE", "FR"],
        until=datetime(2027, 1, 22, 23, tzinfo=UTC),
    )

    assert [o.start.day for o in occurrences] == [11, 13, 15, 18, 20, 22]


def test_monthly_and_interval_two() -> None:
    monthly = expand(datetime(2027, 1, 15, 9, tzinfo=UTC), freq="MONTHLY", count=3)
    fortnightly = expand(datetime(2027, 1, 11, 9, tzinfo=UTC), freq="WEEKLY", interval=2, count=3)

    assert [(o.start.month, o.start.day) for o in monthly] == [(1, 15), (2, 15), (3, 15)]
    assert [o.start.day for o in fortnightly] == [11, 25, 8]


def test_more_than_500_occurrences_is_refused() -> None:
    assert len(expand(datetime(2027, 1, 5, 9, tzinfo=UTC), 30, freq="DAILY", count=360)) == 360
    with pytest.raises(ValidationFailed) as caught:
        expand(datetime(2027, 1, 5, 9, tzinfo=UTC), 30, freq="DAILY", count=501)
    assert "at most 500" in caught.value.details["recurrence"]["count"][0]


def test_until_or_occurrences_beyond_the_horizon_are_refused() -> None:
    start = datetime(2027, 1, 5, 9, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as caught:
        expand(start, freq="WEEKLY", until=NOW + timedelta(days=400))
    assert "until" in caught.value.details["recurrence"]
    with pytest.raises(ValidationFailed, match="365-day"):
        expand(start, freq="WEEKLY", count=60)


def test_a_bad_first_window_is_refused_like_a_single_booking() -> None:
    with pytest.raises(ValidationFailed) as caught:
        expand(NOW - timedelta(days=1), freq="DAILY", count=2)
    assert "start_time" in caught.value.details
    with pytest.raises(ValidationFailed) as caught:
        expand(datetime(2027, 1, 5, 9, tzinfo=UTC), 25 * 60, freq="DAILY", count=2)
    assert "end_time" in caught.value.details


def test_occurrences_round_trip_through_json() -> None:
    occ = expand(datetime(2027, 1, 5, 9, tzinfo=UTC), freq="DAILY", count=1)[0]
    assert Occurrence.from_json(occ.as_json()) == occ


def test_an_occurrence_stretched_past_24_hours_by_a_dst_change_is_refused() -> None:
    # 24 wall-clock hours from Saturday 03:00 cross the night the clocks go back: 25 real hours.
    start = datetime(2027, 10, 23, 3, tzinfo=BERLIN)
    with pytest.raises(ValidationFailed) as caught:
        expand(start, 24 * 60, tz="Europe/Berlin", freq="WEEKLY", count=2)
    assert "24 hours" in caught.value.details["end_time"][0]


def test_an_occurrence_in_the_spring_forward_gap_moves_forward_and_keeps_its_length() -> None:
    """Berlin skips 02:00-03:00 on 2027-03-28: 02:30-03:00 that night is 03:30-04:00."""
    occurrences = expand(
        datetime(2027, 3, 27, 2, 30, tzinfo=BERLIN),
        minutes=30,
        tz="Europe/Berlin",
        freq="DAILY",
        count=3,
    )

    gap_night = occurrences[1]
    assert gap_night.start.astimezone(BERLIN).strftime("%H:%M") == "03:30"
    assert gap_night.end.astimezone(BERLIN).strftime("%H:%M") == "04:00"
    assert all(o.end - o.start == timedelta(minutes=30) for o in occurrences)
    assert [o.start.astimezone(BERLIN).strftime("%H:%M") for o in occurrences] == [
        "02:30",
        "03:30",
        "02:30",
    ]


@pytest.mark.parametrize(
    "rule",
    [
        {"freq": "WEEKLY", "count": 6},
        {"freq": "WEEKLY", "interval": 2, "by_weekday": ["MO", "TH"], "count": 9},
        {"freq": "DAILY", "interval": 3, "count": 12},
        {"freq": "MONTHLY", "count": 5},
    ],
    ids=["weekly", "fortnightly-mo-th", "every-3-days", "monthly"],
)
def test_rule_starts_from_any_occurrence_are_the_series_own(rule: dict[str, Any]) -> None:
    """A feed's master starts at the first booking that is left (earlier ones may have
    been skipped): from any occurrence, the rule gives the series' own later starts."""
    start = datetime(2027, 3, 1, 9, tzinfo=BERLIN)  # across the March change
    series = [o.start for o in expand(start, tz="Europe/Berlin", **rule)]

    for first in range(len(series) - 1):
        starts = rule_starts(
            first=series[first], last=series[-1], timezone="Europe/Berlin", recurrence=rule
        )
        assert starts == series[first:]
    assert local_times(expand(start, tz="Europe/Berlin", **rule), BERLIN) == {"09:00"}
