"""Benchmark: a 52-week series, a 1000-item batch over 50 rooms, and a burst of singles.

Runs against real Postgres, Redis and `bookings worker` processes, in a database of its
own that it drops at the end. Usage: `make bench` (or `python bench/run.py --workers 2`).
Prints a table and writes bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DB_NAME = f"bookings_bench_{uuid.uuid4().hex[:8]}"
os.environ.update(
    DATABASE_URL=SERVER.rsplit("/", 1)[0] + f"/{DB_NAME}",
    REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
    SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789",
    BOOKINGS_ENV="production",
    RATE_LIMITS="off",
    LOG_LEVEL="WARNING",
)
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from redis import Redis  # noqa: E402

from api import create_app  # noqa: E402
from cli.migrations import upgrade_head  # noqa: E402
from models.db import dispose_engines, session_factory  # noqa: E402
from models.services import accounts  # noqa: E402

TERMINAL = {"SUCCEEDED", "REJECTED", "FAILED"}


def admin_conn() -> psycopg.Connection[Any]:
    return psycopg.connect(SERVER.replace("postgresql+psycopg", "postgresql"), autocommit=True)


class Bench:
    def __init__(self, workers: int) -> None:
        with admin_conn() as conn:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        upgrade_head(os.environ["DATABASE_URL"])
        Redis.from_url(os.environ["REDIS_URL"]).flushdb()
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "cli", "worker", "--concurrency", "2"],
                cwd=ROOT,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        self.port = free_port()
        self.procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "cli", "api", "--port", str(self.port), "--workers", "2"],
                cwd=ROOT,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        self.app = create_app()
        self.client = self.app.test_client()
        sessions = session_factory(os.environ["DATABASE_URL"])
        with sessions.begin() as session:
            accounts.create_admin(session, email="bench@example.com", password="bench-pass-1")
        token = self.client.post(
            "/v1/auth/token", json={"email": "bench@example.com", "password": "bench-pass-1"}
        ).json["access_token"]
        self.auth = {"Authorization": f"Bearer {token}"}
        time.sleep(4)  # workers connect
        wait_for_http(f"http://127.0.0.1:{self.port}/healthz")

    def http_post(self, path: str, body: dict[str, Any]) -> str:
        """POST through gunicorn over loopback, as a real client would."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=json.dumps(body).encode(),
            headers={**self.auth, "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            assert response.status == 202
            return str(json.load(response)["task_id"])

    def close(self) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            proc.wait(timeout=30)
        dispose_engines()
        with admin_conn() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')

    def room(self, name: str) -> str:
        response = self.client.post(
            "/v1/rooms", json={"name": name, "capacity": 10}, headers=self.auth
        )
        return str(response.json["id"])

    def post(self, path: str, body: dict[str, Any]) -> str:
        response = self.client.post(path, json=body, headers=self.auth)
        assert response.status_code == 202, response.json
        return str(response.json["task_id"])

    def wait(self, task_id: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            doc = self.client.get(f"/v1/tasks/{task_id}?wait=5", headers=self.auth).json
            if doc["status"] in TERMINAL or time.monotonic() > deadline:
                return doc  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def start_at(days: int, hour: int = 9) -> datetime:
    base = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return base + timedelta(days=days)


def body(room: str, start: datetime, minutes: int = 60, **extra: Any) -> dict[str, Any]:
    end = start + timedelta(minutes=minutes)
    return {
        "room_id": room,
        "start_time": start.isoformat(),
        "end_time": end.isoformat(),
        "title": "bench",
        **extra,
    }


def series_52_weeks(bench: Bench, runs: int = 5) -> dict[str, float]:
    end_to_end = []
    for i in range(runs):
        room = bench.room(f"series-{i}")
        series = body(room, start_at(2), recurrence={"freq": "WEEKLY", "count": 52})
        began = time.perf_counter()
        doc = bench.wait(bench.post("/v1/bookings/recurring", series))
        end_to_end.append(time.perf_counter() - began)
        assert doc["status"] == "SUCCEEDED" and doc["progress"]["confirmed"] == 52, doc
    return {"series_52_end_to_end_s": statistics.median(end_to_end)}


def batch_1000_over_50_rooms(bench: Bench) -> dict[str, float]:
    rooms = [bench.room(f"batch-{i}") for i in range(50)]
    items = [
        body(rooms[i % 50], start_at(3 + i // 50 // 8, 8 + (i // 50) % 8)) for i in range(1000)
    ]
    began = time.perf_counter()
    response = bench.client.post("/v1/bookings/batch", json={"items": items}, headers=bench.auth)
    accepted = time.perf_counter() - began
    doc = bench.wait(str(response.json["task_id"]))
    total = time.perf_counter() - began
    assert doc["status"] == "SUCCEEDED" and doc["progress"]["confirmed"] == 1000, doc["progress"]
    return {
        "batch_1000_accept_s": accepted,
        "batch_1000_end_to_end_s": total,
        "batch_1000_per_second": 1000 / total,
    }


def singles_over_http(bench: Bench, count: int = 2000, rooms: int = 20) -> dict[str, float]:
    """2000 single bookings from 16 client threads through gunicorn (2 processes)."""
    ids = [bench.room(f"burst-{i}") for i in range(rooms)]
    bodies = [
        body(ids[i % rooms], start_at(10 + (i // rooms) // 10, 8 + (i // rooms) % 10))
        for i in range(count)
    ]
    began = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        task_ids = list(pool.map(lambda b: bench.http_post("/v1/bookings", b), bodies))
    accepted = time.perf_counter() - began
    statuses = [bench.wait(t)["status"] for t in task_ids]
    total = time.perf_counter() - began
    assert statuses.count("SUCCEEDED") == count, set(statuses)
    return {
        "singles_http_accept_per_second": count / accepted,
        "singles_http_decided_per_second": count / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (2 pool each)")
    args = parser.parse_args()
    bench = Bench(args.workers)
    try:
        results: dict[str, Any] = {}
        results |= series_52_weeks(bench)
        results |= batch_1000_over_50_rooms(bench)
        results |= singles_over_http(bench)
    finally:
        bench.close()
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores {platform.machine()}, "
        f"Python {platform.python_version()}",
        "workers": f"{args.workers} x `bookings worker --concurrency 2`",
        "results": {k: round(v, 3) for k, v in results.items()},
    }
    out = ROOT / "bench" / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    for name, value in report["results"].items():
        print(f"{name:<36}{value:>12}")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
