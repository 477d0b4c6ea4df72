"""One statement and its COMMIT on a pooled psycopg connection, without a Session.

Every single booking is stored this way (alone or in a batch): the Session's transaction
bookkeeping cost about a fifth of the API's CPU per booking. psycopg's errors are raised
as SQLAlchemy's (IntegrityError, OperationalError, ...) like any other statement's, and a
connection the error broke is dropped from the pool.
"""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError


class CommitCutOff(Exception):
    """The connection broke during COMMIT: the rows may be stored or not (its cause is the
    psycopg error)."""


def execute_and_commit(engine: Engine, sql: str, params: dict[str, Any]) -> list[Any]:
    """The statement's rows, once committed."""
    conn = engine.raw_connection()
    committing = False
    try:
        cursor = conn.cursor()
        try:
            cursor.execute(sql, params)
            rows = list(cursor.fetchall())
        finally:
            cursor.close()
        committing = True
        conn.commit()
    except psycopg.Error as exc:
        broken = conn.dbapi_connection is not None and conn.dbapi_connection.broken
        if broken:
            conn.invalidate(exc)
        if committing and broken:
            raise CommitCutOff() from exc
        raise DBAPIError.instance(sql, params, exc, psycopg.Error) from exc
    finally:
        conn.close()  # back to the pool, which rolls back anything left open
    return rows
