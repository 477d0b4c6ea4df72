"""Task status: the state of an accepted write, from Postgres."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask_smorest import Blueprint

from api.context import current_user, db, services, transaction
from api.schemas.tasks import TaskQuery, TaskSchema
from models.domain.states import utcnow
from models.errors import Conflict
from models.services.booking_queries import visible_request
from models.services.task_status import task_document, withdraw

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
    if found.status.settled or not query["wait"]:
        return task_document(session, found)
    with services().wait_slots.slot(viewer.id) as may_wait:
        began = time.monotonic()
        deadline = began + (query["wait"] if may_wait else 0)
        while not found.status.settled and time.monotonic() < deadline:
            session.rollback()  # end the snapshot so the next read sees the worker's commit
            time.sleep(POLL_FAST if time.monotonic() - began < FAST_FOR else POLL_SLOW)
            found = visible_request(session, task_id, viewer)
    return task_document(session, found)


@blp.route("/<uuid:task_id>/withdraw", methods=["POST"])
@blp.response(200, TaskSchema)
def withdraw_task(task_id: uuid.UUID) -> dict[str, Any]:
    """Leave the waitlist (the submitter, or an admin): the task becomes REJECTED WITHDRAWN."""
    viewer = current_user()
    with transaction() as session:
        found = visible_request(session, task_id, viewer)  # anyone else: 404
        if not withdraw(session, found, utcnow()):
            raise Conflict(
                f"the task is {found.status.value.lower()}, not waitlisted", code="NOT_WAITLISTED"
            )
        return task_document(session, visible_request(session, task_id, viewer))
