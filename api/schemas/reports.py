"""The utilization report: its window and filters, and its lines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_dump, post_load, validate

from api.schemas.common import OneLine, Reply
from models.domain.booking_input import AwareTime
from models.services.reports import GroupBy

LONGEST_WINDOW = timedelta(days=400)


class ReportQuery(Schema):
    """[from, to), at most 400 days; the rooms: every active one, one room, or a building's."""

    from_ = AwareTime(data_key="from", format="iso", required=True)
    to = AwareTime(format="iso", required=True, metadata={"description": "after from"})
    room_id = fields.UUID(metadata={"description": "this room only (active or not)"})
    building = OneLine(
        validate=validate.Length(1, 100),
        metadata={"description": "the rooms of this building (any case)"},
    )

    @post_load
    def _window(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        start, end = data.pop("from_"), data.pop("to")
        if end <= start:
            raise ValidationError("must be after from", "to")
        if end - start > LONGEST_WINDOW:
            raise ValidationError(f"a report covers at most {LONGEST_WINDOW.days} days", "to")
        return {**data, "start": start, "end": end}


class UtilizationQuery(ReportQuery):
    group_by = fields.Enum(
        GroupBy,
        by_value=True,
        load_default=GroupBy.ROOM,
        metadata={"description": "a line per room, per local day or per ISO week"},
    )


OPTIONAL = {"optional": True}
KEYS = ("room_id", "day", "week")  # a line has the one its grouping names


class UsageSchema(Reply):
    room_id = fields.UUID(metadata={**OPTIONAL, "description": "group_by=room"})
    day = fields.Date(metadata={**OPTIONAL, "description": "group_by=day: the rooms' local day"})
    week = fields.Date(
        metadata={**OPTIONAL, "description": "group_by=week: the Monday of the ISO week"}
    )
    booked_minutes = fields.Int(
        metadata={"description": "confirmed bookings' minutes inside the open time"}
    )
    open_minutes = fields.Int(
        metadata={"description": "opening hours in the room's zone (all day without them)"}
    )
    utilization = fields.Float(
        allow_none=True,
        metadata={"description": "booked_minutes / open_minutes; null when never open"},
    )
    bookings = fields.Int(metadata={"description": "confirmed bookings that start here"})
    checked_in = fields.Int(metadata={"description": "of those, checked in"})
    no_shows = fields.Int(metadata={"description": "released: cancelled as NO_SHOW"})
    cancelled = fields.Int(metadata={"description": "cancelled for any other reason"})

    @post_dump
    def _its_key_only(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {
            name: value for name, value in data.items() if value is not None or name not in KEYS
        }


class UtilizationSchema(Reply):
    items = fields.List(fields.Nested(UsageSchema))
