"""`bookings worker` keeps its celery worker running: a child process, started again if it dies.

Celery reconnects to the broker by itself, but an unexpected exception in its main
process ("Unrecoverable error: …") ends the worker for good, and its queues' requests sit
QUEUED until someone restarts it. Here, a child that exits without being asked to is
started again after a pause that doubles from 1 s up to 30 s (back to 1 s once a child
has run for a minute).

Stopping: SIGTERM is passed on as SIGTERM (celery's warm shutdown: running tasks finish),
SIGINT as SIGTERM too, then SIGQUIT on a second one (cold shutdown, as celery does on a
second Ctrl-C), SIGQUIT as SIGQUIT, SIGHUP as SIGHUP (celery restarts itself in place).
The child stays in our process group, so a signal to the whole group (`kill -- -PGID`,
a terminal's Ctrl-C, `killpg(SIGKILL)` in the tests) reaches celery and its pool as before;
a repeated SIGTERM is harmless to celery. On Linux the child also gets SIGTERM if this
process dies first, so a killed supervisor leaves no worker behind.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from types import FrameType

log = logging.getLogger("bookings.supervisor")

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Linux: SIGTERM this child when its parent (the supervisor) dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Supervisor:
    def __init__(
        self,
        argv: Sequence[str],
        *,
        first_pause: float = 1.0,
        max_pause: float = 30.0,
        healthy_after: float = 60.0,
        spawn: Callable[[Sequence[str]], subprocess.Popen[bytes]] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.first_pause = first_pause
        self.max_pause = max_pause
        self.healthy_after = healthy_after
        self.spawn = spawn or self._spawn
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False
        self.interrupts = 0
        self.restarts = 0

    @staticmethod
    def _spawn(argv: Sequence[str]) -> subprocess.Popen[bytes]:
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        # preexec_fn is safe here: the supervisor runs no threads.
        return subprocess.Popen(argv, preexec_fn=preexec)

    def _forward(self, signum: int, _: FrameType | None = None) -> None:
        send: int = signum
        if signum == signal.SIGINT:
            self.interrupts += 1
            send = signal.SIGTERM if self.interrupts == 1 else signal.SIGQUIT
        if signum != signal.SIGHUP:  # on SIGHUP celery re-executes itself: not a stop
            self.stopping = True
        child = self.child
        if child is not None and child.returncode is None:
            with suppress(ProcessLookupError):
                os.kill(child.pid, send)

    def _pause(self, seconds: float) -> None:
        """Sleep, but wake early when asked to stop."""
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    @staticmethod
    def _reap_orphans() -> None:
        """As PID 1 of a container, collect the pool processes a crashed celery left behind
        (orphans are re-parented to PID 1; anywhere else they are not ours to collect)."""
        if os.getpid() != 1:
            return
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def run(self) -> int:
        """Run the child until asked to stop; return its exit status (128+N for signal N)."""
        signums = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP)
        previous = {signum: signal.signal(signum, self._forward) for signum in signums}
        try:
            return self._run()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _run(self) -> int:
        pause = self.first_pause
        while True:
            started = time.monotonic()
            self.child = self.spawn(self.argv)
            code = self.child.wait()
            if self.stopping:
                return code if code >= 0 else 128 - code
            ran = time.monotonic() - started
            if ran >= self.healthy_after:
                pause = self.first_pause
            self._reap_orphans()
            self.restarts += 1
            log.error(
                "celery worker exited unexpectedly (%s) after %.1f s; starting it again in %.0f s",
                f"exit code {code}" if code >= 0 else f"signal {-code}",
                ran,
                pause,
            )
            self._pause(pause)
            if self.stopping:
                return 0
            pause = min(pause * 2, self.max_pause)


def supervise(argv: Sequence[str]) -> int:
    return Supervisor(argv).run()
