"""Sending decide-room messages by task name; the API never imports worker/."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from contextlib import suppress

from amqp.exceptions import ChannelError
from celery import Celery
from kombu import Producer

from celeryconfig import deployment
from models.queues import DECIDE_ROOM
from models.settings import Settings

log = logging.getLogger(__name__)


class TaskSender:
    """Publishes to the room queues and asks the broker how deep they are."""

    def __init__(self, settings: Settings) -> None:
        self.celery = Celery("bookings-api")
        self.celery.config_from_object("celeryconfig")
        self.celery.conf.update(deployment(settings))
        # A publish gives up rather than hang on a frozen broker (it runs off the request
        # thread, but a stuck thread would hold every later wake-up of this process).
        options = dict(self.celery.conf.broker_transport_options or {})
        self.celery.conf.broker_transport_options = {**options, "socket_timeout": 5}
        self._lock = threading.Lock()
        self._producer: Producer | None = None
        self._producer_pid = 0

    def publish_decide(self, room_id: uuid.UUID, seq: int | None) -> None:
        """Publish one decide message for the room; raises when the broker does not take it.

        One producer per process is kept for good: taking one from Celery's pool for
        every message (a new Redis client each time) was a third of the API's CPU when
        each booking wakes its room. kombu reconnects it when the broker comes back; one
        that fails goes back to the pool, and the next message takes one again.
        """
        with self._lock:
            if self._producer is None or self._producer_pid != os.getpid():
                self._producer = self.celery.producer_pool.acquire(block=True)
                self._producer_pid = os.getpid()
            try:
                self.celery.send_task(
                    DECIDE_ROOM, args=[str(room_id), seq], producer=self._producer
                )
            except Exception:
                producer, self._producer = self._producer, None
                with suppress(Exception):  # back to the pool, which reconnects it
                    producer.release()
                raise

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
