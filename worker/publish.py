"""What a worker sends to other workers, by task name through the app: a room's decide
message and the webhook dispatch. The runtime hands these to the drain and the waker, so
it needs the app, never the task modules."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence

from redis import Redis
from redis.exceptions import RedisError

from models.queues import DECIDE_ROOM, DISPATCH_WEBHOOKS, decide_args, decide_headers
from worker.app import app

KICK_MARKER = "webhooks:kick"  # set while a dispatch is on its way (one at a time)
KICK_TTL_MS = 2000


def publish_decide(room_id: uuid.UUID, seq: int | None, rooms: Sequence[uuid.UUID] = ()) -> None:
    app.send_task(DECIDE_ROOM, args=decide_args(room_id, seq, rooms), headers=decide_headers())


def kick_dispatch(redis: Redis) -> None:
    """After a commit that wrote events: one dispatch on its way, however many commits."""
    try:
        if not redis.set(KICK_MARKER, 1, nx=True, px=KICK_TTL_MS):
            return
    except RedisError:
        pass  # no marker: send anyway (the sweep would find the events in seconds too)
    try:
        app.send_task(DISPATCH_WEBHOOKS)
    except Exception:
        forget_kick(redis)  # not sent: the next commit's events must kick again
        raise


def forget_kick(redis: Redis) -> None:
    """A dispatch is under way: events written from now on kick again."""
    with contextlib.suppress(RedisError):
        redis.delete(KICK_MARKER)
