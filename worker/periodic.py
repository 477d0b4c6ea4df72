"""Periodic jobs as Celery tasks, one for each job declared in models (models/periodic.py):
beat runs them on schedule; `bookings tick` runs them all now, here."""

from __future__ import annotations

from collections.abc import Callable

from celery import Task

from models.domain.states import utcnow
from models.periodic import SKIPPED, Job, JobContext, declared
from worker.app import app
from worker.runtime import runtime


def _task(job: Job) -> Task:
    assert job.run is not None
    run = job.run

    def run_now() -> int:
        rt = runtime()
        return run(JobContext(rt.sessions, rt.settings, rt.waker, utcnow()))

    run_now.__name__ = run_now.__qualname__ = job.name
    run_now.__doc__ = run.__doc__
    task: Task = app.task(name=job.task, acks_late=True, ignore_result=True)(run_now)
    return task


JOBS: dict[str, Callable[[], int]] = {
    name: _task(job) for name, job in declared().items() if job.run is not None
}


def run_all() -> dict[str, str]:
    """Run every periodic job once, in this process, now. The app is finalized first:
    its tasks are bound lazily, and two threads running them for the first time at once
    could find one not bound yet."""
    app.finalize(auto=True)
    return {
        name: "skipped (another run holds its lock)" if (n := job()) == SKIPPED else f"{n} row(s)"
        for name, job in JOBS.items()
    }
