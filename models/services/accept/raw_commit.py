"""One statement that commits itself, on a pooled psycopg connection, without a Session.

Every single booking is stored this way (alone or in a batch): the Session's transaction
bookkeeping cost about a fifth of the API's CPU per booking. The statement runs in
autocommit, so Postgres commits it as it ends: one round trip instead of the statement's
and its COMMIT's, which halved the client's CPU for it (0.23 -> 0.11 ms; docs/
performance.md). The commit watchdog watches the statement, since its commit is inside it
(models/commit_bound.py): one still running after COMMIT_WAIT_SECONDS (an accept stripe
held that long) is cancelled too, and its request answered 503 with nothing stored.
psycopg's errors are raised as SQLAlchemy's (IntegrityError, OperationalError, ...) like
any other statement's, and a connection the error broke is dropped from the pool.
"""

from __future__ import annotations

from typing import Any, cast

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from models.commit_bound import WATCHDOG


class CommitCutOff(Exception):
    """The connection broke while the statement ran: its rows may be stored or not (its
    cause is the psycopg error)."""


def execute_and_commit(engine: Engine, sql: str, params: dict[str, Any]) -> list[Any]:
    """The statement's rows, once committed."""
    conn = engine.raw_connection()
    dbapi = cast("psycopg.Connection[Any]", conn.dbapi_connection)
    sent = False
    try:
        dbapi.autocommit = True
        cursor = dbapi.cursor()
        WATCHDOG.watch(dbapi)
        try:
            sent = True
            cursor.execute(sql, params)
            rows = list(cursor.fetchall())
        finally:
            WATCHDOG.done(dbapi)
            cursor.close()
    except psycopg.Error as exc:
        if dbapi.broken:
            conn.invalidate(exc)
            if sent:
                raise CommitCutOff() from exc
        raise DBAPIError.instance(sql, params, exc, psycopg.Error) from exc
    finally:
        try:
            if not dbapi.broken:
                dbapi.autocommit = False  # as the pool hands connections out
        except psycopg.Error as exc:
            conn.invalidate(exc)  # never back to the pool in autocommit
        conn.close()  # back to the pool
    return rows
