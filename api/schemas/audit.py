"""Audit events (admin only)."""

from __future__ import annotations

from marshmallow import Schema, fields

from api.schemas.common import WindowQuery
from models.domain.booking_input import AwareTime


class AuditEventSchema(Schema):
    id = fields.UUID()
    at = AwareTime(format="iso")
    actor_id = fields.UUID(allow_none=True)
    action = fields.Str()
    booking_id = fields.UUID(allow_none=True)
    room_id = fields.UUID(allow_none=True)
    data = fields.Dict()


class AuditQuery(WindowQuery):
    booking_id = fields.UUID()
    room_id = fields.UUID()
