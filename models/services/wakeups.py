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
MAX_AWAY_SECONDS = 32.0  # the longest a request thread leaves Redis alone after a failure

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


def _set_nx(conn: Connection, markers: Sequence[tuple[str, int]]) -> list[bool | None]:
    """SET NX each marker, pipelined: one round trip."""
    commands = [("SET", key, value, "NX", "EX", MARKER_TTL_SECONDS) for key, value in markers]
    try:
        conn.send_packed_command(conn.pack_commands(commands))
        return [conn.read_response() is not None for _ in commands]
    except BaseException:
        conn.disconnect()
        raise


class RoomWaker:
    def __init__(self, redis: Redis, publish: Publish) -> None:
        self.redis = redis
        self.publish = publish
        self._delete_if = redis.register_script(_DELETE_IF)
        self._marker = threading.local()  # each thread's own connection for the markers

    def wake(self, room_id: uuid.UUID, seq: int | None, claimed: bool | None = None) -> bool:
        """Make sure a decide message for the room is on its way; True if we sent one.
        `claimed`: what claim_many answered for it (None: nothing was claimed yet)."""
        if claimed is None:
            try:
                claimed = self.claim(room_id, seq)
            except RedisError as exc:
                log.warning("wake-up marker unavailable (%s); publishing anyway", exc)
                claimed = True
        if not claimed:
            return False  # a message is pending: its drain reads our committed rows
        return self.send(room_id, seq)

    def claim_many(self, wakes: Sequence[tuple[uuid.UUID, int | None]]) -> list[bool | None]:
        """claim for several rooms in one round trip (a group insert's batch, just
        committed); None for each when Redis does not answer (wake then publishes)."""
        try:
            return self.claim_all(wakes)
        except RedisError as exc:
            log.warning("wake-up markers unavailable (%s); publishing anyway", exc)
            return [None] * len(wakes)

    def claim_all(self, wakes: Sequence[tuple[uuid.UUID, int | None]]) -> list[bool | None]:
        """claim_many, raising RedisError as claim does.

        Every accepted booking comes here: redis-py's client (pool checkout, retry
        wrapper, response callbacks) spends ~100 us of CPU on a SET, the bare
        connection ~35. Each thread has its own connection, so request threads never
        queue behind one another's round trip. A connection found broken (Redis
        restarted) is made again once; a timeout is not retried (a frozen Redis must not
        hold the caller twice as long).
        """
        markers = [(wake_marker_name(room_id), seq or 0) for room_id, seq in wakes]
        conn = self._connection()
        try:
            return _set_nx(conn, markers)
        except RedisConnectionError:
            return _set_nx(conn, markers)  # it reconnects

    def claim(self, room_id: uuid.UUID, seq: int | None) -> bool:
        """Set the room's marker if none is (True: a message is now ours to send)."""
        return bool(self.claim_all([(room_id, seq)])[0])

    def _connection(self) -> Connection:
        """This thread's connection for the markers."""
        local = self._marker
        conn: Connection | None = getattr(local, "conn", None)
        if conn is None or getattr(local, "pid", 0) != os.getpid():  # none crosses a fork
            pool = self.redis.connection_pool
            conn = local.conn = pool.connection_class(**pool.connection_kwargs)
            local.pid = os.getpid()
        return conn

    def send(self, room_id: uuid.UUID, seq: int | None) -> bool:
        """Publish the message for a marker this process set (claim)."""
        return self._publish(room_id, seq, wake_marker_name(room_id), ())

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
            self.release(room_id, seq)
            return False
        return True

    def release(self, room_id: uuid.UUID, seq: int | None) -> None:
        """Take back a marker this process set and will not send for, so the next
        request tries again (only our own: one set since is left alone)."""
        with suppress(RedisError):
            self._delete_if(keys=[wake_marker_name(room_id)], args=[str(seq or 0)])


class BackgroundWaker:
    """Wakes rooms for the API's request threads without making them wait on the broker,
    and on Redis no longer than its timeout, and only as a back-off ends.

    `wake` sets the room's marker from the request thread (one round trip on the
    thread's own connection: ~35 us against ~130 us of thread hand-offs when the
    thread below did it for every booking), and hands only the publish, which a room
    needs once per drain, to a thread of its own. When Redis does not answer (an error or
    its timeout), wake-ups go wholly to the thread for a while (1 s, doubling up to 32 s
    while it stays away), as the rate limiter falls back: a hung Redis or broker stalls
    that thread, never the requests that accepted the rows. Wake-ups still pending when
    the process dies are the sweeper's, like any lost message.
    """

    def __init__(self, waker: RoomWaker, *, max_pending: int = 10_000) -> None:
        self.waker = waker
        self.max_pending = max_pending
        # room -> (highest seq, whether its marker is already ours: only publish)
        self._pending: dict[uuid.UUID, tuple[int | None, bool]] = {}
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._busy = False
        self._away_until = 0.0  # Redis failed: until then every wake-up goes to the thread
        self._away_for = 0.0

    def claim_many(self, wakes: Sequence[tuple[uuid.UUID, int | None]]) -> list[bool | None]:
        """RoomWaker.claim_many, unless Redis is away (then None: wake hands them over)."""
        if time.monotonic() < self._away_until:
            return [None] * len(wakes)
        try:
            claimed = self.waker.claim_all(wakes)
        except RedisError as exc:
            self._away(exc)
            return [None] * len(wakes)
        self._away_for = 0.0
        return claimed

    def wake(self, room_id: uuid.UUID, seq: int | None, claimed: bool | None = None) -> bool:
        if claimed is not None:  # claim_many answered for it
            return self._hand_over(room_id, seq, True) if claimed else True
        claimed = False
        if time.monotonic() >= self._away_until:
            try:
                claimed = self.waker.claim(room_id, seq)
            except RedisError as exc:
                self._away(exc)
            else:
                self._away_for = 0.0
                if not claimed:
                    return True  # a message is on its way (its drain reads our rows)
        return self._hand_over(room_id, seq, claimed)

    def _away(self, exc: RedisError) -> None:
        self._away_for = min(max(1.0, 2 * self._away_for), MAX_AWAY_SECONDS)
        self._away_until = time.monotonic() + self._away_for
        log.warning(
            "wake-up marker unavailable (%s); waking rooms from the background for %.0f s",
            exc,
            self._away_for,
        )

    def _hand_over(self, room_id: uuid.UUID, seq: int | None, claimed: bool) -> bool:
        with self._ready:
            self._start()
            full = room_id not in self._pending and len(self._pending) >= self.max_pending
            if not full:
                known, was_claimed = self._pending.get(room_id, (None, False))
                if known is not None and seq is not None:
                    seq = max(known, seq)
                self._pending[room_id] = (seq, claimed or was_claimed)
                self._ready.notify()
        if full:
            log.warning("wake-ups are backed up; room %s is left for the sweeper", room_id)
            if claimed:
                self.waker.release(room_id, seq)  # or later requests would rely on it
            return False
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
            for room_id, (seq, claimed) in batch.items():
                try:
                    if claimed:
                        self.waker.send(room_id, seq)
                    else:
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
