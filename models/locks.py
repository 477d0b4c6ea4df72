"""Every lock the system takes, in one place: Postgres advisory locks and Redis keys.

Advisory locks are `pg_advisory_xact_lock(namespace, key)`: the namespace says what is
locked, the key which one. Redis keys hold the per-room decide lock and wake-up marker.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterable

# Advisory-lock namespaces (the first int of pg_advisory_xact_lock(int, int)).
LOCK_ACCEPT = 1  # key: a stripe of rooms; acceptance order is commit order per room
LOCK_DECIDE = 2  # key: room_lock_key(room); one decider (or housekeeper) per room
LOCK_PERIODIC = 3  # key: the job's `lock` (models/periodic.py); one run of each at a time
LOCK_WEBHOOK_OWNER = 4  # key: owner_lock_key(user); one webhook claim per owner at a time

# Rooms share ACCEPT_STRIPES accept locks, so a 1000-room batch takes at most this many
# (Postgres' lock table is shared and small); rooms sharing a stripe just queue briefly.
ACCEPT_STRIPES = 64


# The Redis lock a room's decider holds; it expires if its holder dies.
ROOM_LOCK_TTL_SECONDS = 15.0


def room_lock_key(room_id: uuid.UUID | str) -> int:
    """A signed 32-bit key for Postgres advisory locks on one room."""
    return zlib.crc32(str(room_id).encode()) - 2**31


def owner_lock_key(user_id: uuid.UUID | str) -> int:
    """A signed 32-bit key for the advisory lock on one user's webhook sends."""
    return room_lock_key(user_id)


def room_lock_keys(rooms: Iterable[uuid.UUID | str]) -> list[int]:
    """The rooms' decide-lock keys in the one order every holder of several takes them
    (so none waits on another in a circle); rooms whose keys collide share one."""
    return sorted({room_lock_key(room) for room in rooms})


def accept_stripe(room_id: uuid.UUID | str) -> int:
    return room_lock_key(room_id) % ACCEPT_STRIPES


def room_lock_name(room_id: uuid.UUID | str) -> str:
    """The Redis key of the room's decide lock."""
    return f"lock:room:{room_id}"


def wake_marker_name(room_id: uuid.UUID | str) -> str:
    """The Redis key that says a decide message for the room is already on its way."""
    return f"wake:room:{room_id}"


def decided_through_name(room_id: uuid.UUID | str) -> str:
    """The Redis key holding the highest seq the room's deciders have committed."""
    return f"decided:room:{room_id}"
