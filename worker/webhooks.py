"""Webhook tasks (the `webhooks` queue, `bookings webhooks`): fan events out (to
deliveries and mail), send one attempt of one delivery. Both are idempotent; the beat
sweep runs dispatch every few seconds, so a lost message or a killed sender costs
seconds, never an event. Mail is sent by worker/mail.py, in the same process."""

from __future__ import annotations

import logging
import time
import uuid

from models.domain.states import utcnow
from models.mail import sending as mail
from models.metrics import WEBHOOK_DELIVERIES, WEBHOOK_LAG, WEBHOOK_LATENCY
from models.queues import DELIVER_WEBHOOK, DISPATCH_WEBHOOKS
from models.services.dispatch import dispatch
from models.webhooks import service as webhooks
from models.webhooks.sender import encode, send, signed_headers
from models.webhooks.urls import Unresolved, UnsafeUrl, check_url
from worker.app import RETRY_OUTAGES, app
from worker.mail import start_mail_senders
from worker.publish import forget_kick
from worker.runtime import runtime

log = logging.getLogger(__name__)


@app.task(
    name=DISPATCH_WEBHOOKS,
    **RETRY_OUTAGES,
)
def dispatch_webhooks() -> int:
    """New events -> deliveries, then send tasks for what is due, fairly."""
    rt = runtime()
    forget_kick(rt.redis)  # events written from now on kick again
    settings = rt.settings
    with rt.sessions.begin() as session:
        webhooks.skip_open(
            session,
            utcnow(),
            max_attempts=settings.webhook_max_attempts,
            base_seconds=settings.webhook_retry_base_seconds,
        )
    created = 0
    while True:
        with rt.sessions.begin() as session:
            done = dispatch(session, utcnow(), mail=settings.mail_on)
        created += done.deliveries
        if not done.full:
            break
    # The new deliveries are due with the retries: sent fairly, a few per owner; each
    # send that ends takes its owner's next one (webhooks.record).
    with rt.sessions() as session:
        due = webhooks.due_deliveries(session, utcnow())
        mail_due = settings.mail_on and mail.due(session, utcnow())
    for delivery_id in due:
        deliver_webhook.delay(str(delivery_id))
    if mail_due:
        start_mail_senders()
    return created


@app.task(
    name=DELIVER_WEBHOOK,
    **RETRY_OUTAGES,
)
def deliver_webhook(delivery_id: str) -> str:
    """One attempt: claim (lease), check the URL again, sign, send, record, and schedule
    the retry. A delivery that is not due (or taken by another sender) is left alone."""
    rt = runtime()
    settings = rt.settings
    with rt.sessions.begin() as session:
        attempt = webhooks.claim(session, uuid.UUID(delivery_id), utcnow())
    if attempt is None:
        return "not due"
    if isinstance(attempt, webhooks.Held):
        # Its webhook or owner is sending (or its breaker is open): a send that ends takes
        # it next, and the sweep finds it when `until` passes in any case.
        return "held"
    status_code: int | None = None
    error: str | None = None
    final = False
    if not attempt.visible:
        error, final = "the webhook's owner may no longer see this event", True
    else:
        try:
            target = check_url(attempt.url, allow_private=settings.webhook_allow_private)
        except Unresolved as exc:
            error = str(exc)  # perhaps a passing DNS fault: retried like a failed send
        except UnsafeUrl as exc:
            error, final = f"refused: {exc}", True
        else:
            body = encode(attempt.body)
            headers = signed_headers(attempt.secret, str(attempt.event_id), utcnow(), body)
            began = time.monotonic()
            sent = send(target, headers, body)
            status_code, error = sent.status_code, sent.error
            WEBHOOK_LATENCY.observe(time.monotonic() - began)
    with rt.sessions.begin() as session:
        delay, released = webhooks.record(
            session,
            attempt,
            now=utcnow(),
            status_code=status_code,
            error=error,
            max_attempts=settings.webhook_max_attempts,
            base_seconds=settings.webhook_retry_base_seconds,
            final=final,
        )
    outcome = (
        "delivered"
        if status_code is not None and 200 <= status_code < 300
        else ("retry" if delay is not None else "failed")
    )
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
    if outcome == "delivered":
        WEBHOOK_LAG.observe((utcnow() - attempt.event_at).total_seconds())
    if delay is not None:
        deliver_webhook.apply_async((delivery_id,), countdown=delay.total_seconds())
    for held_id in released:
        deliver_webhook.delay(str(held_id))
    log.info("webhook delivery %s attempt %d: %s", delivery_id, attempt.attempt, outcome)
    return outcome
