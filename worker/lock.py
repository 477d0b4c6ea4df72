"""The per-room Redis lock, with a TTL that the holder extends between batches."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from redis import Redis
from redis.exceptions import LockError, LockNotOwnedError
from redis.lock import Lock

from models.metrics import LOCK_WAIT

LOCK_TTL_SECONDS = 15.0


class RoomBusy(Exception):
    """Another worker held the room's lock for longer than we were willing to wait."""


@contextmanager
def room_lock(redis: Redis, room_id: uuid.UUID, *, wait: float) -> Iterator[Lock]:
    """Hold `lock:room:<id>`; if the holder dies, the TTL frees the room."""
    lock = redis.lock(f"lock:room:{room_id}", timeout=LOCK_TTL_SECONDS, blocking_timeout=wait)
    began = time.perf_counter()
    acquired = lock.acquire(blocking=True)
    LOCK_WAIT.observe(time.perf_counter() - began)
    if not acquired:
        raise RoomBusy(str(room_id))
    try:
        yield lock
    finally:
        # If it expired meanwhile, Postgres' advisory lock still kept the room serial.
        with suppress(LockNotOwnedError, LockError):
            lock.release()
