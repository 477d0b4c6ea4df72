"""Faults under a steady load: workers killed, Redis restarted, every Postgres backend
terminated, a worker stalled past its lock's TTL, two workers and two beats at once.

The module runs a stack of its own, so the shared services are never touched: an
embedded PostgreSQL (on a Unix socket of its own), a redis-server on a spare port (broker
and locks, no persistence: a restart loses every key and queued message), `bookings
worker` and `bookings beat` processes, and an API app in this process. A load books at a
steady rate over 12 rooms and one hot room (tests/load.py). After each fault, every
accepted request is decided exactly once with no FAILED, no two confirmed bookings
overlap (checked in SQL), each room's requests are decided first come first served, and
the API answered 202 or 503, never 500. The time to recover is printed (`pytest -s`).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from cli.embedded import EmbeddedPostgres
from models.db import session_factory
from models.locks import ROOM_LOCK_TTL_SECONDS, room_lock_name
from models.settings import load_settings
from tests.faults import RedisServer, Worker, wait_until
from tests.load import Load, Sent, undecided_count, violations
from tests.roles import start_role, stop_role

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("CELERY_BROKER_URL")),
    reason="CELERY_BROKER_URL would point this module's in-process API at another broker",
)

DRAIN_TIMEOUT = 120.0


@dataclass
class Stack:
    work: Path
    database_url: str
    redis: RedisServer
    env: dict[str, str]
    app: Flask
    sessions: sessionmaker[Session]
    workers: list[Worker]
    beats: list[subprocess.Popen[bytes]]

    def start_worker(self) -> Worker:
        worker = Worker(self.work / f"worker-{len(self.workers)}.log", self.env)
        worker.start()
        self.workers.append(worker)
        return worker

    def start_beat(self) -> subprocess.Popen[bytes]:
        schedule = self.work / f"beat-{len(self.beats)}"
        schedule.mkdir(exist_ok=True)
        # The sweeper every second: what a Redis restart throws away is sent again soon.
        env = {**self.env, "SWEEP_SECONDS": "1", "SWEEP_STALE_SECONDS": "2"}
        beat = start_role(["beat", "--schedule-dir", str(schedule)], schedule / "beat.log", env)
        self.beats.append(beat)
        return beat


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from api import create_app
    from cli.migrations import upgrade_head

    work = tmp_path_factory.mktemp("under-load")
    postgres = EmbeddedPostgres(work / "postgres")
    server = make_url(postgres.url()).set(drivername="postgresql")
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute("CREATE DATABASE faults")
    url = postgres.url("faults")
    upgrade_head(url)
    redis = RedisServer(work)
    redis.start()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis.url(0),
        "CELERY_BROKER_URL": redis.url(1),
    }
    settings = dataclasses.replace(
        load_settings(), database_url=url, redis_url=redis.url(0), broker_url=redis.url(1)
    )
    built = Stack(work, url, redis, env, create_app(settings), session_factory(url), [], [])
    built.start_worker()
    built.start_beat()
    try:
        yield built
    finally:
        for worker in built.workers:
            worker.stop()
        for beat in built.beats:
            stop_role(beat)
        redis.stop(signal.SIGKILL)
        built.sessions.kw["bind"].dispose()
        postgres.stop()


def sent_more(load: Load, count: int, what: str) -> None:
    """Until the load has had `count` more requests accepted: the fault meets traffic."""
    target = len(load.sent) + count
    wait_until(lambda: len(load.sent) >= target, 60, f"{count} requests accepted {what}")


def recover(stack: Stack, load: Load, fault: str, since: float) -> None:
    """The time until a new request is decided, then until everything sent is."""
    probe: Sent | None = None
    deadline = time.monotonic() + 30
    while probe is None and time.monotonic() < deadline:
        probe = load.send_one()
    assert probe is not None, f"the API accepted nothing after {fault}: {load.statuses}"
    wait_until(
        lambda: undecided_count(stack.sessions, [probe]) == 0,
        DRAIN_TIMEOUT,
        f"a request sent after {fault} to be decided",
        details=lambda: stack.workers[0].log_tail(),
    )
    first = time.monotonic() - since
    load.stop()
    wait_until(
        lambda: undecided_count(stack.sessions, load.sent) == 0,
        DRAIN_TIMEOUT,
        f"every request sent around {fault} to be decided",
        every=0.5,
        details=lambda: stack.workers[0].log_tail(),
    )
    drained = time.monotonic() - since
    print(
        f"\n[{fault}] {len(load.sent)} accepted; answers {dict(load.statuses)}; "
        f"a new request decided {first:.1f} s after, all decided {drained:.1f} s after"
    )
    assert not load.bodies_5xx or set(load.statuses) <= {202, 503}, load.bodies_5xx[:3]
    assert 500 not in load.statuses, load.bodies_5xx[:3]
    assert set(load.statuses) <= {202, 503}, load.statuses
    problems = violations(stack.sessions, load.sent)
    assert not problems, "\n".join(problems[:20])


def test_a_worker_killed_three_times(stack: Stack, load: Load) -> None:
    load.start()
    sent_more(load, 40, "before the first kill")
    worker = stack.workers[0]
    for _ in range(3):
        assert worker.proc is not None
        os.killpg(worker.proc.pid, signal.SIGKILL)  # the supervisor, celery, its pool
        worker.proc.wait()
        worker.start()
        sent_more(load, 30, "by the restarted worker's API")
    # The dead workers' room locks hold their rooms until the TTL runs out.
    recover(stack, load, "3 worker SIGKILLs", time.monotonic())


def test_redis_restarted_with_its_locks_messages_and_markers_gone(stack: Stack, load: Load) -> None:
    load.start()
    sent_more(load, 40, "before Redis goes")
    stack.redis.stop(signal.SIGKILL)
    sent_more(load, 40, "while Redis is away")  # writes need only the database
    stack.redis.start()
    recover(stack, load, "a Redis restart", time.monotonic())


def test_every_postgres_backend_terminated(stack: Stack, load: Load) -> None:
    load.start()
    sent_more(load, 40, "before the first termination")
    for _ in range(3):
        with stack.sessions() as session:
            killed = session.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        assert killed, "no backend to terminate"
        sent_more(load, 20, "after a round of terminations")
    recover(stack, load, "3 rounds of pg_terminate_backend", time.monotonic())


def test_a_worker_stalled_past_its_lock_ttl(stack: Stack, load: Load) -> None:
    """SIGSTOP one of two workers for longer than a room lock lives: the other takes its
    rooms over once the locks expire; the stalled one, resumed, breaks nothing."""
    other = stack.start_worker()
    stalled = stack.workers[0]
    try:
        load.start()
        sent_more(load, 40, "before the stall")
        assert stalled.proc is not None
        locks = Redis.from_url(stack.redis.url(0))
        os.killpg(stalled.proc.pid, signal.SIGSTOP)
        stalled_at = time.monotonic()
        held = {key: locks.get(key) for key in locks.scan_iter(room_lock_name("*"))}
        before = len(load.sent) - undecided_count(stack.sessions, load.sent)

        def taken_over() -> bool:
            """Past the lock TTL, every lock held when the worker stopped has expired, and
            the other worker has decided requests meanwhile."""
            expired = all(locks.get(key) != token for key, token in held.items())
            decided = len(load.sent) - undecided_count(stack.sessions, load.sent) - before
            past_ttl = time.monotonic() - stalled_at > ROOM_LOCK_TTL_SECONDS + 1
            return past_ttl and expired and decided > 0

        wait_until(taken_over, ROOM_LOCK_TTL_SECONDS + 30, "the other worker to take over")
        during = len(load.sent) - undecided_count(stack.sessions, load.sent) - before
        locks.close()
        os.killpg(stalled.proc.pid, signal.SIGCONT)
        print(f"\n[stall] {during} requests decided by the other worker during the stall")
        assert during > 0, "nothing was decided while one worker was stalled"
        recover(stack, load, "a worker stalled past its lock TTL", time.monotonic())
    finally:
        if stalled.proc is not None and stalled.proc.poll() is None:
            os.killpg(stalled.proc.pid, signal.SIGCONT)
        other.stop()
        stack.workers.remove(other)


def test_two_workers_and_two_beats(stack: Stack, load: Load) -> None:
    other = stack.start_worker()
    second_beat = stack.start_beat()
    try:
        load.start()
        sent_more(load, 200, "with two workers and two beats")
        recover(stack, load, "two workers and two beats", time.monotonic())
    finally:
        other.stop()
        stack.workers.remove(other)
        stop_role(second_beat)
        stack.beats.remove(second_beat)
