"""The task document: the state of one accepted write."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from models.domain.booking_input import AwareTime
from models.domain.states import RequestStatus


class TaskSchema(Schema):
    task_id = fields.UUID(attribute="id")
    kind = fields.Str(attribute="kind.value")
    status = fields.Str(metadata={"enum": [s.value for s in RequestStatus]})
    created_at = AwareTime(format="iso")
    updated_at = AwareTime(format="iso")
    result = fields.Dict(allow_none=True)
    error = fields.Dict(allow_none=True)
    progress = fields.Dict(allow_none=True)


class TaskQuery(Schema):
    wait = fields.Float(load_default=0, validate=validate.Range(0, 30))
