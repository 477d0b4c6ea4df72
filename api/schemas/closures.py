"""Room closures: what admins send and what everyone reads."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from api.schemas.common import Reply, WindowQuery
from models.domain.booking_input import AwareTime
from models.domain.states import utcnow

MAX_CLOSURE = timedelta(days=366)


class ClosureInSchema(Schema):
    start_time = AwareTime(required=True, format="iso")
    end_time = AwareTime(required=True, format="iso")
    reason = fields.Str(allow_none=True, validate=validate.Length(max=500))

    @validates_schema
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data["start_time"], data["end_time"]
        if end <= start:
            raise ValidationError("must be after start_time", "end_time")
        if end - start > MAX_CLOSURE:
            raise ValidationError("a closure lasts at most 366 days", "end_time")
        if end <= utcnow():
            raise ValidationError("must be in the future", "end_time")

    @post_load
    def _utc(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["start_time"] = data["start_time"].astimezone(UTC)
        data["end_time"] = data["end_time"].astimezone(UTC)
        return data


class ClosureSchema(Reply):
    id = fields.UUID()
    room_id = fields.UUID()
    start_time = AwareTime(format="iso")
    end_time = AwareTime(format="iso")
    reason = fields.Str(allow_none=True)
    created_by = fields.UUID(allow_none=True)
    created_at = AwareTime(format="iso")


class ClosureQuery(WindowQuery):
    """Closures overlapping [from, to); both optional."""
