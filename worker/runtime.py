"""What a worker process needs, built on first use (never at import): settings, DB, Redis."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from models.db import session_factory
from models.settings import Settings, load_settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sessions: sessionmaker[Session]
    redis: Redis


@cache
def runtime() -> Runtime:
    settings = load_settings(require_secret=False)  # workers sign nothing
    return Runtime(
        settings=settings,
        sessions=session_factory(settings.database_url),
        redis=Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=10),
    )
