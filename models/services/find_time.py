"""Find a time (GET /v1/rooms/find-time) in two statements and a pure search.

1. The matching rooms: id, time zone, policy (its JSON text, parsed once per text).
2. Each room's free spans, in one query over ranges: [low, high) minus its PENDING and
   CONFIRMED bookings widened by its buffer and minus its closures (range_agg, then a
   multirange difference), keeping only spans `duration` long or more: a shorter one
   holds no window, whatever the hours. Set algebra is what Postgres does fast; the
   database sends a few long spans per room instead of every booking.
3. models/domain/free_windows.py fits windows into those spans and the rooms' opening
   hours (in each room's time zone, the way the decider reads them), with notice,
   horizon and duration for the caller.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Text, cast, text
from sqlalchemy.orm import Session

from models.domain.free_windows import FreeWindow, RoomTimes, earliest_windows
from models.domain.identity import Viewer
from models.domain.policy import RoomPolicy, stored_policy
from models.domain.rules import HORIZON, MAX_DURATION
from models.services.room_catalog import room_search
from models.tables.rooms import Room

# :rooms and :buffers are parallel arrays; the bookings' index is (room_id, start_time),
# bounded below by the longest booking (MAX_DURATION) as everywhere else.
FREE_SPANS = text(
    """
WITH asked(room_id, buffer) AS (
    SELECT * FROM unnest(CAST(:rooms AS uuid[]), CAST(:buffers AS interval[]))
), blocked(room_id, span) AS (
    SELECT b.room_id, tstzrange(b.start_time - a.buffer, b.end_time + a.buffer)
      FROM asked a JOIN bookings b ON b.room_id = a.room_id
     WHERE b.status IN ('PENDING', 'CONFIRMED')
       AND b.start_time < CAST(:high AS timestamptz) + a.buffer
       AND b.start_time > CAST(:low AS timestamptz) - a.buffer - CAST(:longest AS interval)
       AND b.end_time > CAST(:low AS timestamptz) - a.buffer
    UNION ALL
    SELECT c.room_id, tstzrange(c.start_time, c.end_time)
      FROM room_closures c
     WHERE c.room_id = ANY(CAST(:rooms AS uuid[]))
       AND c.start_time < :high AND c.end_time > :low
), busy(room_id, spans) AS (
    SELECT room_id, range_agg(span) FROM blocked GROUP BY room_id
), free(room_id, span) AS (
    SELECT a.room_id, unnest(tstzmultirange(tstzrange(:low, :high))
                             - coalesce(busy.spans, '{}'::tstzmultirange))
      FROM asked a LEFT JOIN busy USING (room_id)
)
SELECT room_id, array_agg(lower(span) ORDER BY lower(span)),
       array_agg(upper(span) ORDER BY lower(span))
  FROM free
 WHERE upper(span) - lower(span) >= CAST(:duration AS interval)
 GROUP BY room_id
"""
)


def free_windows(
    session: Session,
    *,
    caller: Viewer,
    duration: timedelta,
    start: datetime,
    end: datetime,
    now: datetime,
    limit: int,
    capacity_min: int | None = None,
    amenities: list[str] | None = None,
    building: str | None = None,
    floor: str | None = None,
) -> list[FreeWindow]:
    """The earliest free windows of `duration` in [start, end) across the active rooms
    matching the filters, for this caller (admins and a room's approvers are exempt
    from its policy, as the decider holds them)."""
    low, high = max(start, now), min(end, now + HORIZON + duration)
    if high - low < duration:
        return []  # no window fits (and nothing out of range is sent to the database)
    matching = room_search(
        capacity_min=capacity_min, amenities=amenities, building=building, floor=floor
    ).with_only_columns(Room.id, Room.timezone, cast(Room.policy, Text))
    rooms = [
        (room_id, zone, _policy(stored)) for room_id, zone, stored in session.execute(matching)
    ]
    if not rooms:
        return []
    spans = session.execute(
        FREE_SPANS,
        {
            "rooms": [room_id for room_id, _, _ in rooms],
            "buffers": [policy.buffer for _, _, policy in rooms],
            "low": low,
            "high": high,
            "longest": MAX_DURATION,
            "duration": duration,
        },
    )
    free = {room_id: list(zip(starts, ends, strict=True)) for room_id, starts, ends in spans}
    return earliest_windows(
        (
            RoomTimes(
                room_id,
                zone,
                policy,
                free.get(room_id, ()),
                exempt=caller.is_admin or caller.id in policy.approvers,
            )
            for room_id, zone, policy in rooms
            if room_id in free
        ),
        duration=duration,
        start=start,
        end=end,
        now=now,
        limit=limit,
    )


_POLICIES: dict[str, RoomPolicy] = {}  # by the stored JSON's text: rooms share a few


def _policy(stored: str) -> RoomPolicy:
    """A stored policy, parsed once per distinct text (parsing each row's JSON would
    cost more than the search itself)."""
    policy = _POLICIES.get(stored)
    if policy is None:
        if len(_POLICIES) > 1000:
            _POLICIES.clear()
        policy = _POLICIES[stored] = stored_policy(json.loads(stored))
    return policy
