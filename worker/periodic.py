"""Periodic jobs as Celery tasks. Beat runs them on schedule; `bookings tick` runs all now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from models.domain.states import utcnow
from models.queues import (
    END_MEETINGS,
    EXPIRE_WAITING,
    PURGE_AUDIT,
    PURGE_EVENTS,
    PURGE_REQUESTS,
    RELEASE_NO_SHOWS,
    SWEEP,
)
from models.services import housekeeping
from worker.app import app
from worker.runtime import runtime
from worker.sweeper import sweep_queued


@app.task(name=SWEEP, acks_late=True, ignore_result=True)
def sweep() -> int:
    """Re-send requests left QUEUED (broker was down, a worker died)."""
    rt = runtime()
    stale = timedelta(seconds=rt.settings.sweep_stale_seconds)
    return sweep_queued(rt.sessions, rt.waker, stale_after=stale)


@app.task(name=END_MEETINGS, acks_late=True, ignore_result=True)
def end_meetings() -> int:
    return housekeeping.end_meetings(runtime().sessions, now=utcnow())


@app.task(name=RELEASE_NO_SHOWS, acks_late=True, ignore_result=True)
def release_no_shows() -> int:
    rt = runtime()
    return housekeeping.release_no_shows(rt.sessions, now=utcnow(), wake=rt.waker.wake)


@app.task(name=EXPIRE_WAITING, acks_late=True, ignore_result=True)
def expire_waiting() -> int:
    rt = runtime()
    return housekeeping.expire_waiting(rt.sessions, now=utcnow(), wake=rt.waker.wake)


@app.task(name=PURGE_AUDIT, acks_late=True, ignore_result=True)
def purge_audit() -> int:
    rt = runtime()
    days = rt.settings.audit_retention_days
    return housekeeping.purge_audit(rt.sessions, now=utcnow(), retention_days=days)


@app.task(name=PURGE_REQUESTS, acks_late=True, ignore_result=True)
def purge_requests() -> int:
    rt = runtime()
    days = rt.settings.request_retention_days
    return housekeeping.purge_requests(rt.sessions, now=utcnow(), retention_days=days)


@app.task(name=PURGE_EVENTS, acks_late=True, ignore_result=True)
def purge_events() -> int:
    """Webhook events (and their deliveries) kept as long as finished requests."""
    rt = runtime()
    days = rt.settings.request_retention_days
    return housekeeping.purge_events(rt.sessions, now=utcnow(), retention_days=days)


JOBS: dict[str, Callable[[], int]] = {
    "sweep": sweep,
    "end_meetings": end_meetings,
    "release_no_shows": release_no_shows,
    "expire_waiting": expire_waiting,
    "purge_audit": purge_audit,
    "purge_requests": purge_requests,
    "purge_events": purge_events,
}


def run_all() -> dict[str, str]:
    """Run every periodic job once, in this process, now."""
    return {
        name: "skipped (another run holds its lock)"
        if (n := job()) == housekeeping.SKIPPED
        else f"{n} row(s)"
        for name, job in JOBS.items()
    }
