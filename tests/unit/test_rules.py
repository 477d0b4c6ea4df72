"""The synchronous booking-window rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.domain.rules import check_window
from models.errors import ValidationFailed

NOW = datetime(2027, 1, 1, 12, tzinfo=UTC)


def errors(start: datetime, end: datetime) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        check_window(start, end, now=NOW)
    return caught.value.details


def test_a_sensible_window_passes() -> None:
    check_window(NOW + timedelta(hours=1), NOW + timedelta(hours=2), now=NOW)
    check_window(NOW + timedelta(days=365), NOW + timedelta(days=365, hours=24), now=NOW)


@pytest.mark.parametrize(
    ("start", "end", "field", "words"),
    [
        (NOW + timedelta(hours=2), NOW + timedelta(hours=1), "end_time", "after start_time"),
        (NOW + timedelta(hours=2), NOW + timedelta(hours=2), "end_time", "after start_time"),
        (NOW + timedelta(hours=1), NOW + timedelta(hours=25, seconds=1), "end_time", "24 hours"),
        (NOW - timedelta(hours=1), NOW + timedelta(hours=1), "start_time", "past"),
        (NOW + timedelta(days=366), NOW + timedelta(days=366, hours=1), "start_time", "365 days"),
    ],
)
def test_each_broken_rule_names_its_field(
    start: datetime, end: datetime, field: str, words: str
) -> None:
    details = errors(start, end)
    assert words in details[field][0]


def test_several_broken_rules_are_all_reported() -> None:
    details = errors(NOW - timedelta(hours=1), NOW - timedelta(hours=2))
    assert set(details) == {"start_time", "end_time"}
