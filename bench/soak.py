"""Soak: a moderate load for a long while, a worker killed every minute, Redis restarted
once; each process's memory sampled over time, and every request checked at the end.

    .venv/bin/python bench/soak.py              # 10 minutes at 20 bookings/s
    .venv/bin/python bench/soak.py --minutes 2  # a short one

The system runs as deployed (`bookings api`, `bookings worker`, `bookings beat`) on a
database of its own on BENCH_DATABASE_URL's server and a redis-server of its own (so the
restart touches nobody else). The load and the checks are the fault tests' (tests/load.py):
every accepted request decided exactly once, no FAILED, no overlap, first come first
served. Writes bench/results/soak.json and prints a memory table (RSS, MiB).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stack import ROOT, Stack, cli_argv, free_port, run_cli, service_env

from models.db import session_factory
from tests.faults import RedisServer
from tests.load import Load, undecided_count, violations

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SAMPLE_SECONDS = 10.0


class Answer:
    """What tests/load.py reads of a response (a Flask test response's names)."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.headers = headers or {}
        self._body = body
        self.json: Any = json.loads(body) if body else None

    def get_data(self, as_text: bool = False) -> Any:
        return self._body.decode(errors="replace") if as_text else self._body


class HttpClient:
    """A keep-alive HTTP/1.1 client with the test client's `post`."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        self._conn: http.client.HTTPConnection | None = None

    def post(self, path: str, json: Any, headers: dict[str, str]) -> Answer:
        import json as codec

        body = codec.dumps(json).encode()
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self._conn.request(
                    "POST", path, body=body, headers={**headers, "Content-Type": "application/json"}
                )
                response = self._conn.getresponse()
                return Answer(response.status, response.read(), dict(response.getheaders()))
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def tree_rss_mib(pid: int) -> float:
    """The resident memory of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="bookings per second")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bookings-soak-"))
    db_name = f"bookings_soak_{uuid.uuid4().hex[:8]}"
    dsn = SERVER.rsplit("/", 1)[0] + f"/{db_name}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    redis = RedisServer(scratch)
    redis.start()
    url = dsn.replace("postgresql://", "postgresql+psycopg://")
    env = service_env(url, redis.url(0), scratch)
    env.update(SWEEP_SECONDS="1", SWEEP_STALE_SECONDS="2")
    stack = Stack(env, scratch)
    try:
        run_cli(env, "migrate")
        (scratch / "metrics").mkdir()
        worker = stack._start("worker0", cli_argv("worker", "--concurrency", "2"))
        beat = stack._start("beat", cli_argv("beat", "--schedule-dir", str(scratch)))
        stack.port = free_port()
        api = stack._start("api", cli_argv("api", "--port", str(stack.port), "--workers", "1"))
        stack.wait_ready()
        run_cli(env, "create-admin", "--email", "soak@example.com", "--password", "soak-pw-1")
        status, doc = stack.http(
            "POST", "/v1/auth/token", {"email": "soak@example.com", "password": "soak-pw-1"}
        )
        token = doc["access_token"]
        rooms = []
        for i in range(13):
            status, doc = stack.http("POST", "/v1/rooms", {"name": f"S{i}", "capacity": 8}, token)
            assert status == 201, doc
            rooms.append(doc["id"])
        client = HttpClient(stack.port)
        headers = {"Authorization": f"Bearer {token}"}
        load = Load(client, headers, rooms[:12], rooms[12])  # type: ignore[arg-type]
        load.rate = args.rate

        samples: list[dict[str, Any]] = []
        kills = redis_restarts = 0
        started = time.monotonic()
        end = started + args.minutes * 60
        next_kill, next_sample = started + 60, started
        restart_at = started + args.minutes * 30
        load.start()
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_sample:
                samples.append(
                    {
                        "t": round(now - started),
                        "api": tree_rss_mib(api.proc.pid),
                        "worker": tree_rss_mib(worker.proc.pid),
                        "beat": tree_rss_mib(beat.proc.pid),
                        "redis": tree_rss_mib(redis.proc.pid) if redis.proc else 0.0,
                        "accepted": len(load.sent),
                    }
                )
                print(json.dumps(samples[-1]), flush=True)
                next_sample += SAMPLE_SECONDS
            if now >= next_kill:
                os.killpg(worker.proc.pid, signal.SIGKILL)
                worker.proc.wait()
                kills += 1
                worker = stack._start(f"worker{kills}", cli_argv("worker", "--concurrency", "2"))
                next_kill += 60
            if redis_restarts == 0 and now >= restart_at:
                redis.stop(signal.SIGKILL)
                time.sleep(2)
                redis.start()
                redis_restarts += 1
            time.sleep(0.5)
        load.stop()
        sessions = session_factory(url)
        drain_started = time.monotonic()
        while undecided_count(sessions, load.sent) and time.monotonic() - drain_started < 300:
            time.sleep(1)
        drained = time.monotonic() - drain_started
        problems = violations(sessions, load.sent)
        report = {
            "minutes": args.minutes,
            "rate": args.rate,
            "accepted": len(load.sent),
            "answers": {str(k): v for k, v in load.statuses.items()},
            "worker_kills": kills,
            "redis_restarts": redis_restarts,
            "drained_seconds_after_load": round(drained, 1),
            "violations": problems,
            "memory_mib": samples,
        }
        out = ROOT / "bench" / "results" / "soak.json"
        out.write_text(json.dumps(report, indent=2) + "\n")
        first, last = samples[0], samples[-1]
        print(f"\n{len(load.sent)} accepted, answers {report['answers']}, {kills} worker kills,")
        print(f"{redis_restarts} Redis restart; all decided {drained:.1f} s after the load")
        print("RSS MiB   first   last   max")
        for role in ("api", "worker", "beat", "redis"):
            peak = max(s[role] for s in samples)
            print(f"{role:8} {first[role]:7} {last[role]:6} {peak:5}")
        print("violations:", problems or "none")
        print(f"wrote {out}")
        if problems or "500" in report["answers"]:
            sys.exit(1)
    finally:
        stack.stop()
        redis.stop(signal.SIGKILL)
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
