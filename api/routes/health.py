"""Liveness and readiness."""

from __future__ import annotations

import hmac
import threading
import time
from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api import probes
from api.context import services
from api.metrics import metrics_response
from api.schemas.common import ErrorSchema, Reply
from models.errors import Forbidden, Unauthorized
from models.metrics import ShardConsumers

blp = Blueprint("health", __name__, description="Operations")

_collector_lock = threading.Lock()


def _count_shard_consumers() -> None:
    """Add the shard-consumer gauge to this app's /metrics registry, once."""
    extensions = current_app.extensions
    if "bookings_shard_consumers" in extensions:
        return
    with _collector_lock:
        if "bookings_shard_consumers" in extensions:
            return
        check = probes.checks().redis_consumers
        collector = ShardConsumers(lambda: check.wait(until=probes.scrape_until()))
        extensions["bookings_metrics"].register(collector)
        extensions["bookings_shard_consumers"] = collector


class HealthSchema(Reply):
    status = fields.Str(validate=validate.OneOf(["ok"]))


class ReadySchema(Reply):
    status = fields.Str(validate=validate.OneOf(["ready"]))
    checks = fields.Dict(
        keys=fields.Str(),
        values=fields.Str(),
        metadata={"description": '"ok" for each of database, redis, broker and consumers'},
    )


@blp.route("/healthz", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, HealthSchema)
def healthz() -> ResponseReturnValue:
    """Liveness: 200 while the process runs."""
    return jsonify({"status": "ok"})


@blp.route("/metrics", methods=["GET"])
@blp.doc(
    security=[],
    summary="Prometheus metrics",
    responses={
        "200": {
            "description": "Prometheus text format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
def metrics() -> ResponseReturnValue:
    """Prometheus metrics (METRICS_TOKEN or a loopback caller in production)."""
    _may_scrape()
    _count_shard_consumers()
    probes.start_scrape()
    return metrics_response()


LOOPBACK = {"127.0.0.1", "::1"}


def _may_scrape() -> None:
    """METRICS_TOKEN set: its bearer only. Unset: anyone in development, loopback callers
    in production (the numbers say how busy each room shard is: not for the internet)."""
    settings = services().settings
    if settings.metrics_token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), settings.metrics_token.encode()
        ):
            raise Unauthorized("/metrics needs the METRICS_TOKEN bearer")
    elif settings.is_production and request.remote_addr not in LOOPBACK:
        raise Forbidden("/metrics answers loopback callers only unless METRICS_TOKEN is set")


@blp.route("/readyz", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, ReadySchema)
@blp.alt_response(503, schema=ErrorSchema, description="A backing service is down")
def readyz() -> ResponseReturnValue:
    """Ready when the database, Redis and the broker answer and every room shard's queue
    has a live consumer (a worker's heartbeat in Redis, models/heartbeats.py). Each is
    asked at once, on a thread of its own, for at most half a second (api/probes.py): a
    frozen dependency is named within that, and never holds this request's thread."""
    found = probes.checks()
    # The three at once: each is asked before any answer is waited for.
    until = time.monotonic() + probes.DEADLINE
    database, redis, broker = (
        found.database.start(),
        found.redis_consumers.start(),
        found.broker.start(),
    )
    checks: dict[str, Any] = {
        "database": found.database.status(database, until),
        "redis": found.redis_consumers.status(redis, until),
        "broker": found.broker.status(broker, until),
    }
    unconsumed: list[str] = []
    if checks["redis"] == "ok" and found.redis_consumers.last is not None:
        consumers = found.redis_consumers.last.value
        unconsumed = [queue for queue, up in consumers.items() if not up]
        checks["consumers"] = f"none for {', '.join(unconsumed)}" if unconsumed else "ok"
    else:
        checks["consumers"] = "unknown: redis down"
    down = [name for name in ("database", "redis", "broker") if checks[name] != "ok"]
    if down or unconsumed:
        problems = [f"{', '.join(down)} down"] if down else []
        if unconsumed:
            problems.append(f"no worker consumes {', '.join(unconsumed)}")
        body = {
            "error": {
                "code": "SERVICE_UNAVAILABLE",
                "message": f"not ready: {'; '.join(problems)}",
                "details": {**checks, "unconsumed_queues": unconsumed},
            }
        }
        return jsonify(body), 503
    return jsonify({"status": "ready", "checks": checks})
