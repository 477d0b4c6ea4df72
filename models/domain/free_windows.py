"""Free windows (GET /v1/rooms/find-time): where a booking of a given length could go.

Pure, like models/domain/policy.py: no database, no clock but the `now` given. A window
is one the decider would grant the caller on its own (models/domain/engine/checks.py):
it lies in a span where nothing blocks the room (`RoomTimes.free`: no PENDING or
CONFIRMED booking widened by the room's buffer, no closure), starts no earlier than now
and within 365 days; and, unless the caller is exempt (an admin, or one of the room's
approvers), it lies inside one opening interval of its local day and meets the room's
notice, horizon and duration. Quotas are left out: they count the organizer's bookings,
which a search for free time does not know.

A room offers one window per free stretch (a free span within one opening interval), at
the stretch's earliest start; rooms are merged earliest first, a tie going to the room
given first. An opening or closing time that a clock change skips or repeats is read
the safe way (see _instant): on those two nights a window may start later than the wall
clock would allow, never earlier.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.domain.policy import WEEKDAYS, Interval, RoomPolicy
from models.domain.rules import HORIZON

Span = tuple[datetime, datetime]  # half-open [start, end)
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class RoomTimes:
    """What one room's free windows depend on."""

    room_id: uuid.UUID
    timezone: str
    policy: RoomPolicy
    free: Sequence[Span]  # nothing blocks the room there: sorted, apart from each other
    exempt: bool = False  # the caller is an admin or one of the room's approvers


@dataclass(frozen=True)
class FreeWindow:
    room_id: uuid.UUID
    start_time: datetime
    end_time: datetime


def earliest_windows(
    rooms: Iterable[RoomTimes],
    *,
    duration: timedelta,
    start: datetime,
    end: datetime,
    now: datetime,
    limit: int,
) -> list[FreeWindow]:
    """At most `limit` windows of `duration` inside [start, end), earliest first. Each
    room's windows are produced lazily, so the search stops once `limit` are found."""
    search = _Search(duration, start, end, now)
    if search.start >= search.end:
        return []
    merged = heapq.merge(*(search.windows(room) for room in rooms), key=_start)
    return list(itertools.islice(merged, limit))


def _start(window: FreeWindow) -> datetime:
    return window.start_time


def _whole_minute(moment: datetime) -> datetime:
    floor = moment.astimezone(UTC).replace(second=0, microsecond=0)
    return floor if floor == moment else floor + MINUTE


class _Search:
    """One search: its span (from no earlier than now, to no later than the 365 days a
    booking may start within), its clock, and the opening spans worked out so far: rooms
    in one time zone with the same hours (most of a building) share them."""

    def __init__(self, duration: timedelta, start: datetime, end: datetime, now: datetime):
        self.duration, self.now, self.soonest = duration, now, _whole_minute(now)
        self.start = max(start, self.soonest).astimezone(UTC)  # 10:03:27 would help nobody
        self.end = min(end, now + HORIZON + duration).astimezone(UTC)
        # (time zone, id of the hours) -> (the hours, kept so the id stays theirs, spans)
        self._opening: dict[tuple[str, int], tuple[object, list[Span]]] = {}

    def windows(self, room: RoomTimes) -> Iterator[FreeWindow]:
        """The room's windows, earliest first: one per free stretch, at its start."""
        policy, duration = room.policy, self.duration
        first, last = self.start, self.end - duration  # bounds of a window's start
        if not room.exempt:
            if not _duration_allowed(policy, duration):
                return
            if policy.min_notice_minutes is not None:
                first = max(first, self.soonest + timedelta(minutes=policy.min_notice_minutes))
            if policy.horizon_days is not None:
                last = min(last, self.now + timedelta(days=policy.horizon_days))
        if first > last:
            return
        for at in _stretches(self._open(room, first, last + duration), room.free, duration):
            if at > last:
                return
            at = at.astimezone(UTC)  # the free spans may come in another offset
            yield FreeWindow(room.room_id, at, at + duration)

    def _open(self, room: RoomTimes, first: datetime, until: datetime) -> Iterator[Span]:
        """When the room is open to the caller within [first, until), in order: each
        opening interval of each local day (a booking must lie inside one), or all of it."""
        hours = room.policy.opening_hours
        if room.exempt or hours is None:
            yield first, until
            return
        key = (room.timezone, id(hours))
        known = self._opening.get(key)
        if known is None:
            spans = [*_opening(ZoneInfo(room.timezone), hours, self.start, self.end)]
            known = self._opening[key] = (hours, spans)
        spans = known[1]
        for opens, closes in spans[bisect.bisect_right(spans, first, key=_end) :]:
            if opens >= until:
                return
            yield max(opens, first), min(closes, until)


def _end(span: Span) -> datetime:
    return span[1]


def _duration_allowed(policy: RoomPolicy, duration: timedelta) -> bool:
    minutes = duration / MINUTE
    low, high = policy.min_duration_minutes, policy.max_duration_minutes
    return (low is None or minutes >= low) and (high is None or minutes <= high)


def _opening(
    zone: ZoneInfo, hours: dict[str, tuple[Interval, ...]], start: datetime, end: datetime
) -> Iterator[Span]:
    """Every opening interval of every local day [start, end) touches, as instants."""
    day, last_day = start.astimezone(zone).date(), end.astimezone(zone).date()
    while day <= last_day:
        for open_at, close_at in hours.get(WEEKDAYS[day.weekday()], ()):
            opens = _instant(day, open_at, zone, later=True)
            closes = (
                _instant(day + timedelta(days=1), time(0), zone, later=False)
                if close_at is None
                else _instant(day, close_at, zone, later=False)
            )
            if opens < closes:
                yield opens, closes
        day += timedelta(days=1)


def _instant(day: date, clock: time, zone: ZoneInfo, *, later: bool) -> datetime:
    """A local wall-clock time as an instant. Where a clock change makes it ambiguous
    (fall back) or skips it (spring forward) there are two candidates: an opening takes
    the later and a closing the earlier, so that every instant between them reads, on
    the room's wall clock, inside the interval (as the decider compares it)."""
    wall = datetime.combine(day, clock)
    one, two = (wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    return max(one, two) if later else min(one, two)


def _stretches(
    open_spans: Iterable[Span], free: Sequence[Span], length: timedelta
) -> Iterator[datetime]:
    """Where each free stretch at least `length` long starts, in order: the overlaps of
    the open spans and the free spans (both in order, each apart from its kind). The hot
    loop of a search: plain comparisons."""
    passed, count = 0, len(free)
    for opens, closes in open_spans:
        if closes - opens < length:
            continue
        while passed < count and free[passed][1] <= opens:
            passed += 1  # ends before this span, so before every later one
        index = passed
        while index < count:
            free_start, free_end = free[index]
            if free_start >= closes:
                break
            at = free_start if free_start > opens else opens
            if (free_end if free_end < closes else closes) - at >= length:
                yield at
            index += 1
