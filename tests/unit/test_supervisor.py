"""`bookings worker`'s supervisor: restarts a dying child, passes stop signals on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence

import pytest

from cli.roles import celery_worker_argv, worker_argv
from cli.supervisor import Supervisor


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


class Recording(Supervisor):
    """Pauses are recorded, not slept; stops itself after `stop_after` children."""

    def __init__(self, argv: Sequence[str], stop_after: int) -> None:
        super().__init__(argv, first_pause=1, max_pause=4, healthy_after=60, spawn=self.count)
        self.pauses: list[float] = []
        self.spawned = 0
        self.stop_after = stop_after

    def count(self, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        self.spawned += 1
        return subprocess.Popen(argv)

    def _pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if self.spawned >= self.stop_after:
            self.stopping = True


def test_a_child_that_dies_is_started_again_with_growing_pauses() -> None:
    supervisor = Recording(python("raise SystemExit(3)"), stop_after=5)

    assert supervisor.run() == 0
    assert supervisor.spawned == 5
    assert supervisor.restarts == 5
    assert supervisor.pauses == [1, 2, 4, 4, 4]


def test_sigterm_is_passed_on_and_the_childs_status_returned() -> None:
    child = "import signal, sys, time\n" + (
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(7))\n"
        "print('up', flush=True)\n"
        "time.sleep(30)\n"
    )
    supervisor = Supervisor(python(child))
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        assert supervisor.run() == 7
    finally:
        timer.cancel()
    assert supervisor.restarts == 0
    # Our own handlers are back once the supervisor returns.
    assert signal.getsignal(signal.SIGTERM) is not supervisor._forward


def test_a_first_sigint_becomes_a_warm_stop_a_second_a_cold_one() -> None:
    supervisor = Supervisor(python("pass"))
    sent: list[int] = []
    supervisor.child = subprocess.Popen(python("import time; time.sleep(30)"))
    try:
        real_kill = os.kill
        os.kill = lambda pid, sig: sent.append(sig)  # type: ignore[assignment]
        try:
            supervisor._forward(signal.SIGINT)
            supervisor._forward(signal.SIGINT)
            supervisor._forward(signal.SIGHUP)
        finally:
            os.kill = real_kill
    finally:
        supervisor.child.kill()
        supervisor.child.wait()
    assert sent == [signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP]
    assert supervisor.stopping


def test_bookings_up_runs_the_supervised_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    # The argv names the shards' queues, from the settings; nothing connects.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("BOOKINGS_SHARDS", "4")
    assert worker_argv(None, None)[1:] == ["-m", "cli", "worker"]
    assert worker_argv("0-1", 2)[1:] == [
        "-m",
        "cli",
        "worker",
        "--shards",
        "0-1",
        "--concurrency",
        "2",
    ]
    celery = celery_worker_argv("0-1", None)
    assert celery[1:6] == ["-m", "celery", "-A", "worker.app", "worker"]
    assert celery[celery.index("-Q") + 1] == "rooms.0,rooms.1,maintenance"
