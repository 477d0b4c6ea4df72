"""Task status: the state of an accepted write, from Postgres."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask_smorest import Blueprint

from api.context import current_user, db, services
from api.schemas.tasks import TaskQuery, TaskSchema
from models.services.booking_queries import visible_request
from models.services.task_status import task_document

blp = Blueprint("tasks", __name__, url_prefix="/v1/tasks", description="Task status")

# Poll fast at first (most decisions take milliseconds), then back off.
POLL_FAST, POLL_SLOW, FAST_FOR = 0.02, 0.1, 1.0


@blp.route("/<uuid:task_id>", methods=["GET"])
@blp.arguments(TaskQuery, location="query")
@blp.response(200, TaskSchema)
def get_task(query: dict[str, Any], task_id: uuid.UUID) -> dict[str, Any]:
    """A task: its status and outcome; ?wait=N holds the answer until it is decided."""
    session = db()
    viewer = current_user()
    found = visible_request(session, task_id, viewer)
    if found.status.finished or not query["wait"]:
        return task_document(session, found)
    with services().wait_slots.slot(viewer.id) as may_wait:
        began = time.monotonic()
        deadline = began + (query["wait"] if may_wait else 0)
        while not found.status.finished and time.monotonic() < deadline:
            session.rollback()  # end the snapshot so the next read sees the worker's commit
            time.sleep(POLL_FAST if time.monotonic() - began < FAST_FOR else POLL_SLOW)
            found = visible_request(session, task_id, viewer)
    return task_document(session, found)
