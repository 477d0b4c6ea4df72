"""Engine and session factory. Nothing connects until first use.

`DATABASE_URL` may name several hosts (`…@/db?host=h1:5432&host=h2:5432&
target_session_attrs=read-write`): libpq tries them in turn and keeps the writable
one, so after a failover the next connection finds the new primary. Every connection
is bounded, so nothing waits forever on a dead host or a paused peer (the numbers are
in docs/operations.md, "Failover"):

- connecting: CONNECT_TIMEOUT_SECONDS per host;
- a statement: STATEMENT_TIMEOUT_MS, on the server;
- a commit waiting for a synchronous standby that does not answer: cut short after
  COMMIT_WAIT_SECONDS (models/commit_bound.py);
- a dead or partitioned peer: TCP keepalives and `tcp_user_timeout` break the
  connection (libpq), and the pool drops it and every connection made before it;
- a paused holder of a room: IDLE_IN_TRANSACTION_MS ends a session that sits in an
  open transaction, and with it the room's advisory locks, as long as the room's Redis
  lock lives (ROOM_LOCK_TTL_SECONDS): a worker frozen mid-turn holds a room for no
  longer than that (its commit then fails and the turn is retried).
"""

from __future__ import annotations

import time
from typing import Any

from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

import models.tables  # noqa: F401 - every mapper is registered before a session is used
from models.commit_bound import BoundedConnection
from models.locks import ROOM_LOCK_TTL_SECONDS

CONNECT_TIMEOUT_SECONDS = 5
STATEMENT_TIMEOUT_MS = 30_000
IDLE_IN_TRANSACTION_MS = int(ROOM_LOCK_TTL_SECONDS * 1000)
# libpq: probe an idle connection after 10 s, every 5 s, 3 times; give up on data
# unacknowledged for 15 s. A host cut off is noticed within half a minute.
TCP_BOUNDS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
}
SERVER_OPTIONS = (
    "-c timezone=UTC -c plan_cache_mode=force_custom_plan"
    f" -c statement_timeout={STATEMENT_TIMEOUT_MS}"
    f" -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
)

_engines: dict[str, Engine] = {}


def conninfo(url: str, **extra: Any) -> str:
    """The libpq connection string for a SQLAlchemy URL, read as the engine reads it
    (several `host=` parameters become libpq's `host=h1,h2 port=p1,p2`), for the
    connections made without SQLAlchemy (LISTEN, creating a database)."""
    target = make_url(url).set(drivername="postgresql+psycopg")
    _, params = PGDialect_psycopg().create_connect_args(target)
    params.pop("context", None)
    return make_conninfo(**{**params, **extra})  # `extra` wins: dbname="postgres" to create one


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
                "options": SERVER_OPTIONS,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                **TCP_BOUNDS,
            },
        )
        event.listen(engine, "do_connect", _bounded_connect)
        event.listen(engine, "checkin", _note_idle)
        event.listen(engine, "checkout", _ping_if_idle)
        _engines[url] = engine
    return engine


def _bounded_connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
    """Every pooled connection is a BoundedConnection: a commit waiting on a synchronous
    standby that does not answer is cut short (models/commit_bound.py)."""
    return BoundedConnection.connect(*cargs, **cparams)


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


def session_factory(
    url: str, *, pool_size: int = 5, info: dict[str, Any] | None = None
) -> sessionmaker[Session]:
    """Sessions on the URL's engine; `info` is every session's `Session.info` (what the
    process tells its writers, e.g. models/services/outbox.MAIL_EVENTS)."""
    return sessionmaker(
        bind=engine_for(url, pool_size=pool_size), expire_on_commit=False, info=info or {}
    )


def dispose_engines() -> None:
    """Forget pooled connections; after a fork none may be shared with the parent."""
    for engine in _engines.values():
        engine.dispose(close=False)
