"""What a worker process needs, built on first use (never at import): settings, DB, Redis."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from models.db import session_factory
from models.services.decide import RoomDrain
from models.services.room_store import PgRoomStore
from models.services.wakeups import RoomWaker
from models.settings import Settings
from worker.publish import kick_dispatch, publish_decide
from worker.settings import settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sessions: sessionmaker[Session]
    redis: Redis
    waker: RoomWaker
    drain: RoomDrain


@cache
def runtime() -> Runtime:
    found = settings()
    sessions = session_factory(found.database_url)
    redis = Redis.from_url(found.redis_url, socket_connect_timeout=3, socket_timeout=10)
    waker = RoomWaker(redis, publish_decide)
    drain = RoomDrain(PgRoomStore(sessions), redis, waker, partial(kick_dispatch, redis))
    return Runtime(found, sessions, redis, waker, drain)
