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

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from models.domain.identity import Viewer
from models.errors import NotFound, ValidationFailed
from models.locks import LOCK_WEBHOOK_OWNER, owner_lock_key
from models.periodic import periodic_task
from models.queues import DISPATCH_WEBHOOKS
from models.services.outbox import WEBHOOK_PING, take_events
from models.tables.webhooks import DeliveryStatus, Event, Webhook, WebhookDelivery

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
LEASE = timedelta(seconds=15)  # longer than a send may take (10 s timeout)
MAX_DELAY = timedelta(hours=6)
ERROR_EXCERPT = 200  # characters of a receiver's answer kept, at most


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def create_webhook(
    session: Session,
    *,
    owner_id: uuid.UUID,
    url: str,
    events: list[str],
    description: str | None,
    max_per_user: int,
) -> Webhook:
    """A new webhook, unless the owner has `max_per_user` already (a 422, counted under
    the owner's lock, so two at once cannot both be the last one)."""
    _lock_owner(session, owner_id)
    mine = session.scalar(select(func.count()).where(Webhook.owner_id == owner_id))
    if (mine or 0) >= max_per_user:
        raise ValidationFailed(
            f"at most {max_per_user} webhooks per user (WEBHOOK_MAX_PER_USER); delete one first",
            details={"url": [f"you have {mine} webhooks, the most allowed"]},
        )
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


def _lock_owner(session: Session, owner_id: uuid.UUID) -> None:
    """The owner's webhook lock, to the end of the transaction: one claim, release or new
    webhook of one owner at a time."""
    session.execute(
        select(func.pg_advisory_xact_lock(LOCK_WEBHOOK_OWNER, owner_lock_key(owner_id)))
    )


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
    """A webhook.ping event for this webhook alone, and its delivery (returned). It is
    the breaker's trial at once: a user who fixed their receiver pings to see it work."""
    webhook.open_until = None
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
    """Send the same event (same id) again, with a fresh count of attempts (and, if the
    webhook's breaker is open, as its trial now)."""
    webhook.open_until = None
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound("no such delivery")
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.delivered_at = None
    session.flush()


# A batch of events (models/services/outbox.take_events) to every active webhook that
# wants them and may see them (an admin's sees all; a user's, only their own), in one
# statement.
_DELIVERIES = """
INSERT INTO webhook_deliveries (id, webhook_id, event_id, status, attempts, next_attempt_at,
                                created_at)
SELECT gen_random_uuid(), w.id, ev.id, 'PENDING', 0, %(now)s, %(now)s
FROM events ev
JOIN webhooks w ON w.active AND (w.events ? ev.type OR w.events ? '*')
JOIN users u ON u.id = w.owner_id
WHERE ev.id = ANY(%(ids)s::uuid[]) AND (u.role = 'ADMIN' OR w.owner_id = ev.user_id)
ON CONFLICT (webhook_id, event_id) DO NOTHING
RETURNING id
"""
# Beat sends the dispatch (worker/webhooks.py) every SWEEP_SECONDS too: events whose
# wake-up was lost, retries that are due, leases that lapsed, breakers' skipped turns, and
# mail that is due. A run nobody took within two periods is dropped: the next one does the
# same work (so a host without `bookings webhooks` does not pile them up).
periodic_task("dispatch_webhooks", DISPATCH_WEBHOOKS, pace="sweep", expires=True)


def deliveries_for(session: Session, event_ids: list[uuid.UUID], now: datetime) -> list[uuid.UUID]:
    """The deliveries of these events (taken from the outbox); the new ones' ids."""
    if not event_ids:
        return []
    rows = session.connection().exec_driver_sql(_DELIVERIES, {"ids": event_ids, "now": now})
    return [row[0] for row in rows]


def dispatch(session: Session, now: datetime) -> list[uuid.UUID]:
    """Fan a batch of events out to webhook deliveries alone; the new deliveries' ids."""
    return deliveries_for(session, [event.id for event in take_events(session, now)], now)


# Due deliveries, fairly: per webhook its oldest one, and per owner at most the sends it
# has free (OWNER_SENDS less those in flight), skipping webhooks that are sending (their
# send's end takes the next one) or whose breaker is open.
_DUE_FAIR = """
WITH busy AS (
    SELECT owner_id, count(*) AS sending FROM webhooks
    WHERE sending_until > %(now)s GROUP BY owner_id
), firsts AS (
    SELECT d.id, d.next_attempt_at, w.owner_id
    FROM webhooks w
    CROSS JOIN LATERAL (
        SELECT id, next_attempt_at FROM webhook_deliveries
        WHERE webhook_id = w.id AND status = 'PENDING' AND next_attempt_at <= %(now)s
        ORDER BY next_attempt_at
        LIMIT 1
    ) d
    WHERE (w.open_until IS NULL OR w.open_until <= %(now)s)
      AND (w.sending_until IS NULL OR w.sending_until <= %(now)s)
), ranked AS (
    SELECT f.id, f.next_attempt_at, coalesce(b.sending, 0) AS sending,
           row_number() OVER (PARTITION BY f.owner_id ORDER BY f.next_attempt_at, f.id) AS n
    FROM firsts f LEFT JOIN busy b ON b.owner_id = f.owner_id
)
SELECT id FROM ranked WHERE n + sending <= %(sends)s
ORDER BY next_attempt_at LIMIT %(limit)s
"""


def due_deliveries(session: Session, now: datetime, limit: int = 500) -> list[uuid.UUID]:
    """PENDING deliveries to send now (new ones, retries, lapsed leases), fairly: one per
    webhook and a few per owner (the others follow as those sends end, see record)."""
    rows = session.connection().exec_driver_sql(
        _DUE_FAIR, {"now": now, "sends": OWNER_SENDS, "limit": limit}
    )
    return [row[0] for row in rows]


# Fair delivery. A receiver that hangs holds a sender thread for the whole timeout, so
# one webhook has at most one attempt in flight, and one owner at most OWNER_SENDS: a
# user with thirty hanging webhooks holds two threads, and the rest send everyone
# else's events. A delivery that finds its webhook or owner busy is *held* (no attempt
# counted) until the lease of the send in flight ends; the send that ends first takes the
# oldest held delivery of its owner at once (record), so a healthy receiver's events go
# one after another without waiting for leases. After BREAKER_FAILURES failed attempts
# in a row, the webhook's breaker opens for BREAKER_OPEN (doubling with each further
# failure, up to BREAKER_MAX): nothing is sent to it meanwhile (skip_open counts the
# skipped attempts), then one attempt, the trial, tries it again.
OWNER_SENDS = 2
BREAKER_FAILURES = 5
BREAKER_OPEN = timedelta(seconds=60)
BREAKER_MAX = timedelta(hours=1)


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
    webhook_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    lease: datetime | None = None  # the webhook's sending_until while this attempt runs


@dataclass(frozen=True)
class Held:
    """Not sent now: the delivery waits (no attempt counted) until `until`, or until a
    send of its owner ends, whichever comes first."""

    until: datetime


_DUE = """
SELECT w.id, w.owner_id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
WHERE d.id = %(id)s AND d.status = 'PENDING' AND d.next_attempt_at <= %(now)s
"""

# Read after the lock (a statement's snapshot is taken when it starts, so not in one).
_OWNER = """
SELECT id, sending_until, open_until, failures FROM webhooks
WHERE owner_id = %(owner)s AND (id = %(webhook)s OR sending_until > %(now)s)
"""

_HOLD = """
UPDATE webhook_deliveries SET next_attempt_at = %(until)s, held = true
WHERE id = %(id)s AND status = 'PENDING' AND next_attempt_at <= %(now)s
"""

# While a webhook's breaker is open, its due deliveries are not sent: each such turn is
# a skipped attempt, counted and backed off as a failed one (the log says why), so a
# delivery's life stays its retry schedule. The last attempt is never skipped: it waits
# for the breaker's trial (and fails with it, _SPENT).
_SKIP_OPEN = """
UPDATE webhook_deliveries d SET
    attempts = d.attempts + 1,
    next_attempt_at = %(now)s
        + make_interval(secs => least(%(base)s * power(2, d.attempts), %(cap)s)),
    held = false,
    last_error = 'circuit open after ' || w.failures || ' failed attempts in a row: '
        || 'not sent; the webhook is tried again at '
        || to_char(w.open_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM webhooks w
WHERE w.id = d.webhook_id AND w.open_until > %(now)s
  AND d.status = 'PENDING' AND d.next_attempt_at <= %(now)s AND d.attempts + 1 < %(max)s
"""

_SPENT = """
UPDATE webhook_deliveries SET status = 'FAILED', next_attempt_at = NULL,
    attempts = attempts + 1, held = false,
    last_error = left('its last attempt was the circuit breaker''s trial, which failed: '
        || %(why)s, 500)
WHERE webhook_id = %(webhook)s AND status = 'PENDING' AND next_attempt_at <= %(now)s
  AND attempts + 1 >= %(max)s AND id <> %(id)s
"""


def skip_open(session: Session, now: datetime, *, max_attempts: int, base_seconds: float) -> int:
    """Count a skipped attempt for every due delivery of a webhook whose breaker is open
    (not its last one); how many."""
    done = session.connection().exec_driver_sql(
        _SKIP_OPEN,
        {
            "now": now,
            "base": base_seconds,
            "cap": MAX_DELAY.total_seconds(),
            "max": max_attempts,
        },
    )
    return int(done.rowcount or 0)


_CLAIM = """
WITH claimed AS (
    UPDATE webhook_deliveries d
    SET attempts = d.attempts + 1, next_attempt_at = %(lease)s, held = false
    WHERE d.id = %(id)s AND d.status = 'PENDING' AND d.next_attempt_at <= %(now)s
    RETURNING d.attempts, d.webhook_id, d.event_id
), leased AS (
    UPDATE webhooks w SET sending_until = %(lease)s FROM claimed WHERE w.id = claimed.webhook_id
)
SELECT c.attempts, w.url, w.secret, w.active, e.id, e.type, e.created_at, e.data,
       (u.role = 'ADMIN' OR e.user_id = w.owner_id OR e.type = 'webhook.ping')
FROM claimed c
JOIN webhooks w ON w.id = c.webhook_id
JOIN events e ON e.id = c.event_id
JOIN users u ON u.id = w.owner_id
"""


def claim(session: Session, delivery_id: uuid.UUID, now: datetime) -> Attempt | Held | None:
    """Take the delivery for one attempt (a lease); Held when its webhook's breaker is
    open, its webhook has an attempt in flight or its owner OWNER_SENDS of them; None if
    it is not due or not PENDING (someone else has it, or it is done)."""
    conn = session.connection()
    due = conn.exec_driver_sql(_DUE, {"id": delivery_id, "now": now}).first()
    if due is None:
        return None
    webhook_id, owner_id = due
    # One claim per owner at a time, so two threads cannot both see a free send.
    _lock_owner(session, owner_id)
    rows = conn.exec_driver_sql(
        _OWNER, {"owner": owner_id, "webhook": webhook_id, "now": now}
    ).all()
    mine = next((row for row in rows if row[0] == webhook_id), None)
    if mine is None:
        return None  # the webhook was deleted meanwhile
    sending = [row[1] for row in rows if row[1] is not None and row[1] > now]
    if mine[2] is not None and mine[2] > now:
        # The breaker is open: left as it is; the sweep counts its skipped attempts
        # (skip_open), and its last one waits for the breaker's trial.
        return Held(mine[2])
    held: Held | None = None
    if mine[1] is not None and mine[1] > now:
        held = Held(mine[1])
    elif len(sending) >= OWNER_SENDS:
        held = Held(min(sending))
    if held is not None:
        conn.exec_driver_sql(_HOLD, {"id": delivery_id, "now": now, "until": held.until})
        return held
    lease = now + LEASE
    row = conn.exec_driver_sql(_CLAIM, {"id": delivery_id, "now": now, "lease": lease}).first()
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
        webhook_id,
        owner_id,
        lease,
    )


def retry_delay(attempt: int, base_seconds: float) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempt-1), plus up to a quarter more
    (so retries of many deliveries spread out). Jitter only lengthens the wait: with the
    defaults (30 s, 8 attempts) the last attempt comes at least 63 minutes after the
    first, so a receiver down for an hour still gets the event."""
    delay = min(base_seconds * 2 ** (attempt - 1), MAX_DELAY.total_seconds())
    return timedelta(seconds=delay * random.uniform(1.0, 1.25))  # noqa: S311 - jitter


def breaker_open(failures: int) -> timedelta | None:
    """How long the breaker stays open after `failures` failed attempts in a row."""
    if failures < BREAKER_FAILURES:
        return None
    doublings = min(failures - BREAKER_FAILURES, 10)
    return min(BREAKER_OPEN * 2**doublings, BREAKER_MAX)


_RELEASE = """
UPDATE webhook_deliveries SET next_attempt_at = %(now)s, held = false
WHERE id IN (
    SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
    WHERE w.owner_id = %(owner)s AND d.status = 'PENDING'
      AND (d.held OR d.next_attempt_at <= %(now)s)
      AND (w.open_until IS NULL OR w.open_until <= %(now)s)
      AND (w.sending_until IS NULL OR w.sending_until <= %(now)s)
    ORDER BY d.next_attempt_at, d.created_at
    LIMIT 1
    FOR UPDATE OF d SKIP LOCKED
)
RETURNING id
"""


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
) -> tuple[timedelta | None, list[uuid.UUID]]:
    """Record the attempt's outcome: DELIVERED on a 2xx; else PENDING again after a
    backoff, or FAILED once the attempts are spent (or `final`). Ends the webhook's
    lease and counts its breaker. Returns the retry's delay, if any, and the held
    or due deliveries of the owner taken next (to send now)."""
    if attempt.owner_id is not None:
        # The owner's lock first, as claims take it (then the delivery's row): the same
        # order everywhere, so a claim and a record of one delivery never wait in a
        # circle. A claim that held a delivery because this send was in flight has
        # committed before this looks for held ones, or sees it ended.
        _lock_owner(session, attempt.owner_id)
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
    if attempt.webhook_id is None or attempt.owner_id is None:
        return delay, []
    webhook = session.get(Webhook, attempt.webhook_id, with_for_update=True)
    if webhook is not None:
        if webhook.sending_until == attempt.lease:
            webhook.sending_until = None  # a later claim's lease is left alone
        sent = status_code is not None or not final  # a refusal here says nothing of it
        if delivered:
            webhook.failures, webhook.open_until = 0, None
        elif sent:
            trial = webhook.failures >= BREAKER_FAILURES  # the breaker was open before
            webhook.failures += 1
            opened = breaker_open(webhook.failures)
            webhook.open_until = now + opened if opened else None
            if opened and trial:
                # Deliveries whose last attempt waited for this trial spent it here.
                session.connection().exec_driver_sql(
                    _SPENT,
                    {
                        "webhook": webhook.id,
                        "id": attempt.delivery_id,
                        "now": now,
                        "max": max_attempts,
                        "why": (error or f"HTTP {status_code}")[:ERROR_EXCERPT],
                    },
                )
        session.flush()
    released = session.connection().exec_driver_sql(
        _RELEASE, {"owner": attempt.owner_id, "now": now}
    )
    return delay, [row[0] for row in released]


_BACKLOG = """
SELECT (SELECT count(*) FROM events WHERE dispatched_at IS NULL),
       (SELECT count(*) FROM webhook_deliveries WHERE status = 'PENDING')
"""


def backlog(session: Session) -> tuple[int, int]:
    """(events not yet fanned out, deliveries PENDING), for /metrics. Both counts read
    partial indexes of those rows only."""
    events, pending = session.connection().exec_driver_sql(_BACKLOG).one()
    return int(events), int(pending)
