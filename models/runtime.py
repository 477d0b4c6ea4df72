"""What every process of the system works with, built one way: its settings, the
database's sessions, Redis, and the waker that sends a room's decide message.

The API (`api.create_app`), the worker (`worker.runtime.runtime`) and the CLI's
commands that submit bookings (`bookings seed`, `bookings import`, through the worker's
runtime) all build theirs here, and add only what is their own: the API its background
waker, caches and probes, the worker its drain. Nothing connects until first use.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from models.db import session_factory
from models.services.outbox import MAIL_EVENTS
from models.services.wakeups import Publish, RoomWaker
from models.settings import Settings


@dataclass(frozen=True)
class Core:
    settings: Settings
    sessions: sessionmaker[Session]
    redis: Redis
    waker: RoomWaker


def build(
    settings: Settings,
    publish: Publish,
    *,
    pool_size: int = 5,
    redis_timeout: float = 10.0,
    redis_connect_timeout: float = 3.0,
) -> Core:
    """`publish` sends a room's decide message (the API's kept producer, or the worker
    app's); `pool_size`: the threads that use the database at once (the API's)."""
    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=redis_connect_timeout,
        socket_timeout=redis_timeout,
    )
    # With mail on, every writer of outbox events writes mail's too (models/services/outbox).
    sessions = session_factory(
        settings.database_url, pool_size=pool_size, info={MAIL_EVENTS: settings.mail_on}
    )
    return Core(settings, sessions, redis, RoomWaker(redis, publish))


def freeze_startup_objects() -> None:
    """Move every object alive now (modules, the app, mappers, schemas: 100,000-150,000
    of them) out of the garbage collector's reach. A full collection walks every tracked
    object while holding the GIL: 32 ms in a worker, 45 ms in an API process, a stall of
    every request in it; after this it walks only what was made since. Called once a
    role is built (the API's app, a worker before and after its pool forks)."""
    gc.collect()
    gc.freeze()
