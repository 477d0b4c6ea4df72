"""Audit events (admin only)."""

from __future__ import annotations

from marshmallow import fields

from api.schemas.common import Reply, WindowQuery, one_of
from models.domain.booking_input import AwareTime
from models.domain.lifecycle import AUDIT_ACTIONS
from models.services.booking_writes import ROOM_CLOSED_ACTION, ROOM_REOPENED_ACTION

# Every action the audit trail records: a booking's events, a room's closing and reopening.
ACTIONS = (*dict.fromkeys(AUDIT_ACTIONS.values()), ROOM_CLOSED_ACTION, ROOM_REOPENED_ACTION)


class AuditEventSchema(Reply):
    id = fields.UUID()
    at = AwareTime(format="iso")
    actor_id = fields.UUID(allow_none=True)
    action = fields.Str(validate=one_of(ACTIONS))
    booking_id = fields.UUID(allow_none=True)
    room_id = fields.UUID(allow_none=True)
    data = fields.Dict()


class AuditQuery(WindowQuery):
    booking_id = fields.UUID()
    room_id = fields.UUID()
