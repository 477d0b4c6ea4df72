"""The direct-database baseline: what Postgres alone does on the project's schema.

N psycopg connections (threads; psycopg releases the GIL while it waits), one
transaction per booking: the overlap SELECT the worker runs, then the INSERT (the
exclusion constraint ex_bookings_no_overlap is the guarantee). Windows never
conflict, spread over `rooms` rooms like the HTTP `spread` scenario. The rows it needs
(a user, the rooms) are inserted first and everything is deleted afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg

OVERLAP = (
    "SELECT start_time, end_time, id FROM bookings WHERE room_id = %s"
    " AND status = 'CONFIRMED' AND start_time < %s AND end_time > %s"
)
INSERT = (
    "INSERT INTO bookings (id, room_id, organizer_id, start_time, end_time, title, status)"
    " VALUES (gen_random_uuid(), %s, %s, %s, %s, 'baseline', 'CONFIRMED')"
)


class Baseline:
    """`prepare()` the rows, `run()` the clients (the measured part), `cleanup()` after."""

    def __init__(self, dsn: str, *, base: datetime, connections: int = 4, rooms: int = 100) -> None:
        self.dsn = dsn
        self.base = base
        self.connections = connections
        self.user = uuid.uuid4()
        self.room_ids = [uuid.uuid4() for _ in range(rooms)]

    def prepare(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO users (id, email, name, password_hash, role)"
                " VALUES (%s, %s, 'baseline', 'x', 'USER')",
                (self.user, f"baseline-{self.user}@example.com"),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO rooms (id, name, capacity) VALUES (%s, %s, 10)",
                    [(r, f"baseline-{r}") for r in self.room_ids],
                )

    def run(self, seconds: float) -> dict[str, Any]:
        rooms, connections = self.room_ids, self.connections
        slot = timedelta(minutes=15)
        stop = threading.Event()
        counts = [0] * connections
        conflicts = [0] * connections
        errors: list[BaseException] = []

        def client(index: int, conn: psycopg.Connection[Any]) -> None:
            n = 0
            try:
                while not stop.is_set():
                    i = index + n * connections
                    n += 1
                    room = rooms[i % len(rooms)]
                    start = self.base + (i // len(rooms)) * slot
                    end = start + slot
                    with conn.transaction():
                        if conn.execute(OVERLAP, (room, end, start)).fetchall():
                            conflicts[index] += 1
                            continue
                        conn.execute(INSERT, (room, self.user, start, end))
                    counts[index] += 1
            except BaseException as exc:
                errors.append(exc)
                stop.set()

        conns = [psycopg.connect(self.dsn) for _ in range(connections)]
        try:
            threads = [
                threading.Thread(target=client, args=(i, conn)) for i, conn in enumerate(conns)
            ]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            stop.wait(seconds)
            stop.set()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - began
        finally:
            for conn in conns:
                conn.close()
        if errors:
            raise errors[0]
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute(
                "SELECT count(*) FROM bookings WHERE organizer_id = %s AND status = 'CONFIRMED'",
                (self.user,),
            ).fetchone()
        total = sum(counts)
        return {
            "connections": connections,
            "rooms": len(rooms),
            "seconds": round(elapsed, 3),
            "bookings": total,
            "stored": row[0] if row else 0,
            "conflicts": sum(conflicts),
            "per_second": total / elapsed,
        }

    def reset(self) -> None:
        """Empty `bookings` for the next sample, as the first found it (TRUNCATE, not DELETE:
        a deleted and vacuumed table plans and indexes differently: the next sample
        ran 30-43% slower on it). Only before the system starts: no other rows exist."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            others = conn.execute(
                "SELECT count(*) FROM bookings WHERE organizer_id <> %s", (self.user,)
            ).fetchone()
            assert others == (0,), "reset() would drop bookings that are not the baseline's"
            conn.execute("TRUNCATE bookings CASCADE")

    def cleanup(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("DELETE FROM bookings WHERE organizer_id = %s", (self.user,))
            conn.execute("DELETE FROM rooms WHERE id = ANY(%s)", (self.room_ids,))
            conn.execute("DELETE FROM users WHERE id = %s", (self.user,))
            conn.execute("VACUUM ANALYZE bookings, rooms, users")
