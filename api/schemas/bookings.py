"""Booking requests (what clients send) and bookings (what they read)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Reply, WindowQuery, one_of
from models.domain.booking_input import AwareTime
from models.domain.states import BookingStatus, MeetingState, RequestStatus, TaskErrorCode


class CancelInSchema(Schema):
    reason = fields.Str(allow_none=True, validate=validate.Length(max=500))


class MeetingSchema(Reply):
    id = fields.UUID()
    booking_id = fields.UUID()
    join_code = fields.Str()
    external_meeting_url = fields.Str(allow_none=True)
    state = fields.Enum(MeetingState, by_value=True)


class BookingSchema(Reply):
    id = fields.UUID()
    room_id = fields.UUID()
    organizer_id = fields.UUID(
        allow_none=True,
        metadata={"description": "null in a room's calendar when the booking is another's"},
    )
    booked_by = fields.UUID(
        allow_none=True, metadata={"description": "who sent the request, when not the organizer"}
    )
    group_id = fields.UUID(
        allow_none=True, metadata={"description": "the bookings one several-rooms request made"}
    )
    series_id = fields.UUID(allow_none=True)
    start_time = AwareTime(format="iso")
    end_time = AwareTime(format="iso")
    title = fields.Str(allow_none=True)
    description = fields.Str(allow_none=True)
    attendees = fields.List(fields.Str())
    status = fields.Enum(BookingStatus, by_value=True)
    cancel_reason = fields.Str(allow_none=True)
    meeting = fields.Nested(MeetingSchema, allow_none=True)
    version = fields.Int(metadata={"description": "1, then +1 with each change"})
    created_at = AwareTime(format="iso")
    updated_at = AwareTime(format="iso")


class BookingQuery(WindowQuery):
    room_id = fields.UUID()
    organizer_id = fields.UUID()
    status = fields.Enum(BookingStatus, by_value=True)


class TaskAcceptedSchema(Reply):
    task_id = fields.UUID()
    status = fields.Str(
        validate=one_of(RequestStatus), metadata={"description": "QUEUED: accepted, undecided"}
    )
    status_url = fields.Str(metadata={"description": "the task: GET it for the outcome"})


class RefusalSchema(Reply):
    code = fields.Str(validate=one_of(TaskErrorCode))
    message = fields.Str()
    rule = fields.Dict(
        metadata={
            "description": "the policy key and its limit: {name, limit}",
            "optional": True,
        }
    )
    conflicts = fields.List(
        fields.Dict(),
        metadata={
            "description": "the bookings in the way: {booking_id, start_time, end_time}",
            "optional": True,  # the contract's `conflicts?`
        },
    )


class CheckResultSchema(Reply):
    ok = fields.Bool(metadata={"description": "the worker would decide SUCCEEDED now"})
    refusals = fields.List(fields.Nested(RefusalSchema))
    occurrences = fields.List(
        fields.Dict(), metadata={"description": "a series' occurrences", "optional": True}
    )
    waitlisted = fields.Bool(
        metadata={"description": "with waitlist: it would wait (only then)", "optional": True}
    )


class BatchInSchema(Schema):
    # Each item is a booking body or a recurring one; batch_payloads validates them with
    # those schemas, item by item, so the spec says so.
    items = fields.List(
        fields.Dict(
            metadata={
                "anyOf": [
                    {"$ref": "#/components/schemas/BookingIn"},
                    {"$ref": "#/components/schemas/RecurringIn"},
                ]
            }
        ),
        required=True,
        validate=validate.Length(1, 1000),
    )


class SeriesCancelInSchema(Schema):
    from_ = AwareTime(data_key="from", format="iso")


class MeetingRoomSchema(Reply):
    id = fields.UUID()
    name = fields.Str()
    location = fields.Str(allow_none=True)
    timezone = fields.Str()


class MeetingViewSchema(MeetingSchema):
    """A meeting as anyone with its join code sees it: where and when, not what or who."""

    room = fields.Nested(MeetingRoomSchema)
    start_time = AwareTime(format="iso")
    end_time = AwareTime(format="iso")
