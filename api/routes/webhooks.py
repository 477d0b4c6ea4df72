"""Webhooks: a user subscribes a URL to event types; deliveries are signed (Standard
Webhooks) and sent by `bookings webhooks` from the outbox."""

from __future__ import annotations

import uuid
from typing import Any

from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy import func, select

from api.context import current_user, db, services, transaction
from api.schemas.common import PageQuery, page_of
from api.schemas.webhooks import (
    DeliveriesQueuedSchema,
    DeliverySchema,
    WebhookCreatedSchema,
    WebhookInSchema,
    WebhookSchema,
)
from models.domain.states import utcnow
from models.errors import ValidationFailed
from models.pages import Page, page
from models.tables.webhooks import Webhook, WebhookDelivery
from models.webhooks import service as webhooks
from models.webhooks.urls import UnsafeUrl, check_url

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks", description="Webhooks")


def _accepted(webhook_id: uuid.UUID) -> tuple[dict[str, Any], int, dict[str, str]]:
    where = url_for("webhooks.list_deliveries", webhook_id=webhook_id)
    return {"status": "QUEUED", "deliveries_url": where}, 202, {"Location": where}


@blp.route("", methods=["POST"])
@blp.arguments(WebhookInSchema)
@blp.response(201, WebhookCreatedSchema)
def create_webhook(body: dict[str, Any]) -> Webhook:
    """Subscribe a URL to event types; the answer shows the signing secret, once."""
    try:
        check_url(body["url"], allow_private=services().settings.webhook_allow_private)
    except UnsafeUrl as exc:
        raise ValidationFailed("the webhook URL is refused", details={"url": [str(exc)]}) from exc
    with transaction() as session:
        return webhooks.create_webhook(
            session,
            owner_id=current_user().id,
            url=body["url"],
            events=body["events"],
            description=body.get("description"),
            max_per_user=services().settings.webhook_max_per_user,
        )


@blp.route("", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, page_of(WebhookSchema))
def list_webhooks(query: dict[str, Any]) -> Page[Webhook]:
    """The caller's webhooks (an admin's: everyone's), newest first."""
    stmt = webhooks.webhook_search(current_user())
    return page(db(), stmt, limit=query["limit"], offset=query["offset"])


@blp.route("/<uuid:webhook_id>", methods=["GET"])
@blp.response(200, WebhookSchema)
def get_webhook(webhook_id: uuid.UUID) -> Webhook:
    """One webhook (without its secret)."""
    return webhooks.visible_webhook(db(), webhook_id, current_user())


@blp.route("/<uuid:webhook_id>", methods=["DELETE"])
@blp.response(204)
def delete_webhook(webhook_id: uuid.UUID) -> None:
    """Unsubscribe: the webhook and its delivery log are deleted; nothing more is sent."""
    with transaction() as session:
        session.delete(webhooks.visible_webhook(session, webhook_id, current_user()))


@blp.route("/<uuid:webhook_id>/deliveries", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, page_of(DeliverySchema))
def list_deliveries(query: dict[str, Any], webhook_id: uuid.UUID) -> dict[str, Any]:
    """The webhook's deliveries, newest first."""
    session = db()
    webhooks.visible_webhook(session, webhook_id, current_user())
    stmt = webhooks.delivery_search(webhook_id)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.execute(stmt.limit(query["limit"]).offset(query["offset"])).all()
    items = [{**_columns(delivery), "event_type": kind} for delivery, kind in rows]
    return {"items": items, "total": total or 0, "limit": query["limit"], "offset": query["offset"]}


def _columns(delivery: WebhookDelivery) -> dict[str, Any]:
    return {c.key: getattr(delivery, c.key) for c in WebhookDelivery.__table__.columns}


@blp.route("/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/redeliver", methods=["POST"])
@blp.response(202, DeliveriesQueuedSchema)
def redeliver(webhook_id: uuid.UUID, delivery_id: uuid.UUID) -> Any:
    """Send the delivery's event again (the same event id), with fresh attempts."""
    with transaction() as session:
        webhook = webhooks.visible_webhook(session, webhook_id, current_user())
        webhooks.redeliver(session, webhook, delivery_id, utcnow())
    services().sender.publish_dispatch()
    return _accepted(webhook_id)


@blp.route("/<uuid:webhook_id>/ping", methods=["POST"])
@blp.response(202, DeliveriesQueuedSchema)
def ping(webhook_id: uuid.UUID) -> Any:
    """Send a webhook.ping event to this webhook."""
    with transaction() as session:
        webhook = webhooks.visible_webhook(session, webhook_id, current_user())
        webhooks.ping(session, webhook, utcnow())
    services().sender.publish_dispatch()
    return _accepted(webhook_id)
