"""Booking requests (what clients send) and bookings (what they read)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.common import Trimmed, WindowQuery
from api.schemas.rooms import iana_zone
from models.domain.rules import check_window
from models.errors import ValidationFailed
from models.tables.base import utcnow
from models.tables.bookings import BookingStatus, MeetingState


class BookingInSchema(Schema):
    room_id = fields.UUID(required=True)
    start_time = fields.AwareDateTime(required=True, format="iso")
    end_time = fields.AwareDateTime(required=True, format="iso")
    title = Trimmed(required=True, validate=validate.Length(1, 200))
    description = fields.Str(allow_none=True, validate=validate.Length(max=5000))
    # Email addresses or names: the contract does not say, so both are taken.
    attendees = fields.List(
        Trimmed(validate=validate.Length(1, 320)), validate=validate.Length(max=1000)
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


class RecurrenceSchema(Schema):
    freq = fields.Str(required=True, validate=validate.OneOf(["DAILY", "WEEKLY", "MONTHLY"]))
    interval = fields.Int(load_default=1, strict=True, validate=validate.Range(1, 366))
    count = fields.Int(strict=True, validate=validate.Range(1, 10_000))
    until = fields.AwareDateTime(format="iso")
    by_weekday = fields.List(
        fields.Str(validate=validate.OneOf(["MO", "TU", "WE", "TH", "FR", "SA", "SU"])),
        validate=validate.Length(1, 7),
    )

    @validates_schema
    def _shape(self, data: dict[str, Any], **_: Any) -> None:
        if ("count" in data) == ("until" in data):
            raise ValidationError("give exactly one of count or until", "count")
        if data.get("by_weekday") and data["freq"] != "WEEKLY":
            # The issue that specified series asks for this refusal (weekly rules only).
            raise ValidationError("by_weekday goes with WEEKLY only", "by_weekday")


class RecurringInSchema(BookingInSchema):
    recurrence = fields.Nested(RecurrenceSchema, required=True)
    timezone = fields.Str(validate=iana_zone)
    conflict_policy = fields.Str(
        load_default="all_or_nothing", validate=validate.OneOf(["all_or_nothing", "skip_conflicts"])
    )

    @validates_schema
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        """Each occurrence's window is checked when the series is expanded."""


class BatchInSchema(Schema):
    items = fields.List(fields.Dict(), required=True, validate=validate.Length(1, 1000))


class SeriesCancelInSchema(Schema):
    from_ = fields.AwareDateTime(data_key="from", format="iso")


class MeetingRoomSchema(Schema):
    id = fields.UUID()
    name = fields.Str()
    location = fields.Str(allow_none=True)
    timezone = fields.Str()


class MeetingViewSchema(MeetingSchema):
    """A meeting as anyone with its join code sees it: where and when, not what or who."""

    room = fields.Nested(MeetingRoomSchema)
    start_time = fields.AwareDateTime(format="iso")
    end_time = fields.AwareDateTime(format="iso")
