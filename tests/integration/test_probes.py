"""Probes and scrapes answer within a second whatever hangs: Redis (and the broker on it)
frozen by SIGSTOP, or the tables /metrics reads locked by another transaction. Four probes
at once do not hold up the API's other requests."""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient

from cli.embedded import EmbeddedRedis
from tests.helpers import wait_until
from tests.http_server import Server, serve
from tests.services import libpq

BOUND = 1.0  # seconds: what the issue asks; each check waits half of it at most


@pytest.fixture
def frozen_api(
    tmp_path_factory: pytest.TempPathFactory, private_redis: EmbeddedRedis, database: str
) -> Iterator[Server]:
    """`bookings api` (1 process, 4 threads) on the suite's database, with Redis and the
    broker on a private Redis the test may freeze."""
    env = {
        **os.environ,
        "REDIS_URL": private_redis.url(0),
        "CELERY_BROKER_URL": private_redis.url(1),
    }
    running = serve(tmp_path_factory, env)
    try:
        yield next(running)
    finally:
        os.kill(private_redis.proc.pid, signal.SIGCONT)  # thawed before the API stops
        running.close()


def timed(
    server: Server, path: str, headers: dict[str, str] | None = None
) -> tuple[float, int, Any]:
    began = time.monotonic()
    status, _, body = server.request("GET", path, headers=headers)
    return time.monotonic() - began, status, body


def raw(server: Server, path: str) -> tuple[float, int, str]:
    """GET a text answer (Server.request reads JSON)."""
    began = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return time.monotonic() - began, response.status, response.read().decode()
    finally:
        conn.close()


def test_probes_answer_within_a_second_while_redis_is_frozen(
    frozen_api: Server, private_redis: EmbeddedRedis, user: dict[str, str]
) -> None:
    assert raw(frozen_api, "/metrics")[1] == 200  # the queue depths are read once
    timed(frozen_api, "/readyz")  # as an orchestrator probes all along
    os.kill(private_redis.proc.pid, signal.SIGSTOP)  # connections hang, not refused

    answers: dict[str, list[tuple[float, int, Any]]] = {"readyz": [], "metrics": []}

    def probe(path: str) -> None:
        for _ in range(3):
            if path == "/readyz":
                answers["readyz"].append(timed(frozen_api, path))
            else:
                answers["metrics"].append(raw(frozen_api, path))

    probes = [threading.Thread(target=probe, args=(p,)) for p in ["/readyz"] * 3 + ["/metrics"]]
    for thread in probes:
        thread.start()
    others = [timed(frozen_api, "/healthz"), timed(frozen_api, "/v1/rooms", headers=user)]
    for thread in probes:
        thread.join(timeout=30)

    assert len(answers["readyz"]) == 9 and len(answers["metrics"]) == 3
    for seconds, _, _ in answers["readyz"]:
        assert seconds <= BOUND, answers["readyz"]
    # Some answered at once with what was known a moment before; now the freeze is known.
    seconds, status, body = timed(frozen_api, "/readyz")
    assert seconds <= BOUND and status == 503, (seconds, body)
    details = body["error"]["details"]
    assert "redis, broker down" in body["error"]["message"], body
    assert details["database"] == "ok"
    assert details["redis"].startswith("down") and details["broker"].startswith("down")
    for seconds, status, text in answers["metrics"]:
        assert seconds <= BOUND and status == 200, (seconds, status)
        assert "bookings_queue_depth{" in text  # the last depths read, with their age
        assert 'bookings_dependency_up{dependency="redis"} 0.0' in text, text[-1500:]
        assert 'bookings_dependency_up{dependency="database"} 1.0' in text, text[-1500:]
        age = next(
            float(line.split()[-1])
            for line in text.splitlines()
            if line.startswith("bookings_queue_depth_age_seconds ")
        )
        assert age > 0
    for seconds, status, _ in others:
        assert seconds <= BOUND and status == 200, others


def test_metrics_answer_within_a_second_while_their_tables_are_locked(
    client: FlaskClient, database: str
) -> None:
    """Another transaction holds the outbox tables: the webhook backlog is left out, the
    rest is served."""
    with psycopg.connect(libpq(database)) as locker:
        locker.execute("LOCK TABLE events, webhook_deliveries IN ACCESS EXCLUSIVE MODE")
        began = time.monotonic()
        response = client.get("/metrics")
        seconds = time.monotonic() - began
        ready = client.get("/readyz")
        ready_seconds = time.monotonic() - began - seconds
        locker.rollback()
    assert response.status_code == 200 and seconds <= BOUND, seconds
    text = response.get_data(as_text=True)
    assert "bookings_webhook_backlog" not in text
    assert "bookings_queue_depth{" in text
    assert ready_seconds <= BOUND and ready.json is not None
    checks = ready.json.get("checks") or ready.json["error"]["details"]
    assert checks["database"] == "ok"
    wait_until(
        lambda: "bookings_webhook_backlog" in client.get("/metrics").get_data(as_text=True),
        10,
        "the backlog once the lock is gone",
    )
