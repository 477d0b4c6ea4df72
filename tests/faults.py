"""Fault-injection helpers: a private Redis to restart at will, a worker pointed at it.

The suite's Redis (REDIS_URL) is shared with the session's worker and maybe other people:
never restart it. A test that breaks Redis starts its own with `RedisServer`.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError

from cli.embedded import free_port, redis_executable
from tests.roles import start_role, stop_role

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    timeout: float,
    what: str,
    every: float = 0.2,
    details: Callable[[], str] | None = None,
) -> T:
    """Poll until `condition()` is truthy and return it; fail saying `what` (and `details()`,
    e.g. a log's tail) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            more = f"\n{details()}" if details else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{more}")
        time.sleep(every)


class RedisServer:
    """A redis-server of the test's own on a spare loopback port, with no persistence: a
    restart loses every key and queued message, as a Redis without AOF/RDB does."""

    def __init__(self, work_dir: Path, host: str = "127.0.0.1") -> None:
        self.work_dir = work_dir
        self.host = host
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def start(self) -> None:
        argv = [
            redis_executable(),
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--protected-mode",
            "no",
            "--dir",
            str(self.work_dir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        log = (self.work_dir / f"redis-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        client = Redis(
            host=self.host, port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5
        )

        def answers() -> bool:
            assert self.proc is not None and self.proc.poll() is None, "redis-server exited"
            try:
                return bool(client.ping())
            except RedisError:
                return False

        wait_until(answers, 15, f"redis-server on port {self.port}", every=0.05)
        client.close()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM: Redis closes its clients' connections; SIGKILL: they just break."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self, sig: int, down_for: float = 0.5) -> None:
        self.stop(sig)
        time.sleep(down_for)  # pacing: the broker stays away a moment, as in a real restart
        self.start()
        self.restarts += 1


@dataclass
class Roles:
    """A test stack's own `bookings worker` and `bookings beat`, and an API app in the test
    process, all on the same database, Redis and broker."""

    worker: Worker
    app: Flask


@contextmanager
def started_roles(
    work: Path, *, database_url: str, redis_url: str, broker_url: str
) -> Iterator[Roles]:
    """The roles, with the sweeper every second (what a fault threw away is sent again
    soon), stopped on the way out."""
    from api import create_app
    from models.settings import load_settings

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker_url,
        "SWEEP_SECONDS": "1",
        "SWEEP_STALE_SECONDS": "2",
    }
    worker = Worker(work / "worker.log", env)
    beat: subprocess.Popen[bytes] | None = None
    try:
        worker.start()
        (work / "beat").mkdir(exist_ok=True)
        beat = start_role(["beat", "--schedule-dir", str(work / "beat")], work / "beat.log", env)
        settings = dataclasses.replace(
            load_settings(), database_url=database_url, redis_url=redis_url, broker_url=broker_url
        )
        yield Roles(worker, create_app(settings))
    finally:
        worker.stop()
        stop_role(beat)


class Worker:
    """`bookings worker` (the supervisor and its celery) with an environment of the test's."""

    def __init__(self, log: Path, env: dict[str, str], *args: str) -> None:
        self.log = log
        self.env = env
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = ["worker", "--concurrency", "2", *self.args]
        self.proc = start_role(argv, self.log, self.env, append=True)
        self.wait_ready(1)

    def wait_ready(self, times: int, timeout: float = 60) -> None:
        """Until celery has said " ready." `times` times (once per start of a celery)."""

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.log_tail()}")
            return self.log_text().count(" ready.") >= times

        wait_until(ready, timeout, "the worker to be ready")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def celery_pid(self) -> int | None:
        """The pid of the celery main process the supervisor runs (Linux /proc)."""
        assert self.proc is not None
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid:
                return int(entry.name)
        return None

    def stop(self) -> None:
        stop_role(self.proc)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def log_tail(self, size: int = 6000) -> str:
        return self.log_text()[-size:]
