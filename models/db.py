"""Engine and session factory. Nothing connects until first use."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

import models.tables  # noqa: F401 - every mapper is registered before a session is used

_engines: dict[str, Engine] = {}


def engine_for(url: str, *, pool_size: int = 5) -> Engine:
    """One pooled engine per URL; every connection speaks UTC and plans every execution.

    plan_cache_mode=force_custom_plan: psycopg prepares a statement after its fifth run,
    and Postgres would then keep one generic plan for it, made with the table sizes of
    that moment. Made while `booking_requests` was nearly empty, the decider's UPDATE by
    id scanned the whole table once it had grown (300 buffers and 2.6 ms a booking after a
    flood, until autovacuum's ANALYZE happened to replace the plan; docs/performance.md).
    A custom plan is made for every execution and always sees the table's current size.

    `pool_size` connections stay open; up to as many again are opened for a burst and
    closed when handed back, so the pool should cover the threads that use it at once.
    """
    engine = _engines.get(url)
    if engine is None:
        engine = create_engine(
            url,
            # No ping on every checkout (a round trip per request under load): only a
            # connection idle for a while is pinged first; see _ping_if_idle.
            pool_pre_ping=False,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={
                "options": "-c timezone=UTC -c plan_cache_mode=force_custom_plan",
                "connect_timeout": 5,
            },
        )
        event.listen(engine, "checkin", _note_idle)
        event.listen(engine, "checkout", _ping_if_idle)
        _engines[url] = engine
    return engine


# A connection back from work within this many seconds is trusted; one idle longer (a
# database restart or a firewall may have dropped it) is pinged before use and replaced
# if dead, so the first request after an outage does not fail on a stale connection.
IDLE_PING_SECONDS = 10.0


def _note_idle(dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as exc:
        raise DisconnectionError("an idle connection was dropped by the server") from exc


def session_factory(url: str, *, pool_size: int = 5) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url, pool_size=pool_size), expire_on_commit=False)


def dispose_engines() -> None:
    """Forget pooled connections; after a fork none may be shared with the parent."""
    for engine in _engines.values():
        engine.dispose(close=False)
