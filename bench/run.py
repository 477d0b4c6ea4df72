"""Benchmark of the write path, driven only from the outside.

One run (`make bench`, or `python bench/run.py`):

1. baseline  the direct-database baseline (bench/baseline.py): 4 psycopg connections,
             one transaction per booking (overlap SELECT + INSERT) on the migrated schema;
             BENCH_BASELINE_SAMPLES (3) samples of 5 s on an emptied table, the median;
2. spread    wrk, 16 connections, POST /v1/bookings over 100 rooms, distinct windows;
3. hot       the same into ONE room;
4. paced     100 requests/s for 10 s; p50/p99 of decided_at - accepted_at;
5. series    a 52-week series (POST /v1/bookings/recurring), POST -> SUCCEEDED;
6. batch     1000 items over 50 rooms (POST /v1/bookings/batch), accepted and all decided;
7. batch_policies  the same batch by a user (not exempt) into 50 rooms that each have a
             policy (opening hours, a 5-minute buffer, daily and weekly quotas, duration,
             notice, horizon), windows 5 minutes apart: decided in the same full
             transactions, so worker CPU against batch's is the cost of the rules;
8. policies  spread again into 100 such rooms: throughput with rules under load;
9. dry_run   POST /v1/bookings/check, one at a time, beside GET /v1/rooms/{id}: latency;
10. several  spread's load as two-room requests over the same 100 rooms (each pair its own
             window, the pairs overlapping every way): every room or none, each decided in
             both rooms' order; requests/s against spread's, in the same run.
11. find_time  GET /v1/rooms/find-time, one call at a time, over 200 rooms with opening
             hours, buffers and rules in four time zones and 4,000 bookings in one week
             (bench/find_time.py): p50/p99 of the call, and of each kind of question;
12. soak     (only with --only ...,soak; `make bench-soak`) paced's 100 requests/s for
             BENCH_SOAK_MINUTES (default 10) minutes, p50/p99 of each minute.

The scenarios run back to back with no pause, as a production database lives: whatever
autovacuum and the checkpointer do after a flood lands in the scenario that follows, and
the goals are read from these figures. `--settle` runs VACUUM (ANALYZE) before each
scenario and waits for autovacuum instead (the settled figures, for comparison).

The system is started with `python -m cli migrate|create-admin|worker|api` (bench/stack.py)
on a database of its own (created here, dropped at the end) and Redis db 12 (flushed).
HTTP load comes from wrk (bench/load.lua); throughput and latency are computed from the
rows in booking_requests; CPU per group from /proc (bench/procstat.py). After each
scenario SQL checks that no two confirmed bookings of a room overlap and that every
accepted request got decided; a failed check makes the run exit 1.

Prints a table and one `BENCH_JSON {...}` line; writes bench/results/latest.json.
Knobs (environment): BENCH_WORKERS, BENCH_CONCURRENCY, BENCH_API_WORKERS (bench/stack.py),
BENCH_DATABASE_URL (a server where it may create databases), BENCH_REDIS_URL,
BENCH_SECONDS (spread/hot wrk duration, default 10), BENCH_MAX_REQUESTS (cap per
spread/hot run, default 20000), BENCH_DRAIN_SECONDS (wait for the backlog, default 60).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import find_time
import psycopg
import stages
from baseline import Baseline
from pg_watch import PgWatch, stalls
from procstat import CpuSampler, ms_between
from redis import Redis
from stack import ROOT, Stack, run_cli, service_env

SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
).replace("postgresql+psycopg://", "postgresql://")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
MAX_REQUESTS = int(os.environ.get("BENCH_MAX_REQUESTS", "20000"))
DRAIN_SECONDS = float(os.environ.get("BENCH_DRAIN_SECONDS", "60"))
LUA = ROOT / "bench" / "load.lua"
SLOT = timedelta(minutes=15)  # every window is one 15-minute slot
# "load" is the load generator: wrk (its rusage), or the baseline's Python client threads
GROUPS = ("api", "worker", "postgres", "redis", "load")
PENDING = "('QUEUED', 'PROCESSING')"

SOAK_MINUTES = float(os.environ.get("BENCH_SOAK_MINUTES", "10"))
BASELINE_SAMPLES = int(os.environ.get("BENCH_BASELINE_SAMPLES", "3"))

# Issue 19's goals (read without a pause), and issue 11's for batches and policies.
LIMITS: dict[str, tuple[float, str, str]] = {
    "spread_ratio": (0.35, ">=", "aim 0.5"),
    "hot_ratio": (0.35, ">=", "aim 0.5"),
    "cpu_api_ms_per_booking": (0.7, "<=", ""),
    "cpu_worker_ms_per_booking": (0.7, "<=", ""),
    "paced_p50_ms": (10.0, "<=", ""),
    "paced_p99_ms": (50.0, "<=", ""),
    "soak_worst_minute_p99_ms": (50.0, "<=", ""),
    "batch_1000_decided_s": (1.0, "<=", ""),
    "policy_worker_cpu_vs_batch": (1.2, "<=", ""),
    "find_time_p99_ms": (100.0, "<=", "200 rooms, a week"),
}
GOALS = {
    key: f"{op} {limit:g}" + (f" ({note})" if note else "")
    for key, (limit, op, note) in LIMITS.items()
}

# Every room of the policies scenario: every rule that costs something to check, none
# that refuses the bench's windows (tomorrow on, 10 minutes each, 5 minutes apart).
POLICY = {
    "min_duration_minutes": 5,
    "max_duration_minutes": 240,
    "min_notice_minutes": 1,
    "horizon_days": 365,
    "buffer_minutes": 5,
    "opening_hours": {
        day: [["00:00", "24:00"]] for day in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    },
    "max_minutes_per_user_per_day": 24 * 60,
    "max_minutes_per_user_per_week": 7 * 24 * 60,
}
POLICY_GAP = timedelta(minutes=5)


def tomorrow() -> datetime:
    """The first window of every scenario: midnight UTC at least a day ahead, so no window
    is in the past even if the run crosses midnight, and 20,000 hot-room slots of 15
    minutes (208 days) or a 52-week series still end within the 365-day horizon."""
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(days=2)


@dataclass
class Scenario:
    """One scenario's numbers; `bookings` is what CPU is divided by (occurrences decided)."""

    name: str
    rooms: list[str]
    requests: int = 0
    bookings: int = 0
    decided_per_s: float = 0.0
    ratio: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_ms: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks.get("ok", True))

    def cpu_per_booking(self) -> dict[str, float | None]:
        return {
            g: (self.cpu_ms[g] / self.bookings if self.bookings else None)
            for g in self.cpu_ms
            if g in (*GROUPS, "postgres_backends", "postgres_shared")
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "bookings": self.bookings,
            "decided_per_s": round(self.decided_per_s, 1),
            "ratio_to_baseline": None if self.ratio is None else round(self.ratio, 3),
            "p50_ms": rounded(self.p50_ms),
            "p99_ms": rounded(self.p99_ms),
            "cpu_ms_total": {g: round(v, 1) for g, v in self.cpu_ms.items()},
            "cpu_ms_per_booking": {g: rounded(v, 3) for g, v in self.cpu_per_booking().items()},
            **self.extra,
            "checks": self.checks,
        }


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


class Bench:
    def __init__(self) -> None:
        self.db_name = f"bookings_bench_{uuid.uuid4().hex[:8]}"
        self.dsn = SERVER.rsplit("/", 1)[0] + f"/{self.db_name}"
        self.scratch = Path(tempfile.mkdtemp(prefix="bookings-bench-"))
        self.env = service_env(
            self.dsn.replace("postgresql://", "postgresql+psycopg://"), REDIS_URL, self.scratch
        )
        self.stack = Stack(self.env, self.scratch)
        self.conn: psycopg.Connection[Any] | None = None
        self.sampler: CpuSampler | None = None
        self.token = ""
        self.user_token = ""  # a USER: held to room policies (the admin is exempt)
        self.load_before = os.getloadavg()[0]
        self.autovacuum = "unknown"

    # -- lifecycle -------------------------------------------------------------------

    def create_database(self) -> None:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
            self.autovacuum = self._autovacuum_on(conn)
        run_cli(self.env, "migrate")
        self.conn = psycopg.connect(self.dsn, autocommit=True)
        redis = Redis.from_url(REDIS_URL)
        redis.flushdb()
        self.sampler = CpuSampler(
            database=self.db_name,
            redis_pid=int(redis.info("server")["process_id"]),
            exclude=lambda: {self.sql_conn.info.backend_pid},
        )
        self.sampler.start()

    def start_system(self) -> None:
        self.stack.start()
        assert self.sampler is not None
        self.sampler.roots = {"api": self.stack.pids("api"), "worker": self.stack.pids("worker")}
        run_cli(
            self.env, "create-admin", "--email", "bench@example.com", "--password", "bench-pw-1"
        )
        status, doc = self.stack.http(
            "POST", "/v1/auth/token", {"email": "bench@example.com", "password": "bench-pw-1"}
        )
        assert status == 200, doc
        self.token = doc["access_token"]
        user = {"email": "bench-user@example.com", "name": "Bench", "password": "bench-pw-1"}
        status, doc = self.stack.http("POST", "/v1/auth/register", user)
        assert status == 201, doc
        login = {"email": user["email"], "password": user["password"]}
        status, doc = self.stack.http("POST", "/v1/auth/token", login)
        assert status == 200, doc
        self.user_token = doc["access_token"]

    @staticmethod
    def _autovacuum_on(conn: psycopg.Connection[Any]) -> str:
        """Autovacuum on for the run, as production has it: a server configured without it
        (CI machines often are) gets it turned on until close() and is told so. A figure
        measured without autovacuum does not count (README)."""
        row = conn.execute("SHOW autovacuum").fetchone()
        if row and row[0] == "on":
            return "on"
        try:
            conn.execute("ALTER SYSTEM SET autovacuum = on")
            conn.execute("SELECT pg_reload_conf()")
        except psycopg.Error as exc:
            print(f"WARNING: autovacuum is off and could not be turned on ({exc})", flush=True)
            return "off"
        for _ in range(50):  # the reload reaches the postmaster's children shortly
            if conn.execute("SHOW autovacuum").fetchone() == ("on",):
                break
            time.sleep(0.1)
        print("autovacuum was off on this server: on for the run", flush=True)
        return "on (turned on for the run)"

    def close(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        self.stack.stop()
        if self.conn is not None:
            self.conn.close()
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            if self.autovacuum.startswith("on ("):  # as the server was configured
                conn.execute("ALTER SYSTEM RESET autovacuum")
                conn.execute("SELECT pg_reload_conf()")
        shutil.rmtree(self.scratch, ignore_errors=True)

    @property
    def sql_conn(self) -> psycopg.Connection[Any]:
        assert self.conn is not None
        return self.conn

    # -- helpers ---------------------------------------------------------------------

    def rooms(self, prefix: str, count: int, policy: dict[str, Any] | None = None) -> list[str]:
        ids = []
        for i in range(count):
            body = {
                "name": f"{prefix}-{i}",
                "capacity": 10,
                **({"policy": policy} if policy else {}),
            }
            status, doc = self.stack.http("POST", "/v1/rooms", body, self.token)
            assert status == 201, doc
            ids.append(doc["id"])
        return ids

    def post(self, path: str, body: Any, token: str | None = None) -> str:
        status, doc = self.stack.http("POST", path, body, token or self.token)
        assert status == 202, doc
        return str(doc["task_id"])

    def wait_task(
        self, task_id: str, timeout: float = 120, token: str | None = None
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status, doc = self.stack.http(
                "GET", f"/v1/tasks/{task_id}?wait=5", token=token or self.token
            )
            assert status == 200, doc
            if doc["status"] not in ("QUEUED", "PROCESSING") or time.monotonic() > deadline:
                return dict(doc)

    @contextmanager
    def measured(self, scenario: Scenario) -> Iterator[None]:
        """CPU of every group between entering and leaving (the scenario's window)."""
        assert self.sampler is not None
        before = self.sampler.snapshot()
        yield
        scenario.cpu_ms.update(ms_between(before, self.sampler.snapshot()))

    def commits(self) -> int:
        """Transactions committed on the bench's database so far (pg_stat_database)."""
        self.sql_conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self.sql_conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        return int(row[0]) if row else 0

    def settle(self, timeout: float = 60) -> float:
        """Seconds spent letting Postgres digest the previous scenario before the next.

        A burst of 5,000 bookings sets autovacuum off on its tables a few seconds later,
        and that (seconds of CPU on two cores) would land in whichever scenario follows,
        paced above all. So between scenarios the bench runs VACUUM (ANALYZE) itself and
        waits for any autovacuum worker on its database to finish: each scenario starts
        from a database at rest, and the cost is reported here instead.
        """
        began = time.monotonic()
        self.sql_conn.execute("VACUUM (ANALYZE)")
        while time.monotonic() - began < timeout:
            row = self.sql_conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE backend_type = 'autovacuum worker' AND datname = current_database()"
            ).fetchone()
            if not row or row[0] == 0:
                break
            time.sleep(0.2)
        return time.monotonic() - began

    def wait_decided(self, rooms: list[str], timeout: float = DRAIN_SECONDS) -> float:
        """Seconds waited until no request of these rooms is QUEUED or PROCESSING."""
        began = time.monotonic()
        while True:
            row = self.sql_conn.execute(
                f"SELECT count(*) FROM booking_requests WHERE room_id = ANY(%s::uuid[])"
                f" AND status IN {PENDING}",
                (rooms,),
            ).fetchone()
            if not row or row[0] == 0 or time.monotonic() - began > timeout:
                return time.monotonic() - began
            time.sleep(0.1)

    def check(self, scenario: Scenario, *, expect_bookings: int | None = None) -> None:
        """Correctness, in SQL, over the scenario's rooms; fills scenario.checks."""
        rooms = scenario.rooms
        stats = self.sql_conn.execute(
            f"""SELECT count(*),
                       count(*) FILTER (WHERE status IN {PENDING}),
                       count(*) FILTER (WHERE status = 'SUCCEEDED'),
                       count(*) FILTER (WHERE status = 'REJECTED'),
                       count(*) FILTER (WHERE status = 'FAILED')
                  FROM booking_requests WHERE room_id = ANY(%s::uuid[])""",
            (rooms,),
        ).fetchone()
        assert stats is not None
        total, pending, succeeded, rejected, failed = stats
        overlaps = self.sql_conn.execute(
            """SELECT count(*) FROM bookings a JOIN bookings b
                   ON b.room_id = a.room_id AND b.id > a.id
                  AND tstzrange(b.start_time, b.end_time, '[)')
                      && tstzrange(a.start_time, a.end_time, '[)')
                WHERE a.room_id = ANY(%s::uuid[])
                  AND a.status = 'CONFIRMED' AND b.status = 'CONFIRMED'""",
            (rooms,),
        ).fetchone()
        confirmed = self.sql_conn.execute(
            "SELECT count(*) FROM bookings WHERE room_id = ANY(%s::uuid[])"
            " AND status = 'CONFIRMED'",
            (rooms,),
        ).fetchone()
        checks: dict[str, Any] = {
            "accepted": total,
            "undecided": pending,
            "succeeded": succeeded,
            "rejected": rejected,
            "failed": failed,
            "overlapping_pairs": overlaps[0] if overlaps else None,
            "confirmed_bookings": confirmed[0] if confirmed else None,
        }
        failures = []
        if checks["overlapping_pairs"] != 0:
            failures.append("overlapping confirmed bookings")
        if pending:
            failures.append(f"{pending} requests still undecided after {DRAIN_SECONDS:.0f} s")
        if failed:
            failures.append(f"{failed} requests FAILED")
        if rejected:  # every window of every scenario is free: a refusal is a wrong decision
            failures.append(f"{rejected} requests REJECTED although no window conflicts")
        if expect_bookings is not None and checks["confirmed_bookings"] != expect_bookings:
            failures.append(
                f"{checks['confirmed_bookings']} confirmed bookings, expected {expect_bookings}"
            )
        if scenario.extra.get("wrk", {}).get("non202"):
            failures.append(f"{scenario.extra['wrk']['non202']} HTTP answers were not 202")
        checks["failures"] = failures
        checks["ok"] = not failures
        scenario.checks = checks

    def row_stats(self, rooms: list[str]) -> dict[str, Any]:
        """decided/s = decided / (max(decided_at) - min(accepted_at)), latency percentiles."""
        row = self.sql_conn.execute(
            f"""SELECT count(*) FILTER (WHERE status NOT IN {PENDING}),
                       extract(epoch FROM max(decided_at) - min(accepted_at)),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY
                           extract(epoch FROM decided_at - accepted_at)),
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY
                           extract(epoch FROM decided_at - accepted_at)),
                       count(*),
                       extract(epoch FROM max(accepted_at) - min(accepted_at))
                  FROM booking_requests WHERE room_id = ANY(%s::uuid[])""",
            (rooms,),
        ).fetchone()
        assert row is not None
        decided, span, p50, p99, accepted, accept_span = row
        return {
            "accepted": accepted,
            "accepted_per_s": accepted / float(accept_span) if accept_span else None,
            "decided": decided,
            "span_s": float(span or 0),
            "p50_ms": None if p50 is None else float(p50) * 1000,
            "p99_ms": None if p99 is None else float(p99) * 1000,
        }

    # -- scenarios -------------------------------------------------------------------

    def baseline(self, seconds: float, samples: int = BASELINE_SAMPLES) -> Scenario:
        """Postgres alone, `samples` times on an emptied table; bookings/s is their median.
        One 5-s sample of four Python client threads ranged 3,560-4,830/s over ten runs
        (+-15%) while the system's floods stayed within +-5%, so a single sample decided
        whether a ratio met its goal (docs/performance.md)."""
        scenario = Scenario("baseline", [])
        base = Baseline(self.dsn, base=tomorrow())
        base.prepare()
        runs = []
        client_before = resource.getrusage(resource.RUSAGE_SELF)
        with self.measured(scenario):
            for n in range(samples):
                if n:
                    base.reset()
                runs.append(base.run(seconds))
        client_after = resource.getrusage(resource.RUSAGE_SELF)
        base.cleanup()
        result = {
            **runs[-1],
            "samples_per_s": [round(r["per_second"], 1) for r in runs],
            "per_second": statistics.median(r["per_second"] for r in runs),
            "stored": sum(r["stored"] for r in runs),
            "bookings": sum(r["bookings"] for r in runs),
            "conflicts": sum(r["conflicts"] for r in runs),
        }
        scenario.requests = scenario.bookings = result["bookings"]
        scenario.decided_per_s = result["per_second"]
        del scenario.cpu_ms["api"], scenario.cpu_ms["worker"]  # not running yet
        scenario.cpu_ms["load"] = 1000 * (
            client_after.ru_utime
            - client_before.ru_utime
            + client_after.ru_stime
            - client_before.ru_stime
        )
        scenario.extra["baseline"] = result
        ok = result["stored"] == result["bookings"] and result["conflicts"] == 0
        scenario.checks = {
            "stored": result["stored"],
            "conflicts": result["conflicts"],
            "failures": [] if ok else ["baseline rows do not match its count"],
            "ok": ok,
        }
        return scenario

    def warm_up(self) -> None:
        """A few bookings end to end: the pools are connected and the worker consumes."""
        room = self.rooms("warmup", 1)[0]
        start = tomorrow()
        tasks = [
            self.post("/v1/bookings", booking(room, start + i * SLOT, SLOT)) for i in range(20)
        ]
        for task in tasks:
            doc = self.wait_task(task, timeout=60)
            assert doc["status"] == "SUCCEEDED", doc

    def wrk(
        self,
        scenario: Scenario,
        *,
        threads: int,
        connections: int,
        seconds: float,
        max_requests: int,
        rate: int | None = None,
        token: str | None = None,
        gap: timedelta = timedelta(0),
        per_request: int = 1,
    ) -> None:
        """Run wrk into scenario.rooms; record its summary and its own CPU (rusage)."""
        rooms_file = self.scratch / f"{scenario.name}.rooms"
        rooms_file.write_text("\n".join(scenario.rooms) + "\n")
        argv = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(LUA),
            self.stack.base_url,
            "--",
            str(rooms_file),
            token or self.token,
            str(int(tomorrow().timestamp())),
            str(int(SLOT.total_seconds())),
            str(threads),
            str(max(1, max_requests // threads)),
            str(int(gap.total_seconds())),
            str(per_request),
        ]
        env = {**os.environ, "BENCH_RATE": str(rate or 0)}
        out_path = self.scratch / f"{scenario.name}.wrk.txt"
        with out_path.open("wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        text = out_path.read_text(errors="replace")
        summary = next(
            (json.loads(line[9:]) for line in text.splitlines() if line.startswith("WRK_JSON ")),
            None,
        )
        if proc.returncode != 0 or summary is None:
            raise RuntimeError(f"wrk failed ({proc.returncode}):\n{text}")
        scenario.extra["wrk"] = {
            "argv": f"wrk -t{threads} -c{connections} -d{seconds:g}s --latency"
            + (f" (BENCH_RATE={rate})" if rate else ""),
            **summary,
        }
        scenario.cpu_ms["load"] = 1000 * (usage.ru_utime + usage.ru_stime)
        for line in text.splitlines():
            if line.startswith("thread "):
                print(f"  wrk: {line}", file=sys.stderr)

    def http_scenario(
        self,
        name: str,
        rooms: list[str],
        *,
        threads: int,
        connections: int,
        seconds: float,
        max_requests: int,
        rate: int | None = None,
        as_user: bool = False,
        gap: timedelta = timedelta(0),
        per_request: int = 1,
    ) -> Scenario:
        """wrk's load; with per_request > 1, each request books that many rooms."""
        scenario = Scenario(name, rooms)
        commits = self.commits()
        stages_before = stages.scrape(self.stack.base_url)
        assert self.sampler is not None
        watch = PgWatch(self.dsn, self.db_name, groups=self.sampler.peek) if rate else None
        if watch:
            watch.start()
        with self.measured(scenario):
            wrk_cpu_start = time.monotonic()
            self.wrk(
                scenario,
                threads=threads,
                connections=connections,
                seconds=seconds,
                max_requests=max_requests,
                rate=rate,
                token=self.user_token if as_user else None,
                gap=gap,
                per_request=per_request,
            )
            load_s = time.monotonic() - wrk_cpu_start
            drained = self.wait_decided(rooms)
        stats = self.row_stats(rooms)
        if watch:
            watch.stop()
            scenario.extra["stalls"] = stalls(self.sql_conn, rooms, watch)
            scenario.extra["cpu_ticks_per_3s"] = watch.typical(3.0)
        scenario.extra["stages_ms"] = stages.between(
            stages_before, stages.scrape(self.stack.base_url)
        )
        scenario.requests = stats["accepted"]
        scenario.bookings = stats["decided"] * per_request
        scenario.decided_per_s = stats["decided"] / stats["span_s"] if stats["span_s"] else 0.0
        scenario.p50_ms, scenario.p99_ms = stats["p50_ms"], stats["p99_ms"]
        scenario.extra.update(load_s=round(load_s, 2), drain_s=round(drained, 2))
        scenario.extra["accepted_per_s"] = rounded(stats["accepted_per_s"])
        if per_request > 1:
            scenario.extra["rooms_per_request"] = per_request
        if scenario.bookings:  # every commit on the database, the API's accepts included
            scenario.extra["commits_per_booking"] = round(
                (self.commits() - commits) / scenario.bookings, 2
            )
        self.check(scenario, expect_bookings=stats["accepted"] * per_request)
        return scenario

    def series(self, runs: int = 5) -> Scenario:
        rooms = self.rooms("series", runs)
        scenario = Scenario("series_52", rooms)
        times = []
        with self.measured(scenario):
            for room in rooms:
                body = booking(room, tomorrow() + timedelta(days=1, hours=9), timedelta(hours=1))
                body["recurrence"] = {"freq": "WEEKLY", "count": 52}
                began = time.perf_counter()
                doc = self.wait_task(self.post("/v1/bookings/recurring", body))
                times.append(time.perf_counter() - began)
                assert doc["status"] == "SUCCEEDED", doc
        scenario.requests = runs
        scenario.bookings = 52 * runs
        scenario.decided_per_s = scenario.bookings / sum(times)
        scenario.p50_ms = statistics.median(times) * 1000
        scenario.p99_ms = max(times) * 1000
        scenario.extra["post_to_succeeded_s"] = [round(t, 3) for t in times]
        self.wait_decided(rooms)
        self.check(scenario, expect_bookings=52 * runs)
        return scenario

    def batch(
        self,
        items: int = 1000,
        room_count: int = 50,
        *,
        name: str = "batch_1000",
        policy: dict[str, Any] | None = None,
    ) -> Scenario:
        """One 1000-item batch. With a policy: into rooms that have it, by the user (held
        to it), windows POLICY_GAP apart; decided in the same full transactions, so its
        worker CPU per booking against batch_1000's is the cost of the rules."""
        rooms = self.rooms(name, room_count, policy)
        scenario = Scenario(name, rooms)
        base = tomorrow() + timedelta(days=2)
        length = SLOT - POLICY_GAP if policy else SLOT
        body = {
            "items": [
                booking(rooms[i % room_count], base + (i // room_count) * SLOT, length)
                for i in range(items)
            ]
        }
        token = self.user_token if policy else self.token
        with self.measured(scenario):
            posted_at = datetime.now(UTC)
            began = time.perf_counter()
            task = self.post("/v1/bookings/batch", body, token)
            accepted = time.perf_counter() - began
            doc = self.wait_task(task, token=token)
            decided = time.perf_counter() - began
        assert doc["status"] == "SUCCEEDED", doc.get("progress")
        last = self.sql_conn.execute(
            "SELECT max(decided_at) FROM booking_requests WHERE room_id = ANY(%s::uuid[])",
            (rooms,),
        ).fetchone()
        scenario.requests = 1
        scenario.bookings = items
        scenario.decided_per_s = items / decided
        scenario.extra.update(
            accepted_s=round(accepted, 3),
            decided_s=round(decided, 3),
            decided_s_from_rows=round((last[0] - posted_at).total_seconds(), 3)
            if last and last[0]
            else None,
        )
        self.wait_decided(rooms)
        self.check(scenario, expect_bookings=items)
        return scenario

    def soak(self, minutes: float = SOAK_MINUTES) -> Scenario:
        """paced's load for minutes on end: p50/p99 of each minute's requests."""
        rooms = self.rooms("soak", 100)
        scenario = self.http_scenario(
            "soak",
            rooms,
            threads=1,
            connections=16,
            seconds=minutes * 60,
            max_requests=int(minutes * 60 * 100) + 100,
            rate=100,
        )
        # Each minute's p50/p99 as row_stats computes them; a last minute of a few
        # stragglers says nothing.
        rows = self.sql_conn.execute(
            """SELECT minute, count(*),
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),
                      percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)
                 FROM (SELECT floor(extract(epoch FROM accepted_at
                                    - min(accepted_at) OVER ()) / 60) AS minute,
                              extract(epoch FROM decided_at - accepted_at) * 1000 AS ms
                         FROM booking_requests WHERE room_id = ANY(%s::uuid[])) r
                GROUP BY minute HAVING count(*) >= 100 ORDER BY minute""",
            (rooms,),
        ).fetchall()
        minutes_seen = [
            {"minute": int(m), "requests": n, "p50_ms": round(p50, 1), "p99_ms": round(p99, 1)}
            for m, n, p50, p99 in rows
        ]
        scenario.extra["minutes"] = minutes_seen
        scenario.extra["worst_minute_p99_ms"] = max(
            (m["p99_ms"] for m in minutes_seen), default=None
        )
        return scenario

    def dry_run(self, runs: int = 300) -> Scenario:
        """POST /v1/bookings/check against a policy room holding bookings, one at a time,
        beside GET /v1/rooms/{id} (the API's plainest read) on the same connection type."""
        [room] = self.rooms("dry-run", 1, POLICY)
        base = tomorrow() + timedelta(days=3)
        for i in range(20):  # something to check against: its calendar and the quota
            task = self.post("/v1/bookings", booking(room, base + i * SLOT, SLOT - POLICY_GAP))
            self.wait_task(task)
        scenario = Scenario("dry_run", [room])
        checks, reads = [], []
        with self.measured(scenario):
            for i in range(runs):
                body = booking(room, base + (i % 40) * SLOT, SLOT - POLICY_GAP)
                began = time.perf_counter()
                status, doc = self.stack.http("POST", "/v1/bookings/check", body, self.user_token)
                checks.append(time.perf_counter() - began)
                assert status == 200 and "ok" in doc, doc
                began = time.perf_counter()
                status, _ = self.stack.http("GET", f"/v1/rooms/{room}", token=self.user_token)
                reads.append(time.perf_counter() - began)
                assert status == 200
        scenario.requests = runs
        scenario.bookings = runs
        scenario.decided_per_s = runs / sum(checks)
        checks_ms = sorted(1000 * t for t in checks)
        reads_ms = sorted(1000 * t for t in reads)
        scenario.p50_ms = statistics.median(checks_ms)
        scenario.p99_ms = checks_ms[int(0.99 * (len(checks_ms) - 1))]
        scenario.extra["get_room_ms"] = {
            "p50": round(statistics.median(reads_ms), 2),
            "p99": round(reads_ms[int(0.99 * (len(reads_ms) - 1))], 2),
        }
        written = self.sql_conn.execute(
            "SELECT count(*) FROM booking_requests WHERE room_id = %s", (room,)
        ).fetchone()
        scenario.checks = {"requests_written": written[0] if written else None}
        if scenario.checks["requests_written"] != 20:
            scenario.checks["failures"] = ["the dry run wrote requests"]
        return scenario

    def find_time(self, calls: int = 400) -> Scenario:
        """GET /v1/rooms/find-time, one call at a time, the questions of bench/find_time.py
        in turn, over its 200 rooms and their week of bookings (decided first)."""
        rooms = []
        for body in find_time.room_bodies():
            status, doc = self.stack.http("POST", "/v1/rooms", body, self.token)
            assert status == 201, doc
            rooms.append((doc["id"], doc["timezone"]))
        monday = find_time.monday_after(tomorrow())
        booked = 0
        for items in find_time.booking_batches(rooms, monday):
            doc = self.wait_task(self.post("/v1/bookings/batch", {"items": items}))
            assert doc["status"] == "SUCCEEDED", doc.get("progress")
            booked += len(items)
        scenario = Scenario("find_time", [room for room, _ in rooms])
        questions = find_time.questions(monday)
        took: dict[str, list[float]] = {name: [] for name, _, _ in questions}
        windows: dict[str, int] = {}
        with self.measured(scenario):
            for i in range(calls):
                name, path, as_admin = questions[i % len(questions)]
                token = self.token if as_admin else self.user_token
                began = time.perf_counter()
                status, doc = self.stack.http("GET", path, token=token)
                took[name].append(1000 * (time.perf_counter() - began))
                assert status == 200, doc
                windows[name] = len(doc["items"])
        every = sorted(t for times in took.values() for t in times)
        scenario.requests = scenario.bookings = calls  # CPU per call
        scenario.decided_per_s = 1000 * calls / sum(every)  # calls per second, one at a time
        scenario.p50_ms, scenario.p99_ms = statistics.median(every), percentile(every, 0.99)
        scenario.extra.update(rooms=len(rooms), bookings_in_the_week=booked)
        scenario.extra["questions"] = {
            name: {
                "p50": round(statistics.median(times), 2),
                "p99": round(percentile(sorted(times), 0.99), 2),
                "windows": windows[name],
            }
            for name, times in took.items()
        }
        row = self.sql_conn.execute(
            "SELECT count(*) FROM bookings WHERE room_id = ANY(%s::uuid[])"
            " AND status = 'CONFIRMED'",
            (scenario.rooms,),
        ).fetchone()
        expected = {"an_hour": 10, "none_fits": 0, "admin_an_hour": 10}
        wrong = [
            f"{n}: {windows[n]} windows, not {k}" for n, k in expected.items() if windows[n] != k
        ]
        if not row or row[0] != booked:
            wrong.append(f"{row and row[0]} bookings confirmed, not {booked}")
        scenario.checks = {"confirmed_bookings": row and row[0], "failures": wrong, "ok": not wrong}
        return scenario


def percentile(ordered: list[float], share: float) -> float:
    return ordered[int(share * (len(ordered) - 1))]


def booking(room: str, start: datetime, length: timedelta) -> dict[str, Any]:
    return {
        "room_id": room,
        "start_time": start.isoformat(),
        "end_time": (start + length).isoformat(),
        "title": "bench",
    }


def report(bench: Bench, results: list[Scenario], started: float) -> dict[str, Any]:
    by_name = {s.name: s for s in results}
    base = by_name["baseline"].decided_per_s
    for s in results:
        if s.name != "baseline":
            s.ratio = s.decided_per_s / base if base else None
    spread, hot, paced, batch, soak = (
        by_name.get(n) for n in ("spread", "hot", "paced", "batch_1000", "soak")
    )
    ruled = by_name.get("batch_policies")

    def per(s: Scenario | None, group: str) -> float | None:
        return None if s is None else s.cpu_per_booking().get(group)

    measured: dict[str, Any] = {
        "spread_ratio": spread and spread.ratio,
        "hot_ratio": hot and hot.ratio,
        "cpu_api_ms_per_booking": per(spread, "api"),
        "cpu_worker_ms_per_booking": per(spread, "worker"),
        "paced_p50_ms": paced and paced.p50_ms,
        "paced_p99_ms": paced and paced.p99_ms,
        "soak_worst_minute_p99_ms": soak and soak.extra["worst_minute_p99_ms"],
        "batch_1000_decided_s": batch and batch.extra.get("decided_s"),
        "policy_worker_cpu_vs_batch": (
            per(ruled, "worker") / per(batch, "worker")  # type: ignore[operator]
            if per(ruled, "worker") and per(batch, "worker")
            else None
        ),
        "find_time_p99_ms": by_name["find_time"].p99_ms if "find_time" in by_name else None,
    }
    several = by_name.get("several")
    compared = {
        # requests decided per second, two rooms each against one room each, same run
        "several_vs_spread_requests": several.decided_per_s / spread.decided_per_s
        if several and spread and spread.decided_per_s
        else None,
    }
    goals = {}
    for key, (limit, op, _) in LIMITS.items():
        value = measured[key]
        met = None if value is None else (value >= limit if op == ">=" else value <= limit)
        goals[key] = {"value": rounded(value, 3), "goal": GOALS[key], "met": met}
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores {platform.machine()}, "
        f"Python {platform.python_version()} ({os.path.realpath(sys._base_executable)}), "
        f"load average before "
        f"{bench.load_before:.2f}",
        "commit": git_commit(),
        "system": bench.stack.describe(),
        "duration_s": round(time.monotonic() - started, 1),
        "autovacuum": bench.autovacuum,
        "baseline_per_s": round(base, 1),
        "ratios": {s.name: rounded(s.ratio, 3) for s in results if s.ratio is not None},
        "cpu_ms_per_booking": {
            s.name: {g: rounded(v, 3) for g, v in s.cpu_per_booking().items()} for s in results
        },
        "latency_ms": {
            s.name: {"p50": rounded(s.p50_ms), "p99": rounded(s.p99_ms)}
            for s in results
            if s.p50_ms is not None
        },
        "goals": goals,
        "compared": {k: rounded(v, 3) for k, v in compared.items()},
        "checks": {s.name: s.checks for s in results},
        "ok": all(s.ok for s in results),
        "scenarios": {s.name: s.as_json() for s in results},
    }


def git_commit() -> str:
    """HEAD, with `-dirty` if anything but bench/results differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results")
    return head + ("-dirty" if dirty else "")


def cell(value: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if value is None else fmt.format(value)


def print_table(doc: dict[str, Any], results: list[Scenario]) -> None:
    print()
    print(
        f"{'scenario':<11}{'requests':>9}{'bookings':>9}{'decided/s':>11}{'ratio':>7}"
        f"{'p50 ms':>9}{'p99 ms':>9}   CPU ms/booking: "
        f"{'api':>6}{'worker':>7}{'pg':>7}{'redis':>7}{'load':>7}   checks"
    )
    for s in results:
        cpu = s.cpu_per_booking()
        print(
            f"{s.name:<11}{s.requests:>9}{s.bookings:>9}{s.decided_per_s:>11.1f}"
            f"{cell(s.ratio, '{:.3f}'):>7}{cell(s.p50_ms, '{:.1f}'):>9}"
            f"{cell(s.p99_ms, '{:.1f}'):>9}{'':18}"
            + "".join(
                f"{cell(cpu.get(g)):>{w}}" for g, w in zip(GROUPS, (6, 7, 7, 7, 7), strict=True)
            )
            + f"   {'ok' if s.ok else 'FAIL: ' + '; '.join(s.checks.get('failures', []))}"
        )
    for s in results:
        if "wrk" in s.extra:
            accepted = cell(s.extra["accepted_per_s"], "{:.1f}")
            http = s.extra["wrk"]["latency_us"]
            print(
                f"{s.name}: {s.extra['wrk']['argv']}: accepted {accepted}/s (rows), "
                f"HTTP p50/p99 {http['p50'] / 1000:.1f}/{http['p99'] / 1000:.1f} ms, "
                f"backlog drained in "
                f"{s.extra['drain_s']:.1f} s after wrk ended, "
                f"{s.extra.get('commits_per_booking', '-')} commits per booking"
            )
            took = s.extra["stages_ms"].items()
            print(
                "  stages p50/p99 ms: "
                + ", ".join(
                    f"{stage} {cell(t['p50_ms'], '{:.1f}')}/{cell(t['p99_ms'], '{:.1f}')}"
                    for stage, t in took
                    if t["n"]
                )
            )
    batch = next((s for s in results if s.name == "batch_1000"), None)
    if batch:
        print(
            f"batch_1000: accepted in {batch.extra['accepted_s']:.3f} s, all decided "
            f"{batch.extra['decided_s']:.3f} s after the POST "
            f"(rows: {batch.extra['decided_s_from_rows']} s)"
        )
    soak = next((s for s in results if s.name == "soak"), None)
    if soak:
        print(
            "soak: p50/p99 ms of each minute: "
            + ", ".join(f"{m['p50_ms']:.0f}/{m['p99_ms']:.0f}" for m in soak.extra["minutes"])
        )
    for paced in (s for s in results if "stalls" in s.extra):
        if not paced.extra["stalls"]:
            print(f"{paced.name}: no request took over 50 ms")
        else:
            print(
                f"{paced.name}: seconds with requests over 50 ms (from its start; the server "
                f"and each group's CPU ticks from a second before to two after; in 3 s on "
                f"average {paced.extra['cpu_ticks_per_3s']}):"
            )
        for stall in paced.extra["stalls"]:
            doing = ", ".join(stall["maintenance"]) or "no vacuum or analyze"
            print(
                f"  {stall['t_s']:>4} s: {stall['slow']} slow, max {stall['max_ms']:.0f} ms; "
                f"arrived {'/'.join(map(str, stall['arrived']))} (s-1/s/s+1); "
                f"{doing}; {stall['checkpoints']} checkpoints; "
                f"lock waits up to {stall['max_lock_waits']}, active up to {stall['max_active']}; "
                f"machine busy {stall['machine_busy_pct']}%, steal {stall['steal_pct']}%; "
                f"CPU ticks {stall['cpu_ticks']}"
            )
    pause = "VACUUM (ANALYZE) before each" if doc.get("settled") else "back to back, no pause"
    print(f"scenarios {pause}; autovacuum {doc['autovacuum']}")
    print("series_52: p50/p99 columns are the median/max of POST -> SUCCEEDED over 5 series")
    dry = next((s for s in results if s.name == "dry_run"), None)
    if dry:
        reads = dry.extra["get_room_ms"]
        print(
            f"dry_run: POST /v1/bookings/check p50/p99 {dry.p50_ms:.2f}/{dry.p99_ms:.2f} ms, "
            f"GET /v1/rooms/{{id}} p50/p99 {reads['p50']:.2f}/{reads['p99']:.2f} ms (one at a time)"
        )
    found = next((s for s in results if s.name == "find_time"), None)
    if found:
        print(
            f"find_time: GET /v1/rooms/find-time over {found.extra['rooms']} rooms and "
            f"{found.extra['bookings_in_the_week']} bookings in a week, p50/p99 "
            f"{found.p50_ms:.2f}/{found.p99_ms:.2f} ms (one at a time); by question: "
            + ", ".join(
                f"{name} {t['p50']:.1f}/{t['p99']:.1f} ({t['windows']} windows)"
                for name, t in found.extra["questions"].items()
            )
        )
    print(
        "decided/s = decided / (max(decided_at) - min(accepted_at)) from booking_requests;"
        " ratio = decided/s / baseline/s; latency = decided_at - accepted_at"
    )
    base = next(s for s in results if s.name == "baseline")  # every run starts with it
    samples = ", ".join(f"{v:,.0f}" for v in base.extra["baseline"]["samples_per_s"])
    print(f"baseline/s = the median of its samples: {samples}")
    print(
        "CPU ms per decided booking from /proc; pg = the bench database's backends + the"
        " cluster's shared processes; load = wrk (baseline: its Python client threads)"
    )
    ratio = doc["compared"].get("several_vs_spread_requests")
    if ratio is not None:
        print(f"several: two-room requests decided/s = {ratio:.2f} x spread's one-room ones")
    print("\ngoal                          value     goal                met")
    for key, goal in doc["goals"].items():
        met = {True: "yes", False: "NO", None: "-"}[goal["met"]]
        print(f"{key:<30}{cell(goal['value'], '{:.3f}'):>8}     {goal['goal']:<20}{met}")
    print()


def _http(name: str, rooms: int, **load: Any) -> Any:
    return lambda bench: bench.http_scenario(name, bench.rooms(name, rooms), **load)


SCENARIOS = {
    "spread": _http(
        "spread", 100, threads=2, connections=16, seconds=SECONDS, max_requests=MAX_REQUESTS
    ),
    "hot": _http("hot", 1, threads=2, connections=16, seconds=SECONDS, max_requests=MAX_REQUESTS),
    "paced": _http(
        "paced", 100, threads=1, connections=16, seconds=10, max_requests=1000, rate=100
    ),
    "series_52": lambda bench: bench.series(),
    "batch_1000": lambda bench: bench.batch(),
    "batch_policies": lambda bench: bench.batch(name="batch_policies", policy=POLICY),
    "policies": lambda bench: bench.http_scenario(
        "policies",
        bench.rooms("policies", 100, POLICY),
        threads=2,
        connections=16,
        seconds=SECONDS,
        max_requests=MAX_REQUESTS,
        as_user=True,
        gap=POLICY_GAP,
    ),
    "dry_run": lambda bench: bench.dry_run(),
    "soak": lambda bench: bench.soak(),
    "several": _http(
        "several",
        100,
        threads=2,
        connections=16,
        seconds=SECONDS,
        max_requests=MAX_REQUESTS // 2,
        per_request=2,
    ),
    "find_time": lambda bench: bench.find_time(),
}


DEFAULT = [name for name in SCENARIOS if name != "soak"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, help="worker processes (sets BENCH_WORKERS)")
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT),
        help="comma-separated scenarios to run after the baseline (default: all);"
        " a partial run does not replace bench/results/latest.json",
    )
    parser.add_argument(
        "--settle",
        action="store_true",
        help="VACUUM (ANALYZE) and wait for autovacuum before each scenario (the settled"
        " figures; by default the scenarios run back to back, as a production database"
        " lives, and the goals are read from that)",
    )
    args = parser.parse_args()
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    if unknown := set(only) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.workers:
        os.environ["BENCH_WORKERS"] = str(args.workers)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk; `make bench` does it)", file=sys.stderr)
        return 2
    started = time.monotonic()
    bench = Bench()
    results: list[Scenario] = []
    try:
        bench.create_database()
        print(f"database {bench.db_name}: baseline ...", flush=True)
        results.append(bench.baseline(args.baseline_seconds))
        print("starting api + worker ...", flush=True)
        bench.start_system()
        bench.warm_up()
        for name in only:
            settled = bench.settle() if args.settle else 0.0
            pause = f"after {settled:.1f} s of VACUUM/settling" if args.settle else "no pause"
            print(f"{name} ... ({pause})", flush=True)
            results.append(SCENARIOS[name](bench))
            results[-1].extra["settle_s"] = round(settled, 2)
    except BaseException:
        for role in bench.stack.roles:
            print(f"--- {role.name} log (tail) ---\n{role.tail()}", file=sys.stderr)
        raise
    finally:
        bench.close()
    doc = report(bench, results, started)
    doc["settled"] = args.settle
    print_table(doc, results)
    print("BENCH_JSON " + json.dumps(doc, separators=(",", ":"), default=str))
    if only == DEFAULT and not args.settle:
        out = ROOT / "bench" / "results" / "latest.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(doc, indent=2, default=str) + "\n")
        print(f"written to {out.relative_to(ROOT)}")
    if not doc["ok"]:
        print("CHECKS FAILED", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
