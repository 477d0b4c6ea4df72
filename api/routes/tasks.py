"""Task status: the state of an accepted write, from Postgres."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask_smorest import Blueprint

from api.context import current_user, db
from api.schemas.tasks import TaskQuery, TaskSchema
from models.booking_queries import visible_request
from models.booking_request import BookingRequest

blp = Blueprint("tasks", __name__, url_prefix="/v1/tasks", description="Task status")

POLL_SECONDS = 0.1


def _pending_progress(request: BookingRequest) -> dict[str, int]:
    return {"total": 1, "done": 0, "confirmed": 0, "rejected": 0}


@blp.route("/<uuid:task_id>", methods=["GET"])
@blp.arguments(TaskQuery, location="query")
@blp.response(200, TaskSchema)
def get_task(query: dict[str, Any], task_id: uuid.UUID) -> dict[str, Any]:
    session = db()
    viewer = current_user()
    deadline = time.monotonic() + query["wait"]
    found = visible_request(session, task_id, viewer)
    while not found.status.finished and time.monotonic() < deadline:
        session.rollback()  # end the snapshot so the next read sees the worker's commit
        time.sleep(POLL_SECONDS)
        found = visible_request(session, task_id, viewer)
    doc = {
        name: getattr(found, name)
        for name in ("id", "kind", "status", "created_at", "updated_at", "result", "error")
    }
    doc["progress"] = found.progress or _pending_progress(found)
    return doc
