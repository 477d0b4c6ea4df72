"""models/logs.py: the periodic jobs' routine lines are DEBUG; work stays INFO."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from models.logs import configure_logging

LINES = [
    ("celery.beat", "Scheduler: Sending due task sweep (bookings.sweep)"),
    ("celery.worker.strategy", "Task bookings.sweep[1f] received"),
    ("celery.app.trace", "Task bookings.purge_audit[2e] succeeded in 0.003s: 0"),
    ("celery.worker.strategy", "Task bookings.decide_room[3d] received"),
    ("celery.app.trace", "Task bookings.deliver_webhook[4c] succeeded in 0.1s: None"),
    ("models.services.decide", "decided booking request: SUCCEEDED"),
]


@pytest.fixture(autouse=True)
def root_as_it_was() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def emitted(level: str, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    configure_logging(level)
    for name, message in LINES:
        logging.getLogger(name).info(message)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_at_info_only_the_work_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    said = [line["message"] for line in emitted("INFO", monkeypatch)]
    assert said == [
        "Task bookings.decide_room[3d] received",
        "Task bookings.deliver_webhook[4c] succeeded in 0.1s: None",
        "decided booking request: SUCCEEDED",
    ]


def test_at_debug_the_routine_is_said_as_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    levels = [(line["message"][:24], line["level"]) for line in emitted("DEBUG", monkeypatch)]
    assert [level for _, level in levels] == ["DEBUG"] * 3 + ["INFO"] * 3
