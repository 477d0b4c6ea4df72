"""One statement that commits itself, on a psycopg connection, without a Session.

Every single booking is stored this way (alone or in a batch): the Session's transaction
bookkeeping cost about a fifth of the API's CPU per booking, and checking a connection
out of the pool and back for each statement a tenth more (HeldConnection). The statement runs in
autocommit, so Postgres commits it as it ends: one round trip instead of the statement's
and its COMMIT's, which halved the client's CPU for it (0.23 -> 0.11 ms; docs/
performance.md). The commit watchdog watches the statement, since its commit is inside it
(models/commit_bound.py): one still running after COMMIT_WAIT_SECONDS (an accept stripe
held that long) is cancelled too, and its request answered 503 with nothing stored.
psycopg's errors are raised as SQLAlchemy's (IntegrityError, OperationalError, ...) like
any other statement's, and a connection the error broke is dropped from the pool.
"""

from __future__ import annotations

import os
import time
from typing import Any, cast

import psycopg
from sqlalchemy import Engine, PoolProxiedConnection
from sqlalchemy.exc import DBAPIError

from models.commit_bound import WATCHDOG
from models.db import IDLE_PING_SECONDS


class CommitCutOff(Exception):
    """The connection broke while the statement ran: its rows may be stored or not (its
    cause is the psycopg error)."""


class HeldConnection:
    """execute_and_commit on one pooled connection kept checked out, in autocommit, with
    its cursor: for one user at a time (a GroupInsert's leader). Handing the connection
    back after every statement (the pool's reset and events, autocommit switched on and
    off) cost a tenth of the API's CPU per booking (docs/performance.md).

    As the pool does: a connection idle longer than IDLE_PING_SECONDS is pinged first and
    replaced if the server dropped it, so the first booking after a database restart does
    not fail on a dead connection; a broken one is dropped; a child process never uses
    (or closes) its parent's.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: PoolProxiedConnection | None = None
        self._cursor: psycopg.Cursor[Any] | None = None
        self._pid = 0
        self._used = 0.0

    def execute_and_commit(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """The statement's rows, once committed."""
        conn, cursor = self._checked_out()
        dbapi = cursor.connection
        try:
            WATCHDOG.watch(dbapi)
            try:
                cursor.execute(sql, params)
                rows = list(cursor.fetchall())
            finally:
                WATCHDOG.done(dbapi)
        except psycopg.Error as exc:
            if dbapi.broken:
                self._drop(conn, exc)
                raise CommitCutOff() from exc
            raise DBAPIError.instance(sql, params, exc, psycopg.Error) from exc
        except BaseException:
            self._drop(conn, None)  # interrupted mid-protocol: never used again
            raise
        self._used = time.monotonic()
        return rows

    def _checked_out(self) -> tuple[PoolProxiedConnection, psycopg.Cursor[Any]]:
        if self._conn is not None and self._pid != os.getpid():
            self._conn = self._cursor = None  # the parent's (after a fork): left alone
        if self._cursor is not None and time.monotonic() - self._used > IDLE_PING_SECONDS:
            try:
                self._cursor.execute("SELECT 1")
            except psycopg.Error as exc:
                assert self._conn is not None
                self._drop(self._conn, exc)  # the server dropped it: a fresh one
        if self._conn is None or self._cursor is None:
            conn = self.engine.raw_connection()
            dbapi = cast("psycopg.Connection[Any]", conn.dbapi_connection)
            try:
                dbapi.autocommit = True
            except psycopg.Error as exc:
                self._drop(conn, exc)
                raise DBAPIError.instance("", {}, exc, psycopg.Error) from exc
            self._conn, self._cursor, self._pid = conn, dbapi.cursor(), os.getpid()
            self._used = time.monotonic()
        return self._conn, self._cursor

    def _drop(self, conn: PoolProxiedConnection, exc: BaseException | None) -> None:
        self._conn = self._cursor = None
        conn.invalidate(exc)
        conn.close()
