"""What a worker process needs, built on first use (never at import): what every process
has (models/runtime.py) and the drain that decides rooms."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from models.runtime import build
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
    core = build(settings(), publish_decide)
    drain = RoomDrain(
        PgRoomStore(core.sessions), core.redis, core.waker, partial(kick_dispatch, core.redis)
    )
    return Runtime(core.settings, core.sessions, core.redis, core.waker, drain)
