"""Engine and session factory. Nothing connects until first use."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

import models.tables  # noqa: F401 - every mapper is registered before a session is used

_engines: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One pooled engine per URL; every connection speaks UTC."""
    engine = _engines.get(url)
    if engine is None:
        engine = create_engine(
            url,
            # No ping on every checkout (a round trip per request under load): only a
            # connection idle for a while is pinged first; see _ping_if_idle.
            pool_pre_ping=False,
            pool_size=5,
            max_overflow=10,
            connect_args={"options": "-c timezone=UTC", "connect_timeout": 5},
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


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


def dispose_engines() -> None:
    """Forget pooled connections; after a fork none may be shared with the parent."""
    for engine in _engines.values():
        engine.dispose(close=False)
