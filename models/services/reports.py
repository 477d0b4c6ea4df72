"""The utilization report: how much of its rooms' open time was booked, in one query.

Every room is measured day by day in its own time zone:
- open time: its opening hours on that weekday (the whole day, 23 or 25 hours on a
  daylight-saving change, when it has none), within [start, end);
- booked time: the part of each CONFIRMED booking that lies in that open time (an
  admin's booking outside the opening hours is not open time used), so utilization,
  booked / open, is between 0 and 1;
- the counts, by the local day each booking starts on, for bookings that start within
  [start, end): `bookings` (CONFIRMED), `checked_in` (of those, checked in),
  `no_shows` (released: cancelled with NO_SHOW) and `cancelled` (for any other reason).

The days are then added up per room, per day or per ISO week (its Monday). Postgres does
all of it: the opening hours come straight from the room's policy (jsonb), the zones from
its own tz database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models.services.room_catalog import get_room
from models.tables.rooms import Room


class GroupBy(Enum):
    ROOM = "room"
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class Usage:
    """One line of the report: a room, a day or a week (the others None)."""

    room_id: uuid.UUID | None
    day: date | None
    week: date | None
    booked_minutes: int
    open_minutes: int
    bookings: int
    checked_in: int
    no_shows: int
    cancelled: int

    @property
    def utilization(self) -> float | None:
        """booked / open, None when the room was never open in the window."""
        if not self.open_minutes:
            return None
        return round(self.booked_minutes / self.open_minutes, 4)


# The per-room, per-local-day figures; {key} is the grouping (KEYS), never caller text.
_DAYS = """
WITH chosen AS (
    SELECT id, timezone, policy -> 'opening_hours' AS hours
    FROM rooms
    WHERE (active OR id = CAST(:room_id AS uuid))
      AND (CAST(:room_id AS uuid) IS NULL OR id = CAST(:room_id AS uuid))
      AND (CAST(:building AS text) IS NULL OR lower(building) = lower(CAST(:building AS text)))
),
days AS (
    SELECT c.id AS room_id, c.timezone, c.hours, CAST(d AS date) AS day
    FROM chosen c
    CROSS JOIN LATERAL generate_series(
        CAST(CAST(:start AS timestamptz) AT TIME ZONE c.timezone AS date),
        CAST((CAST(:end AS timestamptz) - interval '1 microsecond') AT TIME ZONE c.timezone
             AS date),
        interval '1 day'
    ) AS d
),
spans AS (  -- each day's open intervals, as instants, cut to the window
    SELECT d.room_id, d.day,
           greatest((d.day + s.opens) AT TIME ZONE d.timezone, CAST(:start AS timestamptz)) AS lo,
           least((d.day + s.closes) AT TIME ZONE d.timezone, CAST(:end AS timestamptz)) AS hi
    FROM days d
    CROSS JOIN LATERAL (
        SELECT CAST(iv ->> 0 AS time) AS opens, CAST(iv ->> 1 AS time) AS closes
        FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(d.hours) = 'object'
                 THEN coalesce(
                     d.hours -> (ARRAY['MO','TU','WE','TH','FR','SA','SU'])
                                [CAST(extract(isodow FROM d.day) AS int)],
                     '[]')
                 ELSE '[["00:00", "24:00"]]'
            END) AS iv
    ) s
),
open_time AS (
    SELECT room_id, day, sum(extract(epoch FROM hi - lo)) AS seconds
    FROM spans WHERE hi > lo
    GROUP BY room_id, day
),
booked_time AS (
    SELECT s.room_id, s.day,
           sum(extract(epoch FROM least(b.end_time, s.hi) - greatest(b.start_time, s.lo)))
               AS seconds
    FROM spans s
    JOIN bookings b ON b.room_id = s.room_id AND b.status = 'CONFIRMED'
                   AND b.start_time < s.hi AND b.end_time > s.lo
    WHERE s.hi > s.lo
    GROUP BY s.room_id, s.day
),
counted AS (
    SELECT b.room_id, CAST(b.start_time AT TIME ZONE c.timezone AS date) AS day,
           count(*) FILTER (WHERE b.status = 'CONFIRMED') AS bookings,
           count(*) FILTER (WHERE b.status = 'CONFIRMED' AND m.checked_in_at IS NOT NULL)
               AS checked_in,
           count(*) FILTER (WHERE b.status = 'CANCELLED' AND b.cancel_reason = 'NO_SHOW')
               AS no_shows,
           count(*) FILTER (WHERE b.status = 'CANCELLED'
                            AND b.cancel_reason IS DISTINCT FROM 'NO_SHOW') AS cancelled
    FROM chosen c
    JOIN bookings b ON b.room_id = c.id
    LEFT JOIN meetings m ON m.booking_id = b.id
    WHERE b.start_time >= CAST(:start AS timestamptz) AND b.start_time < CAST(:end AS timestamptz)
    GROUP BY 1, 2
),
per_day AS (
    SELECT d.room_id, d.day,
           CAST(d.day - (CAST(extract(isodow FROM d.day) AS int) - 1) AS date) AS week,
           coalesce(o.seconds, 0) AS open_s, coalesce(t.seconds, 0) AS booked_s,
           coalesce(k.bookings, 0) AS bookings, coalesce(k.checked_in, 0) AS checked_in,
           coalesce(k.no_shows, 0) AS no_shows, coalesce(k.cancelled, 0) AS cancelled
    FROM days d
    LEFT JOIN open_time o USING (room_id, day)
    LEFT JOIN booked_time t USING (room_id, day)
    LEFT JOIN counted k USING (room_id, day)
)
SELECT {key} AS key,
       CAST(round(sum(booked_s) / 60) AS int) AS booked_minutes,
       CAST(round(sum(open_s) / 60) AS int) AS open_minutes,
       CAST(sum(bookings) AS int) AS bookings, CAST(sum(checked_in) AS int) AS checked_in,
       CAST(sum(no_shows) AS int) AS no_shows, CAST(sum(cancelled) AS int) AS cancelled
FROM per_day
GROUP BY 1
ORDER BY 1
"""
KEYS = {GroupBy.ROOM: "room_id", GroupBy.DAY: "day", GroupBy.WEEK: "week"}


def utilization(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    group_by: GroupBy = GroupBy.ROOM,
    room_id: uuid.UUID | None = None,
    building: str | None = None,
) -> list[Usage]:
    """The report over [start, end): the active rooms (and the one room_id names, active
    or not), of one building when given (in any case); a line per room, local day or ISO
    week, in order. An unknown room_id is a 404."""
    if room_id is not None:
        get_room(session, room_id)
    params = {"start": start, "end": end, "room_id": room_id, "building": building}
    rows = session.execute(text(_DAYS.format(key=KEYS[group_by])), params).all()
    return [
        Usage(
            room_id=row.key if group_by is GroupBy.ROOM else None,
            day=row.key if group_by is GroupBy.DAY else None,
            week=row.key if group_by is GroupBy.WEEK else None,
            booked_minutes=row.booked_minutes,
            open_minutes=row.open_minutes,
            bookings=row.bookings,
            checked_in=row.checked_in,
            no_shows=row.no_shows,
            cancelled=row.cancelled,
        )
        for row in rows
    ]


def room_names(session: Session, room_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each room's name, for a report's reader."""
    rows = session.execute(select(Room.id, Room.name).where(Room.id.in_(room_ids)))
    return {room_id: name for room_id, name in rows}
