"""What a worker process needs, built on first use (never at import): what every process
has (models/runtime.py) and the drain that decides rooms."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial

from models.runtime import Core, build
from models.services.decide import RoomDrain
from models.services.room_store import PgRoomStore
from worker.publish import kick_dispatch, publish_decide
from worker.settings import settings


@dataclass(frozen=True)
class Runtime(Core):
    drain: RoomDrain


@cache
def runtime() -> Runtime:
    core = build(settings(), publish_decide)
    drain = RoomDrain(
        PgRoomStore(core.sessions), core.redis, core.waker, partial(kick_dispatch, core.redis)
    )
    return Runtime(core.settings, core.sessions, core.redis, core.waker, drain)
