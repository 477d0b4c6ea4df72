"""What the database server was doing while requests were slow: a sampler beside a run.

A thread polls the server every `interval` seconds and keeps, with its wall-clock time:
the vacuums and analyzes in progress (`pg_stat_progress_vacuum`, `..._analyze`), the
checkpoints completed so far (`pg_stat_checkpointer`, or `pg_stat_bgwriter` before
Postgres 17), and how many of the bench database's backends were active or waiting on
a lock; and beside the server, the machine's busy and steal time (/proc/stat) and the
CPU of each process group and of each API and worker process (procstat.CpuSampler).
`stalls()` then groups the scenario's slow requests (decided more than `slow_ms` after
acceptance) by second and names, for each such second, what was happening from a second
before it to two after, so a latency spike in a minute can be told apart as
autovacuum, a checkpoint, lock waits, a process that stalled, or all of them busier (a
burst of arrivals).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

_CHECKPOINTS = {
    True: "SELECT num_timed + num_requested FROM pg_stat_checkpointer",
    False: "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter",
}
_MAINTENANCE = """
SELECT 'vacuum ' || relid::regclass::text FROM pg_stat_progress_vacuum WHERE datname = %(db)s
UNION ALL
SELECT 'analyze ' || relid::regclass::text FROM pg_stat_progress_analyze WHERE datname = %(db)s
"""
_BACKENDS = """
SELECT count(*) FILTER (WHERE state = 'active'),
       count(*) FILTER (WHERE wait_event_type = 'Lock')
  FROM pg_stat_activity WHERE datname = %(db)s AND pid <> pg_backend_pid()
"""


@dataclass
class Sample:
    at: float  # time.time()
    maintenance: list[str]
    checkpoints: int
    active: int
    lock_waits: int
    cpu: tuple[int, int, int]  # the machine's busy, idle and steal clock ticks so far
    groups: dict[str, int]  # each process group's CPU ticks so far (procstat.CpuSampler)


def machine_cpu() -> tuple[int, int, int]:
    """/proc/stat's first line: busy (user, nice, system, irq, softirq), idle (idle,
    iowait) and steal ticks, summed over the cores."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq, idle + iowait, steal


@dataclass
class PgWatch:
    dsn: str  # the bench database: the progress views show only its own relations' names
    db_name: str
    interval: float = 0.2
    groups: Callable[[], dict[str, int]] = dict  # CpuSampler.peek: ticks per group, process
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pg-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            version = conn.info.server_version
            checkpoints_sql = _CHECKPOINTS[version >= 170000]
            params = {"db": self.db_name}
            while not self._stop.wait(self.interval):
                conn.execute("SELECT pg_stat_clear_snapshot()")
                maintenance = [row[0] for row in conn.execute(_MAINTENANCE, params)]
                row = conn.execute(checkpoints_sql).fetchone()
                active, waits = conn.execute(_BACKENDS, params).fetchone() or (0, 0)
                checkpoints = int(row[0]) if row else 0
                self.samples.append(
                    Sample(
                        time.time(),
                        maintenance,
                        checkpoints,
                        active,
                        waits,
                        machine_cpu(),
                        self.groups(),
                    )
                )

    def typical(self, seconds: float) -> dict[str, int]:
        """Each group's CPU ticks in `seconds`, on average over the whole watch (to set
        a slow second's window beside)."""
        if len(self.samples) < 2:
            return {}
        first, last = self.samples[0], self.samples[-1]
        scale = seconds / (last.at - first.at)
        return {g: round(t * scale) for g, t in _ticks_between(first, last).items()}

    def around(self, start: float, end: float) -> dict[str, Any]:
        """What the samples in [start, end] saw: maintenance, checkpoints, lock waits."""
        seen = [s for s in self.samples if start <= s.at <= end]
        before = [s for s in self.samples if s.at < start]
        first = before[-1].checkpoints if before else (seen[0].checkpoints if seen else 0)
        busy = idle = steal = 0
        spent: dict[str, int] = {}  # which processes worked then (a paused one shows little)
        if seen and before:
            busy, idle, steal = (b - a for a, b in zip(before[-1].cpu, seen[-1].cpu, strict=True))
            spent = _ticks_between(before[-1], seen[-1])
        ticks = busy + idle + steal
        return {
            "cpu_ticks": spent,
            # How busy the whole machine was: near 100% means the cores were the limit;
            # low means the slow requests waited on something else (or the host paused).
            "machine_busy_pct": round(100 * busy / ticks) if ticks else None,
            "steal_pct": round(100 * steal / ticks) if ticks else None,
            "maintenance": sorted({m for s in seen for m in s.maintenance}),
            "checkpoints": (seen[-1].checkpoints - first) if seen else 0,
            "max_lock_waits": max((s.lock_waits for s in seen), default=0),
            "max_active": max((s.active for s in seen), default=0),
        }


def _ticks_between(first: Sample, last: Sample) -> dict[str, int]:
    """Each group's and process's CPU ticks from one sample to a later one (the cluster's
    shared Postgres processes left out: they also work for other databases)."""
    return {
        g: last.groups[g] - first.groups.get(g, 0) for g in last.groups if g != "postgres_shared"
    }


def stalls(
    conn: psycopg.Connection[Any],
    rooms: list[str],
    watch: PgWatch,
    *,
    slow_ms: float = 50.0,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The seconds holding slow requests, worst first: when (seconds from the
    scenario's first acceptance), how many, the slowest, and what the server was doing
    from a second before to a second after."""
    rows = conn.execute(
        """SELECT floor(extract(epoch FROM accepted_at)) AS second,
                  extract(epoch FROM min(accepted_at) OVER ()) AS first,
                  extract(epoch FROM decided_at - accepted_at) * 1000 AS ms
             FROM booking_requests WHERE room_id = ANY(%s::uuid[])""",
        (rooms,),
    ).fetchall()
    by_second: dict[float, list[float]] = {}
    arrived: dict[float, int] = {}
    first = 0.0
    for second, first_at, ms in rows:
        first = float(first_at)
        arrived[float(second)] = arrived.get(float(second), 0) + 1
        if ms is not None and float(ms) > slow_ms:
            by_second.setdefault(float(second), []).append(float(ms))
    worst = sorted(by_second.items(), key=lambda item: -max(item[1]))[:limit]
    return [
        {
            "t_s": round(second - first),
            "slow": len(found),
            "max_ms": round(max(found), 1),
            # requests accepted in the second before, this one and the next: a paced
            # load's own catching up shows as more than its rate, then less
            "arrived": [arrived.get(second + d, 0) for d in (-1, 0, 1)],
            **watch.around(second - 1, second + 2),
        }
        for second, found in sorted(worst)
    ]
