"""What a worker process needs, built on first use (never at import): settings, DB, Redis."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from models.db import session_factory
from models.services.decide import RoomDrain
from models.services.room_store import PgRoomStore
from models.services.wakeups import RoomWaker
from models.settings import Settings, load_settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sessions: sessionmaker[Session]
    redis: Redis
    waker: RoomWaker
    drain: RoomDrain


@cache
def runtime() -> Runtime:
    from worker.tasks import publish_decide  # the tasks module needs the app, which needs us
    from worker.webhooks import kick_dispatch

    settings = load_settings(require_secret=False)  # workers sign nothing
    sessions = session_factory(settings.database_url)
    redis = Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=10)
    waker = RoomWaker(redis, publish_decide)
    drain = RoomDrain(PgRoomStore(sessions), redis, waker, kick_dispatch)
    return Runtime(settings, sessions, redis, waker, drain)
