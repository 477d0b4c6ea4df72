"""Periodic jobs: each idempotent, each safe to run twice at once. Beat runs them; so does tick."""

from __future__ import annotations

from celery import Task

from worker.app import app
from worker.runtime import runtime
from worker.sweeper import sweep_queued
from worker.tasks import send_decide


@app.task(name="bookings.sweep", acks_late=True, ignore_result=True)
def sweep() -> int:
    """Re-send requests left QUEUED (broker was down, a worker died)."""
    return sweep_queued(runtime().sessions, send_decide)


JOBS: dict[str, Task] = {"sweep": sweep}


def run_all() -> dict[str, int]:
    """Run every periodic job once, in this process, now."""
    return {name: job() for name, job in JOBS.items()}
