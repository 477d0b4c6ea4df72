"""Task status: the state of an accepted write, from Postgres."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from api.context import current_user, db
from api.schemas.tasks import TaskQuery, TaskSchema
from models.batch_items import item_counts, item_results
from models.booking_queries import visible_request
from models.booking_request import BookingRequest, RequestKind

blp = Blueprint("tasks", __name__, url_prefix="/v1/tasks", description="Task status")

# Poll fast at first (most decisions take milliseconds), then back off.
POLL_FAST, POLL_SLOW, FAST_FOR = 0.02, 0.1, 1.0


def task_document(session: Session, found: BookingRequest) -> dict[str, Any]:
    """The task as the contract shows it; an unfinished batch is summed from its items."""
    doc: dict[str, Any] = {
        name: getattr(found, name)
        for name in ("id", "kind", "status", "created_at", "updated_at", "result", "error")
    }
    doc["status"] = found.status.value
    if found.status.finished:
        doc["progress"] = found.progress
    elif found.kind == RequestKind.BATCH:
        doc["progress"] = item_counts(session, found.id)
        doc["result"] = {"items": item_results(session, found.id)}
        doc["status"] = "PROCESSING" if doc["progress"]["done"] else "QUEUED"
    else:
        total = len(found.payload.get("occurrences") or [None])
        doc["progress"] = {"total": total, "done": 0, "confirmed": 0, "rejected": 0}
    return doc


@blp.route("/<uuid:task_id>", methods=["GET"])
@blp.arguments(TaskQuery, location="query")
@blp.response(200, TaskSchema)
def get_task(query: dict[str, Any], task_id: uuid.UUID) -> dict[str, Any]:
    session = db()
    viewer = current_user()
    began = time.monotonic()
    deadline = began + query["wait"]
    found = visible_request(session, task_id, viewer)
    while not found.status.finished and time.monotonic() < deadline:
        session.rollback()  # end the snapshot so the next read sees the worker's commit
        time.sleep(POLL_FAST if time.monotonic() - began < FAST_FOR else POLL_SLOW)
        found = visible_request(session, task_id, viewer)
    return task_document(session, found)
