"""Turning an HTTP write into an accepted request: the accept service, then 202."""

from __future__ import annotations

from typing import Any

from flask import request

from api.context import current_user, release_db, services
from models.errors import ValidationFailed
from models.services.accept import Write, body_hash, submit

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


def accepted(write: Write) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Hand the write to the accept service (which answers a replayed key as it did
    first), and answer 202 with its task."""
    svc = services()
    key = _idempotency_key()
    release_db()  # accept opens its own transaction: one connection per write
    digest = body_hash(request.method, request.path, request.get_json(silent=True)) if key else None
    done = submit(
        svc.sessions, svc.waker, current_user(), write, idempotency_key=key, digest=digest
    )
    # tasks.get_task's URL, built by hand: url_for cost 2% of the API's CPU per write.
    status_url = f"{request.script_root}/v1/tasks/{done.request_id}"
    body = {"task_id": done.request_id, "status": "QUEUED", "status_url": status_url}
    return body, 202, {"Location": status_url}
