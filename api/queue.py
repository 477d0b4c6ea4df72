"""Sending decide-room messages by task name; the API never imports worker/."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, TypeVar

from amqp.exceptions import ChannelError
from celery import Celery
from kombu import Producer

from celeryconfig import STATIC, deployment
from models import broker_clients
from models.queues import (
    DEAD_LETTERS,
    DECIDE_ROOM,
    DISPATCH_WEBHOOKS,
    decide_args,
    decide_headers,
    is_amqp,
)
from models.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


class TaskSender:
    """Publishes to the room queues and asks the broker how deep they are."""

    def __init__(self, settings: Settings) -> None:
        broker_clients.install()  # one Redis client per broker channel, not per publish
        self.celery = Celery("bookings-api")
        self.celery.config_from_object(STATIC)
        self.celery.conf.update(deployment(settings))
        # A publish gives up rather than hang on a frozen broker (it runs off the request
        # thread, but a stuck thread would hold every later wake-up of this process).
        options = dict(self.celery.conf.broker_transport_options or {})
        self.celery.conf.broker_transport_options = {**options, "socket_timeout": 5}
        self._lock = threading.Lock()
        self._producer: Producer | None = None
        self._producer_pid = 0
        self._read_lock = threading.Lock()
        self._reader: Any = None  # a kombu Connection kept for queue depths and pings
        self._reader_pid = 0
        self._channel: Any = None

    def publish_decide(
        self, room_id: uuid.UUID, seq: int | None, rooms: Sequence[uuid.UUID] = ()
    ) -> None:
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
                    DECIDE_ROOM,
                    args=decide_args(room_id, seq, rooms),
                    headers=decide_headers(),
                    producer=self._producer,
                )
            except Exception:
                producer, self._producer = self._producer, None
                with suppress(Exception):  # back to the pool, which reconnects it
                    producer.release()
                raise

    def publish_dispatch(self) -> None:
        """Ask the webhook sender to dispatch now (best effort: beat's sweep also does,
        every few seconds, so a broker that is away only delays the send)."""
        with suppress(Exception):
            self.celery.send_task(DISPATCH_WEBHOOKS)

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting in each queue, asked now."""
        with self._read_lock:
            return self._on_reader(self._read_depths)

    def ping(self) -> None:
        """Raise when the broker does not answer (a passive declare on the kept channel)."""
        with self._read_lock:
            self._on_reader(lambda: self._depth(self._queue_names()[0]))

    def _on_reader(self, read: Callable[[], T]) -> T:
        """`read()` on the one connection and channel this process keeps for asking the
        broker: a new connection (and on Redis, one client per channel) for each /metrics
        or /readyz call was 18 connections a scrape. A kept connection that fails (the
        broker restarted since) is dropped and one fresh one tried at once."""
        for attempt in (1, 2):
            fresh = self._reader is None or self._reader_pid != os.getpid()
            try:
                if fresh:
                    conn = self.celery.connection_for_read()
                    conn.ensure_connection(max_retries=1, timeout=2)
                    self._reader, self._reader_pid = conn, os.getpid()
                    self._channel = conn.channel()
                return read()
            except Exception:
                reader, self._reader, self._channel = self._reader, None, None
                if reader is not None:
                    with suppress(Exception):
                        reader.release()  # closes its channels, and their clients
                if fresh or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _read_depths(self) -> dict[str, int]:
        return {name: self._depth(name) for name in self._queue_names()}

    def _depth(self, name: str) -> int:
        try:
            return int(self._channel.queue_declare(queue=name, passive=True).message_count)
        except ChannelError:
            # Redis has no empty lists, RabbitMQ no undeclared queues: both are 0. Redis's
            # channel stays usable (a new one each time would be a new client each time);
            # RabbitMQ closes the channel that asked, so that one is replaced.
            assert self._reader is not None
            if self._reader.transport.driver_type != "redis":
                with suppress(Exception):
                    self._channel.close()
                self._channel = self._reader.channel()
            return 0

    def _queue_names(self) -> list[str]:
        names = [queue.name for queue in self.celery.conf.task_queues]
        if is_amqp(str(self.celery.conf.broker_url)):
            names.append(DEAD_LETTERS)  # what RabbitMQ gave up delivering (models/queues.py)
        return names
