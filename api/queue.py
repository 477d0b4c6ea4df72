"""Sending decide-room messages by task name; the API never imports worker/."""

from __future__ import annotations

import logging
import uuid

from amqp.exceptions import ChannelError
from celery import Celery
from kombu.exceptions import OperationalError as BrokerError

from celeryconfig import deployment
from models.queues import DECIDE_ROOM
from models.settings import Settings

log = logging.getLogger(__name__)


class TaskSender:
    """Publishes to the room queues; a broker outage is logged, never fatal."""

    def __init__(self, settings: Settings) -> None:
        self.celery = Celery("bookings-api")
        self.celery.config_from_object("celeryconfig")
        self.celery.conf.update(deployment(settings))

    def send_decide(self, room_id: uuid.UUID, request_id: uuid.UUID) -> bool:
        """True when the broker took the message. When it did not, the request row is
        already committed and the sweeper sends it once the broker is back."""
        try:
            self.celery.send_task(DECIDE_ROOM, args=[str(room_id)], task_id=str(request_id))
        except (BrokerError, OSError) as exc:
            log.warning("broker unavailable, request %s left for the sweeper: %s", request_id, exc)
            return False
        return True

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting in each queue (a passive declare works on Redis and RabbitMQ)."""
        depths: dict[str, int] = {}
        with self.celery.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            for queue in self.celery.conf.task_queues:
                try:
                    with conn.channel() as channel:
                        declared = channel.queue_declare(queue=queue.name, passive=True)
                        depths[queue.name] = int(declared.message_count)
                except ChannelError:
                    # Redis has no empty lists, RabbitMQ no undeclared queues: both are 0.
                    depths[queue.name] = 0
        return depths

    def ping(self) -> None:
        """Raise when the broker does not answer."""
        with self.celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
