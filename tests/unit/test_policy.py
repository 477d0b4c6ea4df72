"""models/domain/policy.py: a room policy's shape and the rules a window can break."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from models.domain.policy import RoomPolicy, parse_policy, refuse_by_policy
from models.errors import ValidationFailed

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # a Monday
OFFICE = {"MO": [["08:00", "12:00"], ["13:00", "18:00"]], "TU": [["08:00", "24:00"]]}


def window(hour: float, minutes: float, *, day: int = 0) -> tuple[datetime, datetime]:
    start = datetime(2027, 3, 1, tzinfo=UTC) + timedelta(days=day, hours=hour)
    return start, start + timedelta(minutes=minutes)


def refusal(policy: RoomPolicy, start: datetime, end: datetime, zone: str = "UTC") -> str | None:
    found = refuse_by_policy(policy, zone=zone, start=start, end=end, now=NOW)
    return None if found is None else found.code


def test_an_empty_policy_refuses_nothing() -> None:
    assert refusal(parse_policy({}), *window(3, 600, day=400)) is None


@pytest.mark.parametrize(
    ("key", "value", "span", "code"),
    [
        ("min_duration_minutes", 30, window(9, 15), "DURATION_OUT_OF_POLICY"),
        ("max_duration_minutes", 60, window(9, 90), "DURATION_OUT_OF_POLICY"),
        ("min_notice_minutes", 120, window(9, 30), "NOTICE_TOO_SHORT"),
        ("horizon_days", 30, window(9, 30, day=31), "BEYOND_HORIZON"),
    ],
)
def test_each_limit_refuses_past_it_and_names_itself(
    key: str, value: int, span: tuple[datetime, datetime], code: str
) -> None:
    policy = parse_policy({key: value})
    found = refuse_by_policy(policy, zone="UTC", start=span[0], end=span[1], now=NOW)
    assert found is not None and found.code == code
    assert found.as_error()["rule"] == {"name": key, "limit": value}


def test_the_limits_themselves_are_allowed() -> None:
    policy = parse_policy(
        {"min_duration_minutes": 30, "max_duration_minutes": 60, "min_notice_minutes": 60}
    )
    assert refusal(policy, *window(9, 30)) is None
    assert refusal(policy, *window(9, 60)) is None


def test_opening_hours_in_the_rooms_time_zone() -> None:
    policy = parse_policy({"opening_hours": OFFICE})
    assert refusal(policy, *window(9, 60)) is None
    assert refusal(policy, *window(11.5, 60)) == "OUTSIDE_OPENING_HOURS"  # over lunch
    assert refusal(policy, *window(7, 60)) == "OUTSIDE_OPENING_HOURS"
    assert refusal(policy, *window(9, 60, day=2)) == "OUTSIDE_OPENING_HOURS"  # Wednesday
    assert refusal(policy, *window(23, 60, day=1)) is None  # Tuesday until 24:00
    assert refusal(policy, *window(23.5, 60, day=1)) == "OUTSIDE_OPENING_HOURS"  # past it
    # 08:00 UTC is 09:00 in Berlin (winter): inside; 07:30 UTC is 08:30 there, also inside.
    assert refusal(policy, *window(7.5, 30), zone="Europe/Berlin") is None
    assert refusal(policy, *window(17, 30), zone="Europe/Berlin") == "OUTSIDE_OPENING_HOURS"


def test_opening_hours_follow_the_local_clock_across_daylight_saving() -> None:
    """09:00 local is 08:00 UTC in winter and 07:00 UTC in summer (Berlin, 2027-03-28)."""
    policy = parse_policy({"opening_hours": {"MO": [["09:00", "10:00"]]}})
    winter = datetime(2027, 3, 22, 8, 0, tzinfo=UTC)
    summer = datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    for start in (winter, summer):
        end = start + timedelta(hours=1)
        assert refuse_by_policy(policy, zone="Europe/Berlin", start=start, end=end, now=NOW) is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"max_duration_minutes": 10, "min_duration_minutes": 20}, "max_duration_minutes"),
        ({"buffer_minutes": -1}, "buffer_minutes"),
        ({"horizon_days": "30"}, "horizon_days"),
        ({"opening_hours": {"XX": [["08:00", "09:00"]]}}, "opening_hours"),
        ({"opening_hours": {"MO": [["09:00", "08:00"]]}}, "opening_hours"),
        ({"opening_hours": {"MO": [["08:00", "12:00"], ["11:00", "13:00"]]}}, "opening_hours"),
        ({"opening_hours": {"MO": [["8:00", "12:00"]]}}, "opening_hours"),
        ({"opening_hours": {"MO": "08:00-12:00"}}, "opening_hours"),
        ({"approvers": ["not-a-uuid"]}, "approvers"),
        ({"requires_approval": "yes"}, "requires_approval"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_policies_name_the_key(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_policy(data)
    assert f"policy.{field}" in raised.value.details


def test_a_patch_replaces_only_the_keys_it_names() -> None:
    approver = uuid.uuid4()
    base = parse_policy({"max_duration_minutes": 60, "approvers": [str(approver)]})
    patched = parse_policy({"max_duration_minutes": None, "buffer_minutes": 10}, base)
    assert patched.max_duration_minutes is None
    assert patched.buffer_minutes == 10
    assert patched.approvers == (approver,)
    assert parse_policy(patched.as_dict()) == patched  # its JSON form reads back the same


def test_a_ledger_keeps_its_period_totals_equal_to_a_fresh_sum() -> None:
    from models.domain.policy import Ledger

    base = datetime(2030, 1, 7, tzinfo=UTC)
    hour = timedelta(hours=1)
    day = (base, base + 24 * hour)
    ledger = Ledger([(uuid.UUID(int=1), base + hour, base + 3 * hour)])
    assert ledger.used(*day) == 2 * hour
    ledger.add(uuid.UUID(int=2), base + 23 * hour, base + 25 * hour)  # half in the day
    ledger.add(uuid.UUID(int=1), base + 2 * hour, base + 3 * hour)  # moved: replaces
    ledger.remove(uuid.UUID(int=3))  # unknown: nothing happens
    assert ledger.used(*day) == 2 * hour
    ledger.remove(uuid.UUID(int=2))
    assert ledger.used(*day) == hour
    assert Ledger((k, *v) for k, v in ledger.windows.items()).used(*day) == ledger.used(*day)
