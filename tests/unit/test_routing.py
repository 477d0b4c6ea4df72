"""Room → shard → queue: stable across processes, and what celeryconfig routes by."""

from __future__ import annotations

import uuid
import zlib

import celeryconfig
from cli.main import parse_shards
from models.locks import room_lock_key
from models.queues import DECIDE_ROOM, SWEEP, room_queue, room_shard

ROOM = uuid.UUID("0b5c8f7e-3f1e-4d6a-9a57-1f0e9b3c2d11")


def test_shard_is_crc32_of_the_room_id() -> None:
    assert room_shard(ROOM, 8) == zlib.crc32(str(ROOM).encode()) % 8
    assert room_queue(ROOM, 8) == f"rooms.{room_shard(ROOM, 8)}"
    assert room_shard(str(ROOM), 8) == room_shard(ROOM, 8)


def test_rooms_spread_over_every_shard() -> None:
    shards = {room_shard(uuid.uuid4(), 8) for _ in range(2000)}
    assert shards == set(range(8))


def test_lock_key_fits_a_signed_int32() -> None:
    keys = [room_lock_key(uuid.uuid4()) for _ in range(1000)]
    assert all(-(2**31) <= k < 2**31 for k in keys)


def test_celeryconfig_routes_decisions_to_the_room_queue() -> None:
    route = celeryconfig.RoomRouter(6)
    assert route(DECIDE_ROOM, [str(ROOM)], {}, {}) == {"queue": room_queue(ROOM, 6)}
    assert route(SWEEP, [], {}, {}) == {"queue": "maintenance"}
    names = {q.name for q in celeryconfig.task_queues(6)}
    assert names == {f"rooms.{i}" for i in range(6)} | {"maintenance"}


def test_celery_settings_that_keep_requests_safe() -> None:
    assert celeryconfig.task_acks_late is True
    assert celeryconfig.task_reject_on_worker_lost is True
    assert celeryconfig.worker_prefetch_multiplier == 1
    assert celeryconfig.task_serializer == "json"
    assert celeryconfig.task_ignore_result is True
    assert celeryconfig.broker_transport_options["visibility_timeout"] >= 600


def test_parse_shards_accepts_ranges_and_lists() -> None:
    assert parse_shards(None, 4) == [0, 1, 2, 3]
    assert parse_shards("0-3", 8) == [0, 1, 2, 3]
    assert parse_shards("1,5-6", 8) == [1, 5, 6]
