"""Checks that answer within a deadline, whatever hangs.

A probe or a scrape must not wait on a frozen Redis, broker or database: an orchestrator
whose probe times out kills a healthy pod, and probes that pile up would hold every request
thread. Each check runs on a thread of its own (one per check and process), at most one
run in flight: a caller waits for it up to DEADLINE seconds, callers at the same moment
share the run, and a run still stuck when the next call comes is waited on again rather
than doubled by a second one. Checks asked together share one deadline. So a frozen
dependency holds one thread per check, never the request threads, and every answer comes
within the deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import current_app, g, has_app_context
from sqlalchemy import text

from api.context import Services
from models.domain.states import utcnow
from models.heartbeats import shard_consumers
from models.mail.sending import backlog as mail_backlog
from models.services.sweeper import oldest_queued_seconds
from models.webhooks import service as webhooks

DEADLINE = 0.5  # seconds a probe or scrape waits for one dependency
RECHECK = 1.0  # seconds a failed check is answered again without asking
DEPTH_TTL = 2.0  # seconds /metrics answers queue depths from memory (a flood of scrapes
# asks the broker at most once per DEPTH_TTL per process)

T = TypeVar("T")


class NoAnswer(TimeoutError):
    """The check did not answer within the deadline (an OSError, as a socket timeout is)."""


@dataclass(frozen=True)
class Known(Generic[T]):
    value: T
    at: float  # time.monotonic() when it was read


class Check(Generic[T]):
    """One dependency check, run off the caller's thread with a deadline.

    Only one caller at a time waits for a run: while one does, the others answer at once
    with the last outcome (at most a deadline old). A failure is answered again, without
    asking, for RECHECK seconds, so under a freeze one probe a second waits its half
    second and the rest answer at once: probes never take up the request threads."""

    def __init__(self, name: str, read: Callable[[], T], deadline: float = DEADLINE) -> None:
        self.name = name
        self.read = read
        self.deadline = deadline
        self._lock = threading.Lock()
        self._running: Future[T] | None = None
        self._waiting = 0  # callers waiting for the run in flight
        self.last: Known[T] | None = None  # the last value read, and when
        self.outcome: Known[str] | None = None  # the last status(), and when

    def start(self) -> Future[T]:
        """A run of the check: the one in flight, or a new one."""
        with self._lock:
            return self._start()

    def current(self) -> Future[T]:
        """The run in flight, or the last one started (start_scrape's), or a new one."""
        with self._lock:
            return self._running or self._start()

    def _start(self) -> Future[T]:
        running = self._running
        if running is None or running.done():
            running = self._running = Future()
            # A daemon thread per run (one run at a time): a check stuck on a frozen
            # server never holds up the process's exit.
            threading.Thread(
                target=self._run, args=(running,), name=f"check-{self.name}", daemon=True
            ).start()
        return running

    def _run(self, running: Future[T]) -> None:
        try:
            running.set_result(self.read())
        except BaseException as exc:
            running.set_exception(exc)

    def wait(self, running: Future[T] | None = None, until: float | None = None) -> T:
        """The run's value (of a new run if none is given); NoAnswer after the deadline
        (or at `until`, a time.monotonic() shared by checks asked together), or the
        check's own error."""
        running = running or self.start()
        left = self.deadline if until is None else max(0.0, until - time.monotonic())
        try:
            value = running.result(timeout=left)
        except FutureTimeout as exc:
            raise NoAnswer(f"no answer within {self.deadline:g} s") from exc
        self.last = Known(value, time.monotonic())
        return value

    def __call__(self) -> T:
        return self.wait()

    def status(self, running: Future[T] | None = None, until: float | None = None) -> str:
        """`ok`, or `down: why` (for /readyz), of the given run or of a new one; the last
        outcome instead while another caller waits, or while a failure is recent."""
        with self._lock:
            known, now = self.outcome, time.monotonic()
            if known is not None and known.value != "ok" and now - known.at < RECHECK:
                return known.value
            if known is not None and self._waiting:
                return known.value
            running = running or self._start()
            self._waiting += 1
        try:
            self.wait(running, until)
            outcome = "ok"
        except NoAnswer as exc:
            outcome = f"down: {exc}"
        except Exception as exc:
            outcome = f"down: {exc.__class__.__name__}"
        finally:
            with self._lock:
                self._waiting -= 1
        self.outcome = Known(outcome, time.monotonic())
        return outcome


@dataclass(frozen=True)
class Checks:
    """Every dependency check of one API app (app.extensions["bookings_checks"])."""

    database: Check[None]
    redis_consumers: Check[dict[str, bool]]  # Redis answers, and which shards are consumed
    broker: Check[None]
    queue_depths: Check[dict[str, int]]
    webhook_backlog: Check[tuple[int, int]]
    oldest_queued: Check[float]  # seconds the oldest QUEUED request has waited
    mail_backlog: Check[tuple[int, float]]  # unsent mail, and the oldest one's age


def checks_for(svc: Services) -> Checks:
    def database() -> None:
        with svc.sessions() as session:
            # The check's own bound, so its thread is free again soon after a lock clears.
            session.execute(text("SET LOCAL statement_timeout = 2000"))
            session.execute(text("SELECT 1"))

    def backlog() -> tuple[int, int]:
        with svc.sessions() as session:
            session.execute(text("SET LOCAL statement_timeout = 2000"))
            return webhooks.backlog(session)

    def oldest() -> float:
        with svc.sessions() as session:
            session.execute(text("SET LOCAL statement_timeout = 2000"))
            return oldest_queued_seconds(session)

    def mail() -> tuple[int, float]:
        with svc.sessions() as session:
            session.execute(text("SET LOCAL statement_timeout = 2000"))
            return mail_backlog(session, utcnow())

    return Checks(
        database=Check("database", database),
        redis_consumers=Check("redis", lambda: shard_consumers(svc.redis, svc.settings.shards)),
        broker=Check("broker", svc.sender.ping),
        queue_depths=Check("queue-depths", svc.sender.queue_depths),
        webhook_backlog=Check("webhook-backlog", backlog),
        oldest_queued=Check("oldest-queued", oldest),
        mail_backlog=Check("mail-backlog", mail),
    )


def checks() -> Checks:
    found: Checks = current_app.extensions["bookings_checks"]
    return found


def start_scrape() -> None:
    """Ask what /metrics reads of other servers at once, before its collectors wait, and
    give them one deadline together (scrape_until)."""
    found = checks()
    g.checks_until = time.monotonic() + DEADLINE
    found.redis_consumers.start()
    found.webhook_backlog.start()
    found.oldest_queued.start()
    found.mail_backlog.start()
    found.database.start()
    found.broker.start()
    last = found.queue_depths.last
    if last is None or time.monotonic() - last.at >= DEPTH_TTL:
        found.queue_depths.start()


def scrape_until() -> float | None:
    """The deadline start_scrape set for this request, if any."""
    return g.get("checks_until") if has_app_context() else None
