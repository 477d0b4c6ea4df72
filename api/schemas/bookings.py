"""Booking requests (what clients send) and bookings (what they read)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.common import WindowQuery
from models.base import utcnow
from models.bookings import BookingStatus, MeetingState
from models.errors import ValidationFailed
from models.rules import check_window


class BookingInSchema(Schema):
    room_id = fields.UUID(required=True)
    start_time = fields.AwareDateTime(required=True, format="iso")
    end_time = fields.AwareDateTime(required=True, format="iso")
    title = fields.Str(required=True, validate=validate.Length(1, 200))
    description = fields.Str(allow_none=True, validate=validate.Length(max=5000))
    attendees = fields.List(
        fields.Email(validate=validate.Length(max=320)), validate=validate.Length(max=1000)
    )
    external_meeting_url = fields.Url(
        allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=2000)
    )

    @validates_schema
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        try:
            check_window(data["start_time"], data["end_time"], now=utcnow())
        except ValidationFailed as exc:
            raise ValidationError(exc.details) from exc


class CancelInSchema(Schema):
    reason = fields.Str(allow_none=True, validate=validate.Length(max=500))


class MeetingSchema(Schema):
    id = fields.UUID()
    booking_id = fields.UUID()
    join_code = fields.Str()
    external_meeting_url = fields.Str(allow_none=True)
    state = fields.Enum(MeetingState, by_value=True)


class BookingSchema(Schema):
    id = fields.UUID()
    room_id = fields.UUID()
    organizer_id = fields.UUID()
    series_id = fields.UUID(allow_none=True)
    start_time = fields.AwareDateTime(format="iso")
    end_time = fields.AwareDateTime(format="iso")
    title = fields.Str(allow_none=True)
    description = fields.Str(allow_none=True)
    attendees = fields.List(fields.Str())
    status = fields.Enum(BookingStatus, by_value=True)
    cancel_reason = fields.Str(allow_none=True)
    meeting = fields.Nested(MeetingSchema, allow_none=True)
    created_at = fields.AwareDateTime(format="iso")
    updated_at = fields.AwareDateTime(format="iso")


class BookingQuery(WindowQuery):
    room_id = fields.UUID()
    organizer_id = fields.UUID()
    status = fields.Enum(BookingStatus, by_value=True)


class TaskAcceptedSchema(Schema):
    task_id = fields.UUID()
    status = fields.Str()
    status_url = fields.Str()
