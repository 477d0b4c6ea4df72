"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import text

from api.context import services
from api.metrics import metrics_response

blp = Blueprint("health", __name__, description="Operations")


@blp.route("/healthz", methods=["GET"])
@blp.doc(security=[])
def healthz() -> ResponseReturnValue:
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
    return metrics_response()


@blp.route("/readyz", methods=["GET"])
@blp.doc(security=[])
def readyz() -> ResponseReturnValue:
    svc = services()
    checks: dict[str, Any] = {}
    try:
        with svc.sessions() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {exc.__class__.__name__}"
    try:
        svc.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"down: {exc.__class__.__name__}"
    try:
        svc.sender.ping()
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"down: {exc.__class__.__name__}"
    down = [name for name, state in checks.items() if state != "ok"]
    if down:
        body = {
            "error": {
                "code": "SERVICE_UNAVAILABLE",
                "message": f"not ready: {', '.join(down)} down",
                "details": checks,
            }
        }
        return jsonify(body), 503
    return jsonify({"status": "ready", "checks": checks})
