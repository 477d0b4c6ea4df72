"""Webhooks: what a user registers, what they read back, and the delivery log."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from api.schemas.common import OneLine, Reply, one_of
from models.domain.booking_input import AwareTime
from models.services.outbox import EVENT_TYPES
from models.tables.webhooks import DeliveryStatus

SUBSCRIBABLE = [*EVENT_TYPES, "*"]


class WebhookInSchema(Schema):
    url = fields.Str(
        required=True,
        validate=validate.Length(1, 2000),
        metadata={"description": "https, reaching a public address (WEBHOOK_ALLOW_PRIVATE)"},
    )
    events = fields.List(
        fields.Str(validate=validate.OneOf(SUBSCRIBABLE)),
        required=True,
        validate=validate.Length(1, len(SUBSCRIBABLE)),
        metadata={"description": 'event types, or "*" for all'},
    )
    description = OneLine(allow_none=True, validate=validate.Length(max=500))

    @validates("events")
    def _distinct(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("each event type once")


class WebhookSchema(Reply):
    id = fields.UUID()
    url = fields.Str()
    events = fields.List(fields.Str(validate=one_of(tuple(SUBSCRIBABLE))))
    description = fields.Str(allow_none=True)
    active = fields.Bool()
    created_at = AwareTime(format="iso")


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.Str(metadata={"description": "whsec_…: shown only here"})


class DeliverySchema(Reply):
    id = fields.UUID()
    event_id = fields.UUID()
    event_type = fields.Str(validate=one_of(EVENT_TYPES))
    status = fields.Enum(DeliveryStatus, by_value=True)
    attempts = fields.Int()
    last_status_code = fields.Int(allow_none=True)
    last_error = fields.Str(allow_none=True)
    next_attempt_at = AwareTime(format="iso", allow_none=True)
    created_at = AwareTime(format="iso")
    delivered_at = AwareTime(format="iso", allow_none=True)


class DeliveriesQueuedSchema(Reply):
    """A delivery is queued (redeliver, ping): the log shows how it went."""

    status = fields.Str(validate=validate.OneOf(["QUEUED"]))
    deliveries_url = fields.Str(metadata={"description": "the webhook's deliveries"})
