"""EXPLAIN (ANALYZE, BUFFERS) of the worker's queries on a big table, for docs/performance.md.

Creates a scratch database (`python -m cli migrate`), fills it with generate_series:
one room with 100,000 confirmed bookings (consecutive 15-minute slots, ~2.9 years),
100 rooms with 1,000 each, and for the same big room 100,000 decided requests plus a
backlog of 10,000 QUEUED ones; prints the plans, and drops the database.
Usage: `.venv/bin/python bench/explain.py` (BENCH_DATABASE_URL as for bench/run.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from stack import run_cli, service_env

SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
).replace("postgresql+psycopg://", "postgresql://")

FILL = """
INSERT INTO users (id, email, name, password_hash, role)
     VALUES ('00000000-0000-0000-0000-000000000001', 'u@example.com', 'u', 'x', 'USER');
INSERT INTO rooms (id, name, capacity)
     SELECT ('00000000-0000-0000-0001-' || lpad(to_hex(n), 12, '0'))::uuid, 'room ' || n, 10
       FROM generate_series(0, 100) n;
-- room 0: 100,000 bookings; rooms 1..100: 1,000 each
INSERT INTO bookings (id, room_id, organizer_id, start_time, end_time, title, status)
     SELECT gen_random_uuid(), '00000000-0000-0000-0001-000000000000',
            '00000000-0000-0000-0000-000000000001',
            '2027-01-01T00:00Z'::timestamptz + n * interval '15 minutes',
            '2027-01-01T00:15Z'::timestamptz + n * interval '15 minutes', 'b', 'CONFIRMED'
       FROM generate_series(0, 99999) n;
INSERT INTO bookings (id, room_id, organizer_id, start_time, end_time, title, status)
     SELECT gen_random_uuid(), ('00000000-0000-0000-0001-' || lpad(to_hex(r), 12, '0'))::uuid,
            '00000000-0000-0000-0000-000000000001',
            '2027-01-01T00:00Z'::timestamptz + n * interval '15 minutes',
            '2027-01-01T00:15Z'::timestamptz + n * interval '15 minutes', 'b', 'CONFIRMED'
       FROM generate_series(1, 100) r, generate_series(0, 999) n;
-- room 0: 100,000 decided requests, then a backlog of 10,000 QUEUED
INSERT INTO booking_requests (id, kind, room_id, requester_id, payload, status, decided_at)
     SELECT gen_random_uuid(), 'booking', '00000000-0000-0000-0001-000000000000',
            '00000000-0000-0000-0000-000000000001', '{}',
            CASE WHEN n < 100000 THEN 'SUCCEEDED' ELSE 'QUEUED' END,
            CASE WHEN n < 100000 THEN now() END
       FROM generate_series(0, 109999) n;
VACUUM ANALYZE;
"""

HOT = "'00000000-0000-0000-0001-000000000000'"
SMALL = "'00000000-0000-0000-0001-000000000001'"

# The worker's conflict query (worker/room_state.py load_calendar), as a prepared statement.
CONFLICT = """PREPARE conflict(uuid, timestamptz, timestamptz) AS
SELECT start_time, end_time, id FROM bookings
 WHERE room_id = $1 AND status = 'CONFIRMED' AND start_time < $3 AND end_time > $2"""
# Alternatives for comparison: the exclusion constraint's GiST index, and a lower bound on
# start_time from the 24-hour maximum duration.
CONFLICT_GIST = """PREPARE conflict_gist(uuid, timestamptz, timestamptz) AS
SELECT start_time, end_time, id FROM bookings
 WHERE room_id = $1 AND status = 'CONFIRMED'
   AND tstzrange(start_time, end_time, '[)') && tstzrange($2, $3, '[)')"""
CONFLICT_BOUNDED = """PREPARE conflict_bounded(uuid, timestamptz, timestamptz) AS
SELECT start_time, end_time, id FROM bookings
 WHERE room_id = $1 AND status = 'CONFIRMED' AND start_time < $3 AND end_time > $2
   AND start_time > $2 - interval '24 hours'"""
# The worker's batch query (worker/processor.py decide_batch).
QUEUED = """PREPARE queued(uuid) AS
SELECT * FROM booking_requests WHERE room_id = $1 AND status = 'QUEUED'
 ORDER BY seq LIMIT 200 FOR UPDATE"""

CASES = [
    (
        "conflict query, one 1-hour window in the middle of the 100k-booking room",
        f"EXECUTE conflict({HOT}, '2028-06-01T09:00Z', '2028-06-01T10:00Z')",
    ),
    (
        "the same window near the start of the room's history",
        f"EXECUTE conflict({HOT}, '2027-01-02T09:00Z', '2027-01-02T10:00Z')",
    ),
    (
        "the same window near the end of the room's history",
        f"EXECUTE conflict({HOT}, '2029-11-01T09:00Z', '2029-11-01T10:00Z')",
    ),
    (
        "a batch span of 2 days (192 bookings returned)",
        f"EXECUTE conflict({HOT}, '2028-06-01T00:00Z', '2028-06-03T00:00Z')",
    ),
    (
        "a room with 1,000 bookings, window in the middle",
        f"EXECUTE conflict({SMALL}, '2027-01-06T09:00Z', '2027-01-06T10:00Z')",
    ),
    (
        "alternative: tstzrange && (the exclusion constraint's GiST index), 100k room, middle",
        f"EXECUTE conflict_gist({HOT}, '2028-06-01T09:00Z', '2028-06-01T10:00Z')",
    ),
    (
        "alternative: start_time > start - 24 h (maximum duration), 100k room, middle",
        f"EXECUTE conflict_bounded({HOT}, '2028-06-01T09:00Z', '2028-06-01T10:00Z')",
    ),
    (
        "the batch query with 100k decided and 10k QUEUED requests in the room",
        f"EXECUTE queued({HOT})",
    ),
]


def main() -> int:
    name = f"bookings_explain_{uuid.uuid4().hex[:8]}"
    dsn = SERVER.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        scratch = Path(tempfile.mkdtemp(prefix="bookings-explain-"))
        env = service_env(
            dsn.replace("postgresql://", "postgresql+psycopg://"),
            "redis://127.0.0.1:6379/12",
            scratch,
        )
        run_cli(env, "migrate")
        with psycopg.connect(dsn, autocommit=True) as conn:
            began = time.perf_counter()
            for statement in FILL.split(";\n"):
                if statement.strip():
                    conn.execute(statement)  # type: ignore[arg-type]
            print(f"-- filled in {time.perf_counter() - began:.1f} s")
            version = conn.execute("SHOW server_version").fetchone()
            print(f"-- PostgreSQL {version[0] if version else '?'}")
            # custom plans for the given values (psycopg prepares a statement after 5 runs,
            # and Postgres may then switch to a generic plan: same index here)
            conn.execute("SET plan_cache_mode = force_custom_plan")
            for prepare in (CONFLICT, CONFLICT_GIST, CONFLICT_BOUNDED, QUEUED):
                conn.execute(prepare)  # type: ignore[arg-type]
            conn.execute("BEGIN")  # FOR UPDATE needs a transaction; rolled back below
            for title, execute in CASES:
                print(f"\n-- {title}\n-- {execute}")
                explain(conn, execute)
            conn.execute("ROLLBACK")
    finally:
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


def explain(conn: psycopg.Connection[Any], execute: str) -> None:
    for _ in range(3):  # warm the cache: the plans below are of a warm run
        conn.execute(f"EXPLAIN (ANALYZE) {execute}")  # type: ignore[arg-type]
    rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {execute}").fetchall()  # type: ignore[arg-type]
    for (line,) in rows:
        print(line)


if __name__ == "__main__":
    sys.exit(main())
