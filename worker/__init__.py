"""Celery app, thin tasks, and the room processor that decides requests.

`celery -A worker …` finds the app as `worker.celery` (Celery's convention); it is
loaded on first access, so importing `worker` alone builds nothing.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "celery":
        from worker.app import app

        return app
    raise AttributeError(f"module 'worker' has no attribute {name!r}")
