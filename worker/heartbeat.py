"""A worker says in Redis which queues it consumes, for as long as its consumer is live.

`ShardHeartbeat` is a consumer bootstep. Celery starts the consumer's steps once the
task consumer is consuming from the broker, stops them when the broker connection is lost
(and starts them again after reconnecting), and shuts them down when the worker stops. So
"the step is started" means "this worker is consuming its queues right now".

While started, a thread of the main process writes `consumer:<queue>` (models/heartbeats.py)
for every queue consumed, every HEARTBEAT_INTERVAL_SECONDS, with HEARTBEAT_TTL_SECONDS of
TTL. It writes only while the consumer's event loop is turning too: a timer on the loop
ticks every second, and a loop that has not ticked lately (a hung consumer) writes no
heartbeat. The first write happens when the consumer (re)connects, on its own thread, so
the keys exist once the worker says "ready."; every later round trip is on the heartbeat
thread, so a slow Redis cannot stall task delivery.

When the consumer stops (broker lost, worker stopping) the keys that still carry this
worker's identity are deleted at once; a key another worker refreshed since is left alone.
Keys of a worker that dies outright expire with their TTL.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from celery import bootsteps
from redis import Redis
from redis.exceptions import RedisError

from models.heartbeats import HEARTBEAT_INTERVAL_SECONDS, HEARTBEAT_TTL_SECONDS, heartbeat_key
from worker.settings import settings

log = logging.getLogger(__name__)

LOOP_TICK_SECONDS = 1.0
# Delete a key only while it still holds our identity (another worker may have refreshed it).
_FORGET = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


class Heartbeats:
    """The thread that writes (or forgets) this worker's heartbeat keys."""

    def __init__(self, redis: Redis, identity: str) -> None:
        self.redis = redis
        self.identity = identity
        self.queues: list[str] = []
        self.consuming = False
        self.last_tick = 0.0
        self._written = False
        self._wake = threading.Event()
        self._stopped = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def consume(self, queues: list[str]) -> None:
        """The consumer consumes `queues` from now on: say so now, then every interval."""
        with self._lock:
            self.queues = sorted(queues)
            self.consuming = True
            self.last_tick = time.monotonic()
        # Once here, on the consumer's thread, so the keys exist before "ready." is logged
        # (one round trip when the consumer (re)connects; never blocks it afterwards).
        self._beat()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="shard-heartbeat", daemon=True)
            self._thread.start()

    def tick(self) -> None:
        self.last_tick = time.monotonic()

    def pause(self) -> None:
        with self._lock:
            self.consuming = False
        self._wake.set()

    def close(self, timeout: float = 3.0) -> None:
        self.pause()
        self._stopped = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def live(self) -> bool:
        with self._lock:
            loop_turning = time.monotonic() - self.last_tick < 2 * HEARTBEAT_INTERVAL_SECONDS
            return self.consuming and loop_turning

    def _run(self) -> None:
        while True:
            self._wake.wait(HEARTBEAT_INTERVAL_SECONDS)
            self._wake.clear()
            self._beat()
            if self._stopped:
                return

    def _beat(self) -> None:
        try:
            if self.live():
                self._write()
            elif self._written:
                self._forget()
        except RedisError as exc:
            log.warning("shard heartbeat: Redis unavailable: %s", exc)

    def _write(self) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for queue in self.queues:
                pipe.set(heartbeat_key(queue), self.identity, ex=HEARTBEAT_TTL_SECONDS)
            pipe.execute()
        self._written = True

    def _forget(self) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for queue in self.queues:
                pipe.eval(_FORGET, 1, heartbeat_key(queue), self.identity)
            pipe.execute()
        self._written = False


class ShardHeartbeat(bootsteps.StartStopStep):
    """Consumer step: heartbeat keys for the consumed queues while the consumer is live."""

    requires = ("celery.worker.consumer.tasks:Tasks",)
    label = "shard heartbeat"

    def __init__(self, c: Any, **kwargs: Any) -> None:
        super().__init__(c, **kwargs)
        self.heartbeats: Heartbeats | None = None
        self.tref: Any = None

    def start(self, c: Any) -> None:
        if self.heartbeats is None:
            # A client of its own, with short timeouts: it serves this thread only.
            redis = Redis.from_url(settings().redis_url, socket_connect_timeout=1, socket_timeout=2)
            self.heartbeats = Heartbeats(redis, f"{c.hostname} pid {os.getpid()}")
        queues = [queue.name for queue in c.task_consumer.queues]
        self.tref = c.timer.call_repeatedly(LOOP_TICK_SECONDS, self.heartbeats.tick)
        self.heartbeats.consume(queues)

    def stop(self, c: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        if self.heartbeats is not None:
            self.heartbeats.pause()

    def shutdown(self, c: Any) -> None:
        self.stop(c)
        if self.heartbeats is not None:
            self.heartbeats.close()
