"""models.queues: room → shard → queue, stable across processes."""

from __future__ import annotations

import uuid
import zlib

from models.queues import room_queue, room_shard, shard_queues

ROOM = uuid.UUID("0b5c8f7e-3f1e-4d6a-9a57-1f0e9b3c2d11")


def test_shard_is_crc32_of_the_room_id() -> None:
    assert room_shard(ROOM, 8) == zlib.crc32(str(ROOM).encode()) % 8
    assert room_queue(ROOM, 8) == f"rooms.{room_shard(ROOM, 8)}"
    assert room_shard(str(ROOM), 8) == room_shard(ROOM, 8)


def test_rooms_spread_over_every_shard() -> None:
    shards = {room_shard(uuid.uuid4(), 8) for _ in range(2000)}
    assert shards == set(range(8))
    assert list(shard_queues(3)) == ["rooms.0", "rooms.1", "rooms.2"]
