"""The Celery app of the workers and beat; configured from celeryconfig.py."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from models.db import dispose_engines

app = Celery("bookings")
app.config_from_object("celeryconfig")
app.conf.imports = ("worker.tasks", "worker.periodic")


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked pool process must not reuse its parent's pooled connections."""
    dispose_engines()
