"""Structured logs: one JSON object per line, with the task and room being worked on."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from models.queues import DECIDE_ROOM, DELIVER_WEBHOOK

_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("log_context", default={})  # noqa: B039 - never mutated, only replaced


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add fields (task_id, room_id, …) to every log line written inside the block."""
    token = _context.set({**_context.get(), **{k: str(v) for k, v in fields.items()}})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context.get(),
        }
        for key in ("task_id", "room_id", "request_id"):
            if hasattr(record, key):
                line[key] = str(getattr(record, key))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


# "Task bookings.sweep[…] received", "… succeeded in …s: 0", "Sending due task sweep
# (bookings.sweep)": the name of the task a Celery line is about.
_TASK = re.compile(r"\b(bookings\.[a-z_]+)\b")
_WORK = {DECIDE_ROOM, DELIVER_WEBHOOK}  # a request decided, a webhook sent: always said


class RoutineToDebug(logging.Filter):
    """Beat's sends of periodic jobs, and the workers' receipt and success of them, are
    DEBUG: they come every few seconds whatever happens, so at INFO an idle system said
    nothing else (117 lines a minute). Decisions and deliveries stay INFO; a periodic
    job that fails still says so at its own level."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith("celery."):
            return True
        found = _TASK.search(record.getMessage())
        if found is None or found.group(1) in _WORK:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def configure_logging(level: str) -> None:
    """Send every logger's records to stderr as JSON lines, at the given level."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RoutineToDebug())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
