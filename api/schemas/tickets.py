"""Tickets."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import OneLine, PageQuery, Reply, Trimmed
from models.domain.booking_input import AwareTime
from models.tables.tickets import TicketStatus


class TicketInSchema(Schema):
    title = OneLine(required=True, validate=validate.Length(1, 200))
    description = Trimmed(required=True, validate=validate.Length(1, 10_000))
    room_id = fields.UUID(allow_none=True)


class TicketPatchSchema(Schema):
    status = fields.Enum(TicketStatus, by_value=True, required=True)


class TicketSchema(Reply):
    id = fields.UUID()
    created_by = fields.UUID()
    room_id = fields.UUID(allow_none=True)
    title = fields.Str()
    description = fields.Str()
    status = fields.Enum(TicketStatus, by_value=True)
    created_at = AwareTime(format="iso")
    updated_at = AwareTime(format="iso")


class TicketQuery(PageQuery):
    status = fields.Enum(TicketStatus, by_value=True)
    room_id = fields.UUID()
