"""The suite runs where CI says: embedded servers on a bare machine, RabbitMQ when asked."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from tests.integration.conftest import WorkerProcess


@pytest.mark.skipif(not os.environ.get("BOOKINGS_EXPECT_EMBEDDED"), reason="not the bare run")
def test_bare_machine_run_uses_embedded_servers_not_the_local_ones() -> None:
    database = make_url(os.environ["DATABASE_URL"])
    assert ".bookings/test/postgres" in str(database.query.get("host")), database
    assert not database.host
    assert not os.environ["REDIS_URL"].startswith("redis://127.0.0.1:6379/")


@pytest.mark.skipif(not os.environ.get("TEST_BROKER_URL"), reason="default broker run")
def test_the_worker_consumes_from_the_broker_asked_for(worker: WorkerProcess) -> None:
    scheme = os.environ["TEST_BROKER_URL"].split(":", 1)[0]
    assert os.environ["CELERY_BROKER_URL"] == os.environ["TEST_BROKER_URL"]
    assert f"Connected to {scheme}://" in worker.log_tail(100_000)
