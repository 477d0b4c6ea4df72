"""A room's booking policy (issue 11): what it says, whether it is valid, what it refuses.

Pure rules, like models/domain/rules.py: no database, no clock but the `now` given.
The keys are the contract's (`policy` in docs/api.md, "Room policies"); every key
is optional and None means no limit. This module holds the policy's shape, the rules a
window breaks on its own (duration, notice, horizon, opening hours) and the quotas
(given the requester's other bookings); the engine (models/domain/engine/) applies
them with buffers, closures and approval to every occurrence it decides.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from models.domain.rules import Refusal
from models.errors import ValidationFailed

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
INTEGER_KEYS = (
    "min_duration_minutes",
    "max_duration_minutes",
    "min_notice_minutes",
    "horizon_days",
    "buffer_minutes",
    "max_minutes_per_user_per_day",
    "max_minutes_per_user_per_week",
)
KEYS = (*INTEGER_KEYS, "opening_hours", "requires_approval", "approvers")
# The most each key may say: beyond these a room would refuse nothing more (a day is the
# longest booking, a week the most one can hold), and date arithmetic stays in range.
MAXIMA = {
    "min_duration_minutes": 1440,
    "max_duration_minutes": 1440,
    "min_notice_minutes": 365 * 1440,
    "horizon_days": 3650,
    "buffer_minutes": 1440,
    "max_minutes_per_user_per_day": 1440,
    "max_minutes_per_user_per_week": 10080,
}

Interval = tuple[time, time | None]  # None: midnight at the end of the day ("24:00")


@dataclass(frozen=True)
class RoomPolicy:
    min_duration_minutes: int | None = None
    max_duration_minutes: int | None = None
    min_notice_minutes: int | None = None
    horizon_days: int | None = None
    buffer_minutes: int | None = None
    # weekday -> sorted, non-overlapping local intervals; None: always open
    opening_hours: dict[str, tuple[Interval, ...]] | None = None
    max_minutes_per_user_per_day: int | None = None
    max_minutes_per_user_per_week: int | None = None
    requires_approval: bool = False
    approvers: tuple[uuid.UUID, ...] = field(default_factory=tuple)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes or 0)

    @property
    def has_quota(self) -> bool:
        return (
            self.max_minutes_per_user_per_day is not None
            or self.max_minutes_per_user_per_week is not None
        )

    def as_dict(self) -> dict[str, Any]:
        """The policy as the API shows it and the room row stores it."""
        hours = None
        if self.opening_hours is not None:
            hours = {
                day: [[_clock(start), _clock(end)] for start, end in intervals]
                for day, intervals in self.opening_hours.items()
            }
        return {
            **{key: getattr(self, key) for key in INTEGER_KEYS},
            "opening_hours": hours,
            "requires_approval": self.requires_approval,
            "approvers": [str(a) for a in self.approvers],
        }


def _clock(value: time | None) -> str:
    return "24:00" if value is None else value.strftime("%H:%M")


def parse_policy(data: Mapping[str, Any], base: RoomPolicy | None = None) -> RoomPolicy:
    """A policy from its JSON form, over `base` (a PATCH replaces the keys it names).
    ValidationFailed names every key that is wrong, as `policy.<key>`."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for key in data:
        if key not in KEYS:
            errors[f"policy.{key}"] = ["unknown policy key"]
    for key in INTEGER_KEYS:
        if key in data:
            value = data[key]
            if value is not None and (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not 0 <= value <= MAXIMA[key]
            ):
                errors[f"policy.{key}"] = [
                    f"a whole number from 0 to {MAXIMA[key]}, or null (no limit)"
                ]
            else:
                values[key] = value
    if "requires_approval" in data:
        if data["requires_approval"] is not None and not isinstance(
            data["requires_approval"], bool
        ):
            errors["policy.requires_approval"] = ["true or false, or null (false)"]
        else:
            values["requires_approval"] = bool(data["requires_approval"])  # null: no approval
    if "approvers" in data:
        approvers = _approvers(data["approvers"])
        if approvers is None:
            errors["policy.approvers"] = ["a list of user ids"]
        else:
            values["approvers"] = approvers
    if "opening_hours" in data:
        hours, problems = _opening_hours(data["opening_hours"])
        if problems:
            errors["policy.opening_hours"] = problems
        else:
            values["opening_hours"] = hours
    policy = replace(base or RoomPolicy(), **values)
    for low, high in (
        ("min_duration_minutes", "max_duration_minutes"),
        ("max_minutes_per_user_per_day", "max_minutes_per_user_per_week"),
    ):
        low_value, high_value = getattr(policy, low), getattr(policy, high)
        if low_value is not None and high_value is not None and high_value < low_value:
            errors.setdefault(f"policy.{high}", []).append(f"must not be below {low}")
    if errors:
        raise ValidationFailed("the room policy is invalid", details=errors)
    return policy


_PARSED: dict[str, RoomPolicy] = {}  # stored policies by their JSON text (few distinct)


def stored_policy(stored: Mapping[str, Any] | None) -> RoomPolicy:
    """A room's policy as the rooms table stores it (RoomPolicy.as_dict), parsed once."""
    if not stored:
        return RoomPolicy()
    key = repr(sorted(stored.items()))
    policy = _PARSED.get(key)
    if policy is None:
        if len(_PARSED) > 1000:
            _PARSED.clear()
        # A row written before MAXIMA existed may say more: read as the most allowed.
        bounded = {
            name: min(value, MAXIMA[name])
            if name in MAXIMA and isinstance(value, int) and not isinstance(value, bool)
            else value
            for name, value in stored.items()
        }
        policy = _PARSED[key] = parse_policy(bounded)
    return policy


def _approvers(value: Any) -> tuple[uuid.UUID, ...] | None:
    if value is None:
        return ()
    if not isinstance(value, list):
        return None
    try:
        return tuple(uuid.UUID(str(item)) for item in value)
    except ValueError:
        return None


def _opening_hours(value: Any) -> tuple[dict[str, tuple[Interval, ...]] | None, list[str]]:
    if value is None:
        return None, []
    if not isinstance(value, dict):
        return None, ["an object of weekdays (MO…SU) to lists of [start, end] times"]
    problems: list[str] = []
    hours: dict[str, tuple[Interval, ...]] = {}
    for day, intervals in value.items():
        if day not in WEEKDAYS:
            problems.append(f"{day!r} is not a weekday (MO, TU, WE, TH, FR, SA, SU)")
            continue
        if not isinstance(intervals, list):
            problems.append(f"{day}: a list of [start, end] times")
            continue
        parsed: list[Interval] = []
        for interval in intervals:
            window = _interval(interval)
            if window is None:
                problems.append(f"{day}: {interval!r} is not [HH:MM, HH:MM] with start < end")
            else:
                parsed.append(window)
        parsed.sort(key=lambda w: w[0])
        for (_, end), (start, _) in itertools.pairwise(parsed):
            if end is None or start < end:
                problems.append(f"{day}: intervals overlap")
                break
        hours[day] = tuple(parsed)
    return hours, problems


def _interval(value: Any) -> Interval | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    if not all(isinstance(v, str) and _CLOCK.match(v) for v in value):
        return None
    start = time.fromisoformat(value[0]) if value[0] != "24:00" else None
    end = time.fromisoformat(value[1]) if value[1] != "24:00" else None
    if start is None or (end is not None and end <= start):
        return None
    return start, end


def _refusal(code: str, message: str, key: str, limit: Any) -> Refusal:
    return Refusal(code, message, rule={"name": key, "limit": limit})


def refuse_by_policy(
    policy: RoomPolicy,
    *,
    zone: str,
    start: datetime,
    end: datetime,
    now: datetime,
    new_start: bool = True,
) -> Refusal | None:
    """The first rule of `policy` that the window breaks, or None. The window's own
    rules only: buffers, quotas and approvals need the room's state. With new_start
    False (a change that keeps the booking's start), notice and horizon are not asked
    again: the start met them when it was booked."""
    minutes = (end - start) / timedelta(minutes=1)
    if policy.min_duration_minutes is not None and minutes < policy.min_duration_minutes:
        return _refusal(
            "DURATION_OUT_OF_POLICY",
            f"bookings of this room last at least {policy.min_duration_minutes} minutes",
            "min_duration_minutes",
            policy.min_duration_minutes,
        )
    if policy.max_duration_minutes is not None and minutes > policy.max_duration_minutes:
        return _refusal(
            "DURATION_OUT_OF_POLICY",
            f"bookings of this room last at most {policy.max_duration_minutes} minutes",
            "max_duration_minutes",
            policy.max_duration_minutes,
        )
    notice = policy.min_notice_minutes
    if new_start and notice is not None and start < now + timedelta(minutes=notice):
        return _refusal(
            "NOTICE_TOO_SHORT",
            f"this room is booked at least {notice} minutes ahead",
            "min_notice_minutes",
            notice,
        )
    horizon = policy.horizon_days
    if new_start and horizon is not None and start > now + timedelta(days=horizon):
        return _refusal(
            "BEYOND_HORIZON",
            f"this room is booked at most {policy.horizon_days} days ahead",
            "horizon_days",
            policy.horizon_days,
        )
    if policy.opening_hours is not None and not _inside_opening_hours(
        policy.opening_hours, ZoneInfo(zone), start, end
    ):
        return _refusal(
            "OUTSIDE_OPENING_HOURS",
            "the booking is not inside the room's opening hours",
            "opening_hours",
            policy.as_dict()["opening_hours"],
        )
    return None


def _inside_opening_hours(
    hours: dict[str, tuple[Interval, ...]], zone: ZoneInfo, start: datetime, end: datetime
) -> bool:
    """Whether [start, end) lies inside one interval of its local day (a booking that runs
    past local midnight lies inside none: an interval ends at 24:00 at the latest)."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = WEEKDAYS[local_start.weekday()]
    day_end = datetime.combine(local_start.date() + timedelta(days=1), time(0), zone)
    for open_at, close_at in hours.get(day, ()):
        opens = datetime.combine(local_start.date(), open_at, zone)
        closes = (
            day_end if close_at is None else datetime.combine(local_start.date(), close_at, zone)
        )
        if opens <= local_start and local_end <= closes:
            return True
    return False


class Ledger:
    """One requester's PENDING and CONFIRMED windows in a room, and the time they take in
    each period a quota has asked about. A total is summed once, then kept up to date as
    windows come and go, so deciding a batch does not sum the same bookings again and
    again (a quota check stays O(periods), not O(bookings))."""

    def __init__(self, windows: Iterable[tuple[uuid.UUID, datetime, datetime]] = ()) -> None:
        self.windows: dict[uuid.UUID, tuple[datetime, datetime]] = {
            booking_id: (start, end) for booking_id, start, end in windows
        }
        self._totals: dict[tuple[datetime, datetime], timedelta] = {}

    def add(self, booking_id: uuid.UUID, start: datetime, end: datetime) -> None:
        self.remove(booking_id)
        self.windows[booking_id] = (start, end)
        for low, high in self._totals:
            self._totals[(low, high)] += _overlap(start, end, low, high)

    def remove(self, booking_id: uuid.UUID) -> None:
        window = self.windows.pop(booking_id, None)
        if window is not None:
            for low, high in self._totals:
                self._totals[(low, high)] -= _overlap(*window, low, high)

    def used(self, low: datetime, high: datetime) -> timedelta:
        """The time the windows spend in [low, high)."""
        total = self._totals.get((low, high))
        if total is None:
            total = self._totals[(low, high)] = sum(
                (_overlap(s, e, low, high) for s, e in self.windows.values()), timedelta(0)
            )
        return total


def refuse_by_quota(
    policy: RoomPolicy,
    *,
    zone: str,
    booked: Ledger,
    start: datetime,
    end: datetime,
) -> Refusal | None:
    """QUOTA_EXCEEDED when [start, end) added to the requester's `booked` windows (their
    PENDING and CONFIRMED bookings of the room) exceeds a daily or weekly quota. Days are
    the room's local calendar days and weeks ISO weeks (Monday to Sunday) there; a window
    counts the minutes it spends in each, so a 23- or 25-hour DST day is measured as it is."""
    if not policy.has_quota:
        return None
    tz = ZoneInfo(zone)
    for key, limit, periods in (
        ("max_minutes_per_user_per_day", policy.max_minutes_per_user_per_day, _days),
        ("max_minutes_per_user_per_week", policy.max_minutes_per_user_per_week, _weeks),
    ):
        if limit is None:
            continue
        for period_start, period_end in periods(tz, start, end):
            used = booked.used(period_start, period_end) + _overlap(
                start, end, period_start, period_end
            )
            if used > timedelta(minutes=limit):
                period = "day" if key.endswith("day") else "week"
                return _refusal(
                    "QUOTA_EXCEEDED",
                    f"this booking would take the requester past {limit} minutes "
                    f"in this room in one {period}",
                    key,
                    limit,
                )
    return None


def _overlap(start: datetime, end: datetime, low: datetime, high: datetime) -> timedelta:
    return max(timedelta(0), min(end, high) - max(start, low))


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def _days(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The local days [start, end) touches, as aware [midnight, next midnight) windows."""
    day, last = start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date()
    found = []
    while day <= last:
        found.append((_midnight(day, tz), _midnight(day + timedelta(days=1), tz)))
        day += timedelta(days=1)
    return found


def _weeks(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The ISO weeks (local Monday midnight to the next) that [start, end) touches."""
    first = start.astimezone(tz).date()
    monday = first - timedelta(days=first.weekday())
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    found = []
    while monday <= last:
        found.append((_midnight(monday, tz), _midnight(monday + timedelta(days=7), tz)))
        monday += timedelta(days=7)
    return found
