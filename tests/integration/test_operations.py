"""Operations: metrics, OpenAPI and its docs page, rate limits, structured logs."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from flask import Flask
from redis import Redis

from tests.helpers import Api, booking_body, future, wait_until
from tests.integration.conftest import WorkerProcess

pytestmark = pytest.mark.usefixtures("worker")


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text; 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = (
        rf"^{re.escape(name)}\{{([^}}]*)\}} (\S+)$" if labels else rf"^{re.escape(name)} (\S+)$"
    )
    total = 0.0
    for match in re.finditer(pattern, text, re.M):
        if not labels or all(part in match.group(1) for part in wanted.split(",")):
            total += float(match.group(match.lastindex or 1))
    return total


STAGES = ("queued", "lock", "decide", "commit")


def test_metrics_count_requests_decisions_latency_and_queue_depth(
    api: Api, user: dict[str, str], room: str
) -> None:
    decided = {"kind": "booking", "outcome": "SUCCEEDED"}
    before = api.client.get("/metrics").get_data(as_text=True)
    doc = api.wait_task(user, api.book(user, booking_body(room, future())))
    assert doc["status"] == "SUCCEEDED"

    def counted() -> bool:
        """Counted by the worker process once the decision is committed (so just after the
        task reads SUCCEEDED), and read here through the shared metrics folder."""
        now = api.client.get("/metrics").get_data(as_text=True)
        return all(
            metric(now, name, **labels) >= metric(before, name, **labels) + 1
            for name, labels in (
                ("bookings_requests_decided_total", decided),
                ("bookings_decision_seconds_count", {}),
                *(("bookings_decide_stage_seconds_count", {"stage": s}) for s in STAGES),
            )
        )

    wait_until(counted, 10, "the worker to count its decision")
    response = api.client.get("/metrics")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert metric(text, "bookings_requests_accepted_total", kind="booking") >= 1
    assert (
        metric(
            text, "bookings_http_requests_total", method="POST", route="/v1/bookings", status="202"
        )
        >= 1
    )
    assert metric(text, "bookings_decision_seconds_count") >= 1
    # the message's time in the broker, and the request's stages (acceptance -> pickup
    # -> locks -> outcomes written -> commit), each a histogram of seconds
    for stage in ("broker", *STAGES):
        assert metric(text, "bookings_decide_stage_seconds_count", stage=stage) >= 1
    assert "bookings_http_request_seconds_bucket{" in text
    for shard in range(4):
        assert f'bookings_queue_depth{{queue="rooms.{shard}"}}' in text


def test_openapi_documents_every_route(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/openapi.json").json
    documented = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "post", "patch", "put", "delete"}
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"static", "docs_assets"} or rule.rule.startswith(
            ("/openapi", "/docs")
        ):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method) not in documented:
                missing.append(f"{method} {path}")
    assert missing == []
    for path in (
        "/v1/bookings",
        "/v1/bookings/recurring",
        "/v1/bookings/batch",
        "/v1/tasks/{task_id}",
        "/v1/tickets",
        "/v1/audit",
        "/metrics",
    ):
        assert path in spec["paths"], path
    booking = spec["paths"]["/v1/bookings"]["post"]
    assert "requestBody" in booking and "202" in booking["responses"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_docs_page_renders_the_spec_without_the_internet(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "swagger-ui" in html and "/openapi.json" in html
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200


def test_worker_logs_are_json_lines_with_task_and_room(
    api: Api, user: dict[str, str], room: str, worker: WorkerProcess
) -> None:
    task_id = api.book(user, booking_body(room, future()))
    api.wait_task(user, task_id)

    def mine() -> list[dict[str, Any]]:
        """The worker's lines about this task (it logs the decision once committed)."""
        log = worker.log_tail(200_000).splitlines()
        lines = [json.loads(line) for line in log if line.startswith("{")]
        return [line for line in lines if line.get("task_id") == task_id]

    lines = wait_until(mine, 10, "a worker log line carrying the task id")

    assert all(line["room_id"] == room for line in lines)
    assert {"ts", "level", "logger", "message"} <= set(lines[0])


def test_healthz_is_always_200(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").json == {"status": "ok"}


def test_metrics_content_type_has_one_charset(api: Api) -> None:
    """Prometheus 3 parses the header with Go's mime.ParseMediaType, which refuses a
    parameter given twice (`charset=utf-8; charset=utf-8` failed every scrape)."""
    message = Message()
    message["Content-Type"] = api.client.get("/metrics").headers["Content-Type"]
    assert message.get_content_type() == "text/plain"
    params = [name for name, _ in message.get_params()[1:]]
    assert params.count("charset") == 1, message["Content-Type"]
    assert message.get_param("version") == "1.0.0"


def test_metrics_answer_loopback_callers_or_the_metrics_token() -> None:
    import dataclasses

    from api import create_app
    from models.settings import load_settings

    settings = load_settings()
    assert settings.is_production
    open_to_host = create_app(settings).test_client()
    assert open_to_host.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    far = open_to_host.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert far.status_code == 403 and far.json["error"]["code"] == "FORBIDDEN"

    token = "scrape-" + "x" * 30
    guarded = create_app(dataclasses.replace(settings, metrics_token=token)).test_client()
    far_addr = {"REMOTE_ADDR": "203.0.113.9"}
    assert guarded.get("/metrics").status_code == 401
    wrong = {"Authorization": "Bearer not-it"}
    assert guarded.get("/metrics", headers=wrong).status_code == 401
    right = {"Authorization": f"Bearer {token}"}
    assert guarded.get("/metrics", headers=right, environ_base=far_addr).status_code == 200


def test_a_flood_of_scrapes_and_probes_keeps_one_broker_connection(
    monkeypatch: pytest.MonkeyPatch, redis: Redis
) -> None:
    from api import create_app

    app = create_app()
    sender = app.extensions["bookings"].sender
    opened: list[object] = []
    connect = sender.celery.connection_for_read

    def counted() -> Any:
        opened.append(1)
        return connect()

    monkeypatch.setattr(sender.celery, "connection_for_read", counted)
    client = app.test_client()
    port = int(redis.connection_pool.connection_kwargs["port"])
    client.get("/metrics")
    client.get("/readyz")
    clients_before = own_connections(port)
    for _ in range(30):
        assert client.get("/metrics").status_code == 200
        assert client.get("/readyz").status_code == 200
        sender._depths_until = 0.0  # as if every scrape came after the 2 s cache

    assert len(opened) == 1
    # Not a Redis client per scrape either (one per empty queue, when the broker is Redis).
    assert own_connections(port) - clients_before <= 3


def own_connections(port: int) -> int:
    """This process's open TCP connections to `port`. Not Redis' connected_clients, which
    counts every process on the server (a parallel test run's too)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                established = fields[3] == "01"
                count += remote_port == port and established and fields[9] in inodes
    return count


def test_metrics_say_how_long_the_oldest_queued_request_has_waited_and_what_answers(
    api: Api, user: dict[str, str], room: str, app: Flask
) -> None:
    """A request accepted (stored QUEUED) two minutes ago and never woken: the gauge reads
    its age. Accepted through the product's own accept(), without waking its room."""
    import uuid

    from sqlalchemy import delete, update

    from models.domain.identity import Principal
    from models.domain.states import Role, utcnow
    from models.services.accept import NewBooking, accept
    from models.tables import BookingRequest

    sessions = app.extensions["bookings"].sessions
    caller = Principal(uuid.UUID(api.me(user)), Role.USER)
    body = booking_body(room, future(hours=40))
    body["room_id"] = uuid.UUID(body["room_id"])
    for key in ("start_time", "end_time"):
        body[key] = datetime.fromisoformat(body[key])
    accepted = accept(sessions, caller, NewBooking(body), now=utcnow() - timedelta(minutes=2))
    try:
        with sessions.begin() as session:
            session.execute(
                update(BookingRequest)
                .where(BookingRequest.id == accepted.request_id)
                .values(accepted_at=utcnow() - timedelta(minutes=2))
            )
        text = api.client.get("/metrics").get_data(as_text=True)
        assert metric(text, "bookings_oldest_queued_seconds") >= 120, text[-2000:]
        for dependency in ("database", "redis", "broker"):
            assert metric(text, "bookings_dependency_up", dependency=dependency) == 1
    finally:
        with sessions.begin() as session:
            session.execute(delete(BookingRequest).where(BookingRequest.id == accepted.request_id))
    later = api.client.get("/metrics").get_data(as_text=True)
    assert metric(later, "bookings_oldest_queued_seconds") < 120
