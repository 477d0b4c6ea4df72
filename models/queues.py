"""Task names, queues and routing: what the API sends and the workers consume.

One queue per room shard: a room always lands on `rooms.<crc32(room_id) % shards>`, so
one worker pool sees a room's messages in order. Periodic jobs use `maintenance`.
"""

from __future__ import annotations

import time
import uuid
import zlib
from collections.abc import Sequence
from typing import Any

DECIDE_ROOM = "bookings.decide_room"
# Periodic jobs' tasks are named `bookings.<job>` (models/periodic.py) and go to
# `maintenance`.
MAINTENANCE_QUEUE = "maintenance"


def decide_args(room_id: uuid.UUID, seq: int | None, rooms: Sequence[uuid.UUID] = ()) -> list[Any]:
    """bookings.decide_room's arguments: the room, the newest seq it is sent for, and the
    rooms to decide it with (only when a turn holding several stopped at a full batch)."""
    args: list[Any] = [str(room_id), seq]
    if rooms:
        args.append([str(room) for room in rooms])
    return args


SENT_AT = "sent_at"  # a decide message's header: when it was sent (epoch seconds)


def decide_headers() -> dict[str, float]:
    """bookings.decide_room's headers: when it is sent, so the worker can tell how long
    it waited in the broker (models/metrics.DECIDE_STAGE)."""
    return {SENT_AT: time.time()}


def room_shard(room_id: uuid.UUID | str, shards: int) -> int:
    """The shard of a room: crc32, stable across processes (Python's hash() is salted)."""
    return zlib.crc32(str(room_id).encode()) % shards


def room_queue(room_id: uuid.UUID | str, shards: int) -> str:
    return f"rooms.{room_shard(room_id, shards)}"


def shard_queues(shards: int) -> list[str]:
    return [f"rooms.{i}" for i in range(shards)]


# Webhooks have a queue of their own: a slow receiver never delays a room's decisions.
WEBHOOKS_QUEUE = "webhooks"
DISPATCH_WEBHOOKS = "bookings.dispatch_webhooks"  # events -> deliveries, and due sends
DELIVER_WEBHOOK = "bookings.deliver_webhook"  # one attempt of one delivery
SEND_MAIL = "bookings.send_mail"  # send the mail that is due (the same process and queue)

# On RabbitMQ the task queues are quorum queues (replicated: one node of three may be
# lost). A message delivered DELIVERY_LIMIT times without an ack (workers dying on it)
# is dead-lettered to DEAD_LETTERS instead of dropped; its request stays QUEUED in
# Postgres, so the sweeper sends it again, and the queue says it happened
# (bookings_queue_depth{queue="dead-letters"}; docs/operations.md, "Failover").
DEAD_LETTERS = "dead-letters"
DELIVERY_LIMIT = 20


def is_amqp(broker_url: str) -> bool:
    """RabbitMQ (one URL or several separated by `;`), not Redis."""
    return broker_url.split(";", 1)[0].strip().startswith(("amqp://", "amqps://", "pyamqp://"))
