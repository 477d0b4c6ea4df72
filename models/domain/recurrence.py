"""Expanding a recurrence rule into occurrences that keep their local wall-clock time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

from models.domain.rules import HORIZON, MAX_DURATION, MAX_OCCURRENCES, PAST_GRACE
from models.errors import ValidationFailed

FREQUENCIES: dict[str, Any] = {
    "DAILY": rrule.DAILY,
    "WEEKLY": rrule.WEEKLY,
    "MONTHLY": rrule.MONTHLY,
}
WEEKDAYS = {
    "MO": rrule.MO,
    "TU": rrule.TU,
    "WE": rrule.WE,
    "TH": rrule.TH,
    "FR": rrule.FR,
    "SA": rrule.SA,
    "SU": rrule.SU,
}


@dataclass(frozen=True)
class Occurrence:
    start: datetime  # UTC
    end: datetime  # UTC

    def as_json(self) -> list[str]:
        return [self.start.isoformat(), self.end.isoformat()]

    @classmethod
    def from_json(cls, pair: list[str]) -> Occurrence:
        return cls(datetime.fromisoformat(pair[0]), datetime.fromisoformat(pair[1]))


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time of an aware moment in the zone, as a naive datetime."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _aware(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in the zone, as UTC. A time skipped by a DST jump (02:30 on the
    spring-forward night) resolves with the offset before the jump, per PEP 495 (fold=0)
    and RFC 5545: 02:30 becomes 03:30, shifted forward by the gap's length."""
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    """False for a wall-clock time that a spring-forward jump skips."""
    return _local(_aware(wall, zone), zone) == wall


def occurrence_at(wall: datetime, duration: timedelta, zone: ZoneInfo) -> Occurrence:
    """The occurrence starting at a wall-clock time and lasting `duration` of wall time.

    An occurrence whose start falls in a DST gap moves forward by the gap's length and
    keeps its duration (RFC 5545), instead of ending before it starts.
    """
    start = _aware(wall, zone)
    if not _exists(wall, zone):
        return Occurrence(start, start + duration)
    return Occurrence(start, _aware(wall + duration, zone))


def shifted(
    occurrence: Occurrence,
    timezone: str,
    *,
    shift: timedelta = timedelta(0),
    duration: timedelta | None = None,
) -> Occurrence:
    """The occurrence moved by `shift` of wall-clock time in the zone (09:00 shifted by
    an hour is 10:00 there, whatever the date's offset), lasting `duration` of wall time
    (by default as long, on the wall clock, as it did)."""
    zone = ZoneInfo(timezone)
    wall = _local(occurrence.start, zone)
    length = duration if duration is not None else _local(occurrence.end, zone) - wall
    return occurrence_at(wall + shift, length, zone)


def expand_occurrences(
    *,
    start: datetime,
    end: datetime,
    timezone: str,
    recurrence: dict[str, Any],
    now: datetime,
) -> list[Occurrence]:
    """Every occurrence of the series, in order; ValidationFailed naming what is wrong.

    The rule runs on wall-clock time in the series' zone: 09:00 in New York stays
    09:00 in New York across daylight-saving changes, so its UTC time moves.
    """
    zone = ZoneInfo(timezone)
    first_wall, end_wall = _local(start, zone), _local(end, zone)
    duration = end_wall - first_wall
    errors: dict[str, Any] = {}
    if end <= start:
        errors["end_time"] = ["must be after start_time"]
    elif end - start > MAX_DURATION:
        errors["end_time"] = ["a booking lasts at most 24 hours"]
    if start < now - PAST_GRACE:
        errors["start_time"] = ["must not be in the past"]
    horizon = now + HORIZON
    until = recurrence.get("until")
    if until is not None and until > horizon:
        errors.setdefault("recurrence", {})["until"] = ["must be within 365 days from now"]
    if recurrence.get("count", 0) > MAX_OCCURRENCES:
        errors.setdefault("recurrence", {})["count"] = [
            f"a series has at most {MAX_OCCURRENCES} occurrences"
        ]
    if errors:
        raise ValidationFailed("invalid recurring booking", details=errors)

    rule = rrule.rrule(
        FREQUENCIES[recurrence["freq"]],
        dtstart=first_wall,
        interval=recurrence.get("interval", 1),
        count=recurrence.get("count"),
        until=_local(until, zone) if until is not None else None,
        byweekday=[WEEKDAYS[d] for d in recurrence["by_weekday"]]
        if recurrence.get("by_weekday")
        else None,
    )
    occurrences: list[Occurrence] = []
    for wall in rule:
        if len(occurrences) == MAX_OCCURRENCES:
            raise ValidationFailed(
                f"a series has at most {MAX_OCCURRENCES} occurrences",
                details={"recurrence": [f"more than {MAX_OCCURRENCES} occurrences"]},
            )
        occurrence = occurrence_at(wall, duration, zone)
        if occurrence.end - occurrence.start > MAX_DURATION:  # a DST change can stretch it
            raise ValidationFailed(
                "an occurrence would last more than 24 hours across a daylight-saving change",
                details={"end_time": [f"the occurrence of {wall:%Y-%m-%d} exceeds 24 hours"]},
            )
        if occurrence.start > horizon:
            raise ValidationFailed(
                "the series reaches beyond the 365-day horizon",
                details={"recurrence": ["occurrences must start within 365 days from now"]},
            )
        occurrences.append(occurrence)
    if not occurrences:
        raise ValidationFailed(
            "the rule yields no occurrence", details={"recurrence": ["yields no occurrence"]}
        )
    return occurrences


def rule_starts(
    *, first: datetime, last: datetime, timezone: str, recurrence: Mapping[str, Any]
) -> list[datetime]:
    """The rule's starts (UTC) from the occurrence at `first` through `last`, both
    included: what a calendar client expands an RRULE with DTSTART `first` into.

    `first` is an occurrence of the rule, so the rule's phase (the week or month it
    counts its interval from) is the series' own whichever occurrence it is. COUNT and
    UNTIL are left out: `last` bounds the expansion.
    """
    zone = ZoneInfo(timezone)
    rule = rrule.rrule(
        FREQUENCIES[recurrence["freq"]],
        dtstart=_local(first, zone),
        interval=recurrence.get("interval", 1),
        until=_local(last, zone),
        byweekday=[WEEKDAYS[d] for d in recurrence["by_weekday"]]
        if recurrence.get("by_weekday")
        else None,
    )
    return [_aware(wall, zone) for wall in rule]
