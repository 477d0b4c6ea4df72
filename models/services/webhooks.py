"""Webhooks: subscriptions, the fan-out of outbox events to deliveries, and a delivery's
attempts (claimed with a lease, recorded after the send).

Delivery is at least once. A delivery row is claimed by pushing its `next_attempt_at` a
lease ahead and counting the attempt, in a transaction of its own; the HTTP request runs
outside any transaction; its outcome is recorded in another. A sender killed mid-send
leaves the row PENDING with its lease, and the sweep sends it again once the lease has
passed, with the same event id (`webhook-id`), so receivers deduplicate.
"""

from __future__ import annotations

import base64
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from models.domain.identity import Viewer
from models.errors import NotFound
from models.services.outbox import WEBHOOK_PING
from models.tables.webhooks import DeliveryStatus, Event, Webhook, WebhookDelivery

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
LEASE = timedelta(seconds=15)  # longer than a send may take (10 s timeout)
MAX_DELAY = timedelta(hours=6)
ERROR_EXCERPT = 200  # characters of a receiver's answer kept, at most


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def create_webhook(
    session: Session, *, owner_id: uuid.UUID, url: str, events: list[str], description: str | None
) -> Webhook:
    webhook = Webhook(
        owner_id=owner_id,
        url=url,
        events=sorted(set(events)),
        description=description,
        secret=new_secret(),
    )
    session.add(webhook)
    session.flush()
    return webhook


def visible_webhook(session: Session, webhook_id: uuid.UUID, viewer: Viewer) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or not (viewer.is_admin or webhook.owner_id == viewer.id):
        raise NotFound("no such webhook")
    return webhook


def webhook_search(viewer: Viewer) -> Select[Any]:
    stmt = select(Webhook).order_by(Webhook.created_at.desc(), Webhook.id)
    return stmt if viewer.is_admin else stmt.where(Webhook.owner_id == viewer.id)


def delivery_search(webhook_id: uuid.UUID) -> Select[WebhookDelivery, str]:
    return (
        select(WebhookDelivery, Event.type)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    )


def ping(session: Session, webhook: Webhook, now: datetime) -> uuid.UUID:
    """A webhook.ping event for this webhook alone, and its delivery (returned)."""
    event = Event(
        id=uuid.uuid4(),
        type=WEBHOOK_PING,
        user_id=webhook.owner_id,
        subject_id=webhook.id,
        data={"webhook_id": str(webhook.id)},
        created_at=now,
        dispatched_at=now,  # not fanned out: it is this webhook's only
    )
    session.add(event)
    session.flush()
    delivery = WebhookDelivery(
        webhook_id=webhook.id, event_id=event.id, next_attempt_at=now, created_at=now
    )
    session.add(delivery)
    session.flush()
    return delivery.id


def redeliver(session: Session, webhook: Webhook, delivery_id: uuid.UUID, now: datetime) -> None:
    """Send the same event (same id) again, with a fresh count of attempts."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound("no such delivery")
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.delivered_at = None
    session.flush()


# Undispatched events, oldest first, to every active webhook that wants them and may see
# them (an admin's sees all; a user's, only their own), in one statement. SKIP LOCKED:
# two dispatchers at once share the work instead of waiting.
_DISPATCH = """
WITH ev AS (
    SELECT id, type, user_id FROM events
    WHERE dispatched_at IS NULL
    ORDER BY created_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE events e SET dispatched_at = %(now)s FROM ev WHERE e.id = ev.id
)
INSERT INTO webhook_deliveries (id, webhook_id, event_id, status, attempts, next_attempt_at,
                                created_at)
SELECT gen_random_uuid(), w.id, ev.id, 'PENDING', 0, %(now)s, %(now)s
FROM ev
JOIN webhooks w ON w.active AND (w.events ? ev.type OR w.events ? '*')
JOIN users u ON u.id = w.owner_id
WHERE u.role = 'ADMIN' OR w.owner_id = ev.user_id
ON CONFLICT (webhook_id, event_id) DO NOTHING
RETURNING id
"""
DISPATCH_BATCH = 500


def dispatch(session: Session, now: datetime) -> list[uuid.UUID]:
    """Fan a batch of events out to deliveries; the new deliveries' ids."""
    rows = session.connection().exec_driver_sql(_DISPATCH, {"limit": DISPATCH_BATCH, "now": now})
    return [row[0] for row in rows]


def due_deliveries(session: Session, now: datetime, limit: int = 500) -> list[uuid.UUID]:
    """PENDING deliveries whose next attempt is due (retries, lapsed leases)."""
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Attempt:
    """A claimed delivery: what to send, where, signed with what."""

    delivery_id: uuid.UUID
    attempt: int
    url: str
    secret: str
    event_id: uuid.UUID
    event_type: str
    event_at: datetime
    body: dict[str, Any]
    visible: bool  # the webhook's owner may still see the event (checked at send time)


_CLAIM = """
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = %(lease)s
FROM webhooks w, events e, users u
WHERE d.id = %(id)s AND d.status = 'PENDING' AND d.next_attempt_at <= %(now)s
  AND w.id = d.webhook_id AND e.id = d.event_id AND u.id = w.owner_id
RETURNING d.attempts, w.url, w.secret, w.active, e.id, e.type, e.created_at, e.data,
          (u.role = 'ADMIN' OR e.user_id = w.owner_id OR e.type = 'webhook.ping')
"""


def claim(session: Session, delivery_id: uuid.UUID, now: datetime) -> Attempt | None:
    """Take the delivery for one attempt (a lease), or None if it is not due or not
    PENDING (someone else has it, or it is done)."""
    row = (
        session.connection()
        .exec_driver_sql(_CLAIM, {"id": delivery_id, "now": now, "lease": now + LEASE})
        .first()
    )
    if row is None:
        return None
    attempts, url, secret, active, event_id, event_type, event_at, data, visible = row
    body = {
        "id": str(event_id),
        "type": event_type,
        "timestamp": event_at.isoformat(),
        "data": data,
    }
    return Attempt(
        delivery_id,
        attempts,
        url,
        secret,
        event_id,
        event_type,
        event_at,
        body,
        visible and active,
    )


def retry_delay(attempt: int, base_seconds: float) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempt-1), plus up to a quarter more
    (so retries of many deliveries spread out). Jitter only lengthens the wait: with the
    defaults (30 s, 8 attempts) the last attempt comes at least 63 minutes after the
    first, so a receiver down for an hour still gets the event."""
    delay = min(base_seconds * 2 ** (attempt - 1), MAX_DELAY.total_seconds())
    return timedelta(seconds=delay * random.uniform(1.0, 1.25))  # noqa: S311 - jitter


def record(
    session: Session,
    attempt: Attempt,
    *,
    now: datetime,
    status_code: int | None,
    error: str | None,
    max_attempts: int,
    base_seconds: float,
    final: bool = False,
) -> timedelta | None:
    """Record the attempt's outcome: DELIVERED on a 2xx; else PENDING again after a
    backoff, or FAILED once the attempts are spent (or `final`). The delay, if any."""
    delivered = status_code is not None and 200 <= status_code < 300
    values: dict[str, Any] = {
        "last_status_code": status_code,
        "last_error": None if delivered else (error or "")[:ERROR_EXCERPT] or None,
    }
    delay = None
    if delivered:
        values.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif final or attempt.attempt >= max_attempts:
        values.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        delay = retry_delay(attempt.attempt, base_seconds)
        values.update(next_attempt_at=now + delay)
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == attempt.delivery_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.attempts == attempt.attempt,  # still this attempt's claim
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return delay


_BACKLOG = """
SELECT (SELECT count(*) FROM events WHERE dispatched_at IS NULL),
       (SELECT count(*) FROM webhook_deliveries WHERE status = 'PENDING')
"""


def backlog(session: Session) -> tuple[int, int]:
    """(events not yet fanned out, deliveries PENDING), for /metrics. Both counts read
    partial indexes of those rows only."""
    events, pending = session.connection().exec_driver_sql(_BACKLOG).one()
    return int(events), int(pending)
