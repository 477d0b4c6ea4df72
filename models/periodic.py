"""Periodic jobs, each declared once, beside its code.

A job is a function of a JobContext that returns how many rows it handled (or SKIPPED),
declared with `@periodic(name, lock=…, pace=…)` in the module that holds its code. From
these declarations come the beat schedule (celeryconfig.beat_schedule), the workers'
tasks (`bookings.<name>`, worker/periodic.py), `bookings tick`, and the advisory lock
that keeps two runs of a job apart (`exclusive`). Adding a job to one of DECLARING's
modules touches that module only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models.locks import LOCK_PERIODIC
from models.services.wakeups import RoomWaker
from models.settings import Settings

# The modules whose jobs beat runs (imported for their declarations).
DECLARING = (
    "models.services.sweeper",
    "models.services.housekeeping",
    "models.webhooks.service",
    "models.mail.reminders",
)
SKIPPED = -1  # another run holds the job's lock

Pace = Literal["sweep", "housekeeping"]  # SWEEP_SECONDS or HOUSEKEEPING_SECONDS


@dataclass(frozen=True)
class JobContext:
    """What a run of a job gets: the worker's sessions, settings and waker, and now."""

    sessions: sessionmaker[Session]
    settings: Settings
    waker: RoomWaker
    now: datetime


@dataclass(frozen=True)
class Job:
    name: str
    task: str  # the Celery task's name
    lock: int | None  # its advisory lock's key under LOCK_PERIODIC (None: its own guard)
    pace: Pace
    expires: bool  # a run nobody took within two periods is dropped (the next does it)
    run: Callable[[JobContext], int] | None  # None: a task with a body of its own

    def period(self, settings: Settings) -> float:
        return settings.sweep_seconds if self.pace == "sweep" else settings.housekeeping_seconds


JOBS: dict[str, Job] = {}


def _declare(job: Job) -> None:
    taken = {other.lock for other in JOBS.values() if other.name != job.name}
    if job.lock is not None and job.lock in taken:
        raise ValueError(f"periodic job {job.name}: lock {job.lock} is another job's")
    JOBS[job.name] = job


def periodic(
    name: str, *, lock: int, pace: Pace = "housekeeping", expires: bool = False
) -> Callable[[Callable[[JobContext], int]], Callable[[JobContext], int]]:
    """Declare the function a periodic job: run by beat every `pace` as `bookings.<name>`."""

    def declare(run: Callable[[JobContext], int]) -> Callable[[JobContext], int]:
        _declare(Job(name, f"bookings.{name}", lock, pace, expires, run))
        return run

    return declare


def periodic_task(name: str, task: str, *, pace: Pace, expires: bool = False) -> None:
    """Declare a task that has a body of its own (and is also sent on demand) periodic."""
    _declare(Job(name, task, None, pace, expires, None))


def declared() -> dict[str, Job]:
    """Every declared job, by name."""
    for module in DECLARING:
        importlib.import_module(module)
    return JOBS


def exclusive(session: Session, job: str) -> bool:
    """Take the job's lock for this transaction, or learn that another run has it."""
    key = JOBS[job].lock
    assert key is not None, f"{job} keeps its own guard"
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(LOCK_PERIODIC, key))))
