"""Find a time: the question (GET /v1/rooms/find-time's query) and the windows found."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.common import Reply
from models.domain.booking_input import AwareTime

LONGEST_SEARCH = timedelta(days=31)


class FindTimeQuery(Schema):
    duration_minutes = fields.Int(required=True, validate=validate.Range(5, 24 * 60))
    from_ = AwareTime(required=True, data_key="from", format="iso")
    to = AwareTime(required=True, format="iso")
    capacity_min = fields.Int(validate=validate.Range(1, 10_000))
    amenity = fields.List(fields.Str(validate=validate.Length(1, 100)))
    building = fields.Str(validate=validate.Length(1, 100))
    floor = fields.Str(validate=validate.Length(1, 100))
    limit = fields.Int(load_default=10, validate=validate.Range(1, 200), metadata={"example": 10})

    @validates_schema
    def _span(self, data: dict[str, Any], **_: Any) -> None:
        if data["to"] <= data["from_"]:
            raise ValidationError("must be after from", "to")
        if data["to"] - data["from_"] > LONGEST_SEARCH:
            raise ValidationError("at most 31 days after from", "to")


class FreeWindowSchema(Reply):
    room_id = fields.UUID()
    start_time = AwareTime(format="iso")
    end_time = AwareTime(format="iso")


class FreeWindowsSchema(Reply):
    items = fields.List(fields.Nested(FreeWindowSchema))
