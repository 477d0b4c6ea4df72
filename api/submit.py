"""Turning an HTTP write into an accepted request: the accept service, then 202."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from flask import g, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from api.context import current_user, db, release_db, services
from models.domain.payloads import Payload, RoomPayload
from models.errors import ValidationFailed
from models.services.accept import body_hash, find_replay, submit

MAX_IDEMPOTENCY_KEY = 255


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


def accept_write(
    payload: Payload, children: Sequence[RoomPayload] = ()
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Accept the write (one transaction), wake its rooms, answer 202."""
    svc = services()
    key = _idempotency_key()
    requester_id = current_user().id
    release_db()  # accept opens its own transaction: one connection per write
    digest = body_hash(request.method, request.path, request.get_json(silent=True)) if key else None
    accepted = submit(
        svc.sessions,
        svc.waker,
        requester_id=requester_id,
        request=payload,
        children=children,
        idempotency_key=key,
        digest=digest,
    )
    return accepted_response(accepted.request_id)


def accepted_response(task_id: uuid.UUID) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The 202 of a write; a replay answers the same (the current state is at status_url)."""
    status_url = url_for("tasks.get_task", task_id=task_id)
    body = {"task_id": task_id, "status": "QUEUED", "status_url": status_url}
    return body, 202, {"Location": status_url}


IDEMPOTENT_ENDPOINTS = {
    "bookings.create_booking",
    "bookings.create_series",
    "bookings.create_batch",
    "bookings.cancel_booking",
    "bookings.cancel_series",
    "closures.close_room",
    "approvals.approve_booking",
    "approvals.decline_booking",
}


def replay_known_write() -> ResponseReturnValue | None:
    """A write retried with its Idempotency-Key answers as it did, before any validation:
    a retry that arrives after the booking's start has passed still gets its task back."""
    if request.endpoint not in IDEMPOTENT_ENDPOINTS or "user" not in g:
        return None
    key = _idempotency_key()
    if key is None:
        return None
    digest = body_hash(request.method, request.path, request.get_json(silent=True))
    existing = find_replay(db(), current_user().id, key, digest)
    if existing is None:
        return None
    body, status, headers = accepted_response(existing.id)
    return jsonify(body), status, headers
