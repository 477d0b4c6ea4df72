"""The utilization report as a page: a bar per room, a line over the days, and a table.
Served by GET /reports/utilization and written to a file by `bookings report`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.pages import render_page
from api.pages.charts import utilization_by_day, utilization_by_room
from models.services import reports
from models.services.reports import GroupBy, Usage


@dataclass(frozen=True)
class RoomLine:
    name: str
    usage: Usage


def report_page(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    room_id: uuid.UUID | None = None,
    building: str | None = None,
    made: datetime,
) -> str:
    """The page for [start, end) over the rooms the filters choose."""
    by_room, by_day = (
        reports.utilization(
            session, start=start, end=end, group_by=group, room_id=room_id, building=building
        )
        for group in (GroupBy.ROOM, GroupBy.DAY)
    )
    names = reports.room_names(session, [u.room_id for u in by_room if u.room_id])
    rooms = sorted(
        (RoomLine(names.get(u.room_id, "?") if u.room_id else "?", u) for u in by_room),
        key=lambda row: row.name.lower(),
    )
    return render_page(
        "report.html",
        start=_shown(start),
        end=_shown(end),
        made=_shown(made),
        rooms=rooms,
        by_room=utilization_by_room(
            [row.name for row in rooms], [row.usage.utilization for row in rooms]
        ),
        by_day=utilization_by_day(
            [u.day.isoformat() for u in by_day if u.day], [u.utilization for u in by_day]
        ),
    )


def _shown(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
