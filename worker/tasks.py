"""Thin Celery tasks: translate a message into a call of the room processor."""

from __future__ import annotations

import logging
import uuid

from celery import Task
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from models.logs import log_context
from models.queues import DECIDE_ROOM
from models.tables.requests import BookingRequest, RequestStatus
from worker.app import app
from worker.lock import RoomBusy, room_lock
from worker.processor import drain_room
from worker.runtime import runtime

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 10.0


def _room_has_queued(room_id: uuid.UUID) -> bool:
    """Cheap check before taking any lock (a probe of the partial index of QUEUED rows)."""
    with runtime().sessions() as session:
        found = session.scalar(
            select(BookingRequest.id)
            .where(BookingRequest.room_id == room_id, BookingRequest.status == RequestStatus.QUEUED)
            .limit(1)
        )
    return found is not None


@app.task(
    name=DECIDE_ROOM,
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError, RedisError),
    retry_backoff=True,
    retry_backoff_max=30,
    max_retries=10,
)
def decide_room(self: Task, room_id: str) -> int:
    """Decide every QUEUED request of the room; the message's own request among them.

    A message for a room with nothing QUEUED is a no-op, so redelivery is harmless.
    """
    with log_context(task_id=self.request.id, room_id=room_id):
        return _decide_room(self, room_id)


def _decide_room(task: Task, room_id: str) -> int:
    room = uuid.UUID(room_id)
    if not _room_has_queued(room):
        return 0  # a redelivered or duplicate message: its work is done
    rt = runtime()
    try:
        with room_lock(rt.redis, room, wait=LOCK_WAIT_SECONDS) as lock:
            decided = drain_room(rt.sessions, room, between_batches=lock.reacquire)
    except RoomBusy:
        # The holder decides our request too if it was committed in time; if not, try again.
        if _room_has_queued(room):
            raise task.retry(countdown=0.2, max_retries=None) from None
        return 0
    log.info("room %s: decided %d request(s)", room_id, decided)
    return decided


def send_decide(room_id: uuid.UUID, request_id: uuid.UUID) -> None:
    app.send_task(DECIDE_ROOM, args=[str(room_id)], task_id=str(request_id))
