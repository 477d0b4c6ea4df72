"""Turning an HTTP write into an accepted request: store it, send it, answer 202."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from flask import request, url_for

from api.context import current_user, db, services
from models.acceptance import NewRequest, accept, body_hash
from models.errors import ValidationFailed
from models.metrics import ACCEPTED

MAX_IDEMPOTENCY_KEY = 255
log = logging.getLogger(__name__)


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed(
            "Idempotency-Key must be 1 to 255 characters",
            details={"Idempotency-Key": ["must be 1 to 255 characters"]},
        )
    return key


def submit(
    new: NewRequest, children: Sequence[NewRequest] = ()
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Accept the write (one transaction), then hand it to the broker; answer 202."""
    svc = services()
    key = _idempotency_key()
    requester_id = current_user().id
    db().rollback()  # hand the request's connection back: accept() takes its own
    digest = body_hash(request.method, request.path, request.get_json(silent=True)) if key else None
    accepted = accept(
        svc.sessions,
        requester_id=requester_id,
        request=new,
        children=children,
        idempotency_key=key,
        digest=digest,
    )
    if not accepted.replay:
        ACCEPTED.labels(new.kind.value).inc()
        log.info(
            "accepted %s request",
            new.kind.value,
            extra={"task_id": accepted.request_id, "room_id": new.room_id},
        )
    for room_id, request_id in accepted.to_send:
        svc.sender.send_decide(room_id, request_id)
    status_url = url_for("tasks.get_task", task_id=accepted.request_id)
    # A replay answers as the first 202 did; the task's current state is at status_url.
    body = {"task_id": accepted.request_id, "status": "QUEUED", "status_url": status_url}
    return body, 202, {"Location": status_url}
