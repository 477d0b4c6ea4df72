"""Which room shards a live worker consumes: heartbeat keys in Redis.

A worker's main process writes `consumer:<queue>` for every queue it consumes, with a TTL,
while its consumer is connected to the broker (worker/heartbeat.py). The key disappears
when no worker has refreshed it within the TTL: the worker died, hung, or lost the broker.
Several workers consuming one queue share its key; any of them keeps it alive.

/readyz and the `bookings_shard_consumer_up` gauge read every shard's key in one MGET.
"""

from __future__ import annotations

from typing import cast

from redis import Redis

from models.queues import shard_queues

HEARTBEAT_INTERVAL_SECONDS = 5.0
HEARTBEAT_TTL_SECONDS = 15  # three missed refreshes


def heartbeat_key(queue: str) -> str:
    """The Redis key saying that a live worker consumes `queue`."""
    return f"consumer:{queue}"


def shard_consumers(redis: Redis, shards: int) -> dict[str, bool]:
    """{"rooms.0": True, …}: whether a live worker consumes each shard's queue (one MGET)."""
    queues = shard_queues(shards)
    values = cast("list[bytes | None]", redis.mget([heartbeat_key(queue) for queue in queues]))
    return {queue: value is not None for queue, value in zip(queues, values, strict=True)}
