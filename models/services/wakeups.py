"""Waking a room's decider: one pending decide message per room, not one per request.

The accepting side commits its rows, then calls `wake(room, seq)`: a Redis `SET NX`
marker per room says a message is already on its way, so only the first request of a
burst publishes one. The decider deletes the marker *before* it reads the room's QUEUED
rows, so a row committed after that read finds no marker and publishes again: nothing
is missed. The message carries the highest seq it was sent for; a decider that has
already decided through that seq drops the message without asking the database.

Redis is an optimisation here, never the guarantee: if it does not answer, the message
is published anyway (at worst one more), and the sweeper wakes any room whose requests
sat QUEUED too long (a lost message, a broker outage).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress

from redis import Redis
from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from models.locks import wake_marker_name

log = logging.getLogger(__name__)

# A marker outlives its message only if the message is lost; then the sweeper wakes the
# room, and the marker expires on its own.
MARKER_TTL_SECONDS = 30
DECIDED_TTL_SECONDS = 24 * 3600

# Publishes bookings.decide_room(room_id, seq, rooms) to the room's queue (rooms: those
# to decide it with, where a turn holding them all stopped at a full batch); raises when
# it cannot.
Publish = Callable[[uuid.UUID, int | None, Sequence[uuid.UUID]], None]

# Delete a key only while it holds the given value.
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _set_nx(conn: Connection, key: str, value: int) -> bool:
    try:
        conn.send_command("SET", key, value, "NX", "EX", MARKER_TTL_SECONDS)
        return conn.read_response() is not None
    except BaseException:
        conn.disconnect()
        raise


class RoomWaker:
    def __init__(self, redis: Redis, publish: Publish) -> None:
        self.redis = redis
        self.publish = publish
        self._delete_if = redis.register_script(_DELETE_IF)
        self._marker_conn: Connection | None = None
        self._marker_pid = 0
        self._marker_lock = threading.Lock()

    def wake(self, room_id: uuid.UUID, seq: int | None) -> bool:
        """Make sure a decide message for the room is on its way; True if we sent one."""
        marker = wake_marker_name(room_id)
        try:
            if not self._set_marker(marker, seq or 0):
                return False  # a message is pending: its drain reads our committed rows
        except RedisError as exc:
            log.warning("wake-up marker unavailable (%s); publishing anyway", exc)
        return self._publish(room_id, seq, marker, ())

    def _set_marker(self, marker: str, value: int) -> bool:
        """SET marker value NX EX ttl on a connection of the waker's own.

        Every accepted booking comes here: redis-py's client (pool checkout, retry
        wrapper, response callbacks) spends ~100 us of CPU on a SET, the bare
        connection ~35. A connection found broken (Redis restarted) is made again once;
        a timeout is not retried (a frozen Redis must not hold the waker twice as long).
        """
        with self._marker_lock:
            conn = self._marker_conn
            if conn is None or self._marker_pid != os.getpid():  # none crosses a fork
                pool = self.redis.connection_pool
                conn = self._marker_conn = pool.connection_class(**pool.connection_kwargs)
                self._marker_pid = os.getpid()
            try:
                return _set_nx(conn, marker, value)
            except RedisConnectionError:
                return _set_nx(conn, marker, value)  # it reconnects

    def rewake(self, room_id: uuid.UUID, seq: int | None, rooms: Sequence[uuid.UUID] = ()) -> bool:
        """Send a decide message whatever the marker says (the sweeper, a yielded drain)."""
        marker = wake_marker_name(room_id)
        with suppress(RedisError):
            self.redis.set(marker, seq or 0, ex=MARKER_TTL_SECONDS)
        return self._publish(room_id, seq, marker, rooms)

    def _publish(
        self, room_id: uuid.UUID, seq: int | None, marker: str, rooms: Sequence[uuid.UUID]
    ) -> bool:
        try:
            self.publish(room_id, seq, rooms)
        except Exception as exc:
            log.warning("broker unavailable, room %s left for the sweeper: %s", room_id, exc)
            with suppress(RedisError):  # so the next request tries again; only our own marker
                self._delete_if(keys=[marker], args=[str(seq or 0)])
            return False
        return True


class BackgroundWaker:
    """Wakes rooms from a thread of its own, so a request never waits on Redis or the broker.

    `wake` only records the room (keeping the highest seq) and returns: a hung Redis or
    broker stalls this thread, never the request that accepted the rows. Wake-ups still
    pending when the process dies are the sweeper's, like any lost message.
    """

    def __init__(self, waker: RoomWaker, *, max_pending: int = 10_000) -> None:
        self.waker = waker
        self.max_pending = max_pending
        self._pending: dict[uuid.UUID, int | None] = {}
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._busy = False

    def wake(self, room_id: uuid.UUID, seq: int | None) -> bool:
        with self._ready:
            self._start()
            if room_id not in self._pending and len(self._pending) >= self.max_pending:
                log.warning("wake-ups are backed up; room %s is left for the sweeper", room_id)
                return False
            known = self._pending.get(room_id)
            self._pending[room_id] = seq if known is None or seq is None else max(known, seq)
            self._ready.notify()
        return True

    def _start(self) -> None:
        """One thread per process, started on first use (after any fork)."""
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="room-waker", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._pending:
                    self._ready.wait()
                batch, self._pending = self._pending, {}
                self._busy = True
            for room_id, seq in batch.items():
                try:
                    self.waker.wake(room_id, seq)
                except Exception:  # never let the thread die; the sweeper covers
                    log.exception("waking room %s failed", room_id)
            with self._ready:
                self._busy = False

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every recorded wake-up was sent (or given up on)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._ready:
                if not self._pending and not self._busy:
                    return True
            time.sleep(0.005)
        return False
