"""Thin Celery tasks: translate a decide message into a drain of the room."""

from __future__ import annotations

import logging
import uuid

from celery import Task
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from models.logs import log_context
from models.queues import DECIDE_ROOM, SENT_AT, is_amqp
from models.services.decide import RoomBusy
from worker.app import app
from worker.runtime import runtime

log = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 0.5


def _busy_countdown() -> float:
    """How soon a busy room is tried again. RabbitMQ's delayed delivery (quorum queues)
    counts whole seconds, and kombu refuses a delay under one (the retry would be
    rejected, and dead-lettered): there it is 1 s."""
    return 1.0 if is_amqp(str(app.conf.broker_url)) else BUSY_RETRY_SECONDS


@app.task(
    name=DECIDE_ROOM,
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError, RedisError),
    retry_backoff=True,
    retry_backoff_max=30,
    max_retries=None,  # a 202 promises a decision: retry until the services are back
)
def decide_room(
    self: Task, room_id: str, seq: int | None = None, rooms: list[str] | None = None
) -> int:
    """Decide every QUEUED request of the room, oldest first.

    `seq` is the newest request the message was sent for; a message whose work another
    drain already did is dropped without a database query. Redelivery is harmless.
    """
    with log_context(room_id=room_id):
        try:
            also = [uuid.UUID(room) for room in rooms or ()]
            # A retry (its room was busy) waits out its countdown: not the broker's time.
            sent_at = None if self.request.retries else getattr(self.request, SENT_AT, None)
            decided = runtime().drain.run(uuid.UUID(room_id), seq, also, sent_at=sent_at)
        except RoomBusy:
            # Never wait on a busy room: come back to it and serve other rooms meanwhile.
            raise self.retry(countdown=_busy_countdown(), max_retries=None) from None
        except DBAPIError as exc:
            if isinstance(exc, OperationalError | InterfaceError) or not exc.connection_invalidated:
                raise  # an outage backs off (autoretry_for); anything else is a real error
            # The server ended the session (a paused worker past its idle-in-transaction
            # bound, a restart): the turn was rolled back; take it again.
            raise self.retry(exc=exc, countdown=_busy_countdown(), max_retries=None) from exc
        return decided
