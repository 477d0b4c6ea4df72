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
from contextlib import suppress
from typing import Any, cast

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from models.commit_bound import WATCHDOG
from models.db import IDLE_PING_SECONDS


class CommitCutOff(Exception):
    """The connection broke while the statement ran: its rows may be stored or not (its
    cause is the psycopg error)."""


class HeldConnection:
    """execute_and_commit on one connection of the engine's kept for the purpose, in
    autocommit, with its cursor: for one user at a time (a GroupInsert's leader). Taking
    a connection from the pool and handing it back for every statement (the pool's reset
    and events, autocommit switched on and off) cost a tenth of the API's CPU per booking
    (docs/performance.md).

    The connection is detached from the pool as it is taken: a connection in autocommit
    must never reach a Session (its row locks and transaction-scoped advisory locks would
    end with each statement). As the pool does: one idle longer than IDLE_PING_SECONDS is
    pinged first and replaced if the server dropped it, so the first booking after a
    database restart does not fail on a dead connection; a broken one is closed; a child
    process never uses (or closes) its parent's (psycopg leaves it to its own process).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: psycopg.Connection[Any] | None = None
        self._cursor: psycopg.Cursor[Any] | None = None
        self._pid = 0
        self._used = 0.0

    def execute_and_commit(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """The statement's rows, once committed."""
        cursor = self._checked_out()
        conn = cursor.connection
        try:
            WATCHDOG.watch(conn)
            try:
                cursor.execute(sql, params)
                rows = list(cursor.fetchall())
            finally:
                WATCHDOG.done(conn)
        except psycopg.Error as exc:
            if conn.broken:
                self.close()
                raise CommitCutOff() from exc
            raise DBAPIError.instance(sql, params, exc, psycopg.Error) from exc
        except BaseException:
            self.close()  # interrupted mid-protocol: never used again
            raise
        self._used = time.monotonic()
        return rows

    def close(self) -> None:
        conn, self._conn, self._cursor = self._conn, None, None
        if conn is not None and self._pid == os.getpid():
            with suppress(psycopg.Error):
                conn.close()

    def _checked_out(self) -> psycopg.Cursor[Any]:
        if self._conn is not None and self._pid != os.getpid():
            self._conn = self._cursor = None  # the parent's (after a fork): left alone
        if self._cursor is not None and time.monotonic() - self._used > IDLE_PING_SECONDS:
            try:
                self._cursor.execute("SELECT 1")
            except psycopg.Error:
                self.close()  # the server dropped it: a fresh one
        if self._cursor is None:
            fairy = self.engine.raw_connection()
            fairy.detach()  # ours alone, never back to the pool
            conn = cast("psycopg.Connection[Any]", fairy.dbapi_connection)
            self._conn, self._pid = conn, os.getpid()
            try:
                conn.autocommit = True
            except psycopg.Error as exc:
                self.close()
                raise DBAPIError.instance("", {}, exc, psycopg.Error) from exc
            self._cursor = conn.cursor()
            self._used = time.monotonic()
        return self._cursor
