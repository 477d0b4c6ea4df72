"""The task document: the state of one accepted write."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Reply, one_of
from models.domain.booking_input import AwareTime
from models.domain.states import RequestKind, RequestStatus, TaskErrorCode


class TaskErrorSchema(Reply):
    """Why a task was REJECTED (or waits, WAITLISTED), or why it FAILED."""

    code = fields.Str(validate=one_of(TaskErrorCode))
    message = fields.Str()
    conflicts = fields.List(
        fields.Dict(),
        metadata={
            "description": "the bookings in the way: {booking_id, start_time, end_time}",
            "optional": True,
        },
    )
    rule = fields.Dict(
        metadata={"description": "a policy's refusal: {name, limit}", "optional": True}
    )
    room_id = fields.UUID(
        metadata={"description": "the room that refused, of several", "optional": True}
    )
    occurrences = fields.List(
        fields.Dict(),
        metadata={"description": "a series' refused occurrences", "optional": True},
    )


class ProgressSchema(Reply):
    """Occurrences for a series, items for a batch, 1 for anything else."""

    total = fields.Int()
    done = fields.Int()
    confirmed = fields.Int()
    rejected = fields.Int()


class TaskSchema(Reply):
    task_id = fields.UUID(attribute="id")
    kind = fields.Enum(RequestKind, by_value=True)
    status = fields.Str(validate=one_of(RequestStatus))  # the document's, a plain string
    created_at = AwareTime(format="iso")
    updated_at = AwareTime(format="iso")
    result = fields.Dict(
        allow_none=True,
        metadata={"description": "what took effect: booking_id, series_id, occurrences, items…"},
    )
    error = fields.Nested(TaskErrorSchema, allow_none=True)
    progress = fields.Nested(ProgressSchema, allow_none=True)


class TaskQuery(Schema):
    wait = fields.Float(load_default=0, validate=validate.Range(0, 30))
