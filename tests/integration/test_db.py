"""models/db.py: pooled connections that the server dropped are replaced, not used; every
connection is bounded."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from models.commit_bound import BoundedConnection
from models.db import (
    CONNECT_TIMEOUT_SECONDS,
    IDLE_IN_TRANSACTION_MS,
    STATEMENT_TIMEOUT_MS,
    TCP_BOUNDS,
    engine_for,
)
from models.locks import ROOM_LOCK_TTL_SECONDS
from tests import services


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("models.db.IDLE_PING_SECONDS", 0.0)  # every checkout counts as idle
    engine = engine_for(database)
    engine.dispose()
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with psycopg.connect(services.libpq(database), autocommit=True) as other:  # not pooled
        other.execute("SELECT pg_terminate_backend(%s)", [pid])

    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid


def test_a_statement_planned_while_its_table_was_empty_is_planned_again_as_it_grows(
    database: str,
) -> None:
    """Every connection plans each execution afresh (plan_cache_mode=force_custom_plan).

    psycopg prepares a statement after its fifth run, and Postgres then keeps one generic
    plan for it. Planned while `booking_requests` was empty, the worker's UPDATE by id
    went on scanning the whole table once it held 9,000 rows (2.6 ms and 300 buffers a
    booking after a flood), until autovacuum's ANALYZE happened to replace the plan.
    """
    engine = engine_for(database)
    with engine.connect() as conn:
        assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
        conn.execute(text("CREATE TEMP TABLE grows (id int PRIMARY KEY, v text)"))
        conn.execute(text("ANALYZE grows"))
        conn.execute(text("PREPARE one(int[]) AS SELECT v FROM grows WHERE id = ANY($1)"))
        for _ in range(8):  # past the five custom plans after which a generic one is kept
            conn.execute(text("EXECUTE one(ARRAY[1])"))
        conn.execute(text("INSERT INTO grows SELECT i, 'x' FROM generate_series(1, 20000) i"))
        plan = "\n".join(conn.execute(text("EXPLAIN EXECUTE one(ARRAY[1])")).scalars())
    assert "Index" in plan, plan


def test_every_connection_is_bounded_on_the_server_and_on_the_wire(database: str) -> None:
    """Nothing waits forever on a dead host or a paused peer (models/db.py)."""
    engine = engine_for(database)
    with engine.connect() as conn:
        shown = {
            name: conn.execute(text(f"SHOW {name}")).scalar_one()
            for name in ("statement_timeout", "idle_in_transaction_session_timeout")
        }
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, BoundedConnection)
        params = raw.info.get_parameters()
    assert shown == {
        "statement_timeout": f"{STATEMENT_TIMEOUT_MS // 1000}s",
        "idle_in_transaction_session_timeout": f"{IDLE_IN_TRANSACTION_MS // 1000}s",
    }
    assert params["connect_timeout"] == str(CONNECT_TIMEOUT_SECONDS)
    assert {name: params[name] for name in TCP_BOUNDS} == {
        name: str(value) for name, value in TCP_BOUNDS.items()
    }
    # A paused holder of a room lets go of it no later than the room's Redis lock expires.
    assert IDLE_IN_TRANSACTION_MS <= ROOM_LOCK_TTL_SECONDS * 1000


def test_the_stored_documents_of_the_write_path_carry_no_planner_statistics(
    database: str,
) -> None:
    """The jsonb columns of the write path's tables are stored and read whole: no index
    names them, and ANALYZE skips them (statistics 0), which halved its cost on
    booking_requests (migration 0012)."""
    with psycopg.connect(services.libpq(database), autocommit=True) as conn:
        rows = conn.execute(
            """SELECT c.relname, a.attname, a.attstattarget,
                      EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid
                              AND (a.attnum = ANY(i.indkey) OR pg_get_expr(
                                  i.indexprs, i.indrelid) LIKE '%' || a.attname || '%'))
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                WHERE c.relname IN ('booking_requests', 'audit_events', 'events')
                  AND c.relnamespace = 'public'::regnamespace
                  AND a.atttypid = 'jsonb'::regtype AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY 1, 2"""
        ).fetchall()
    assert {(table, column) for table, column, _, _ in rows} == {
        ("booking_requests", "payload"),
        ("booking_requests", "result"),
        ("booking_requests", "error"),
        ("booking_requests", "progress"),
        ("audit_events", "data"),
        ("events", "data"),
    }
    for table, column, target, indexed in rows:
        assert target == 0, f"{table}.{column} is analyzed"
        assert not indexed, f"{table}.{column} is indexed: its statistics may be needed"


def test_the_audit_and_meetings_are_analyzed_less_often_than_the_queues(database: str) -> None:
    """Four tables grow a row per booking; the two the planner leans on keep
    autovacuum's default, the other two wait for a quarter's growth (migration 0013), so
    the four are not analyzed together every minute."""
    with psycopg.connect(services.libpq(database), autocommit=True) as conn:
        options = dict(
            conn.execute(
                """SELECT relname, coalesce(array_to_string(reloptions, ','), '')
                     FROM pg_class WHERE relnamespace = 'public'::regnamespace
                      AND relname IN ('booking_requests', 'bookings', 'meetings',
                                      'audit_events')"""
            ).fetchall()
        )
    assert options == {
        "booking_requests": "",
        "bookings": "",
        "meetings": "autovacuum_analyze_scale_factor=0.25",
        "audit_events": "autovacuum_analyze_scale_factor=0.25",
    }
