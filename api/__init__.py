"""The HTTP API: a thin Flask app that validates, stores requests and answers 202."""

from __future__ import annotations

from flask import Flask, request
from flask_smorest import Api
from redis import Redis

from api.auth import init_auth
from api.context import Services, init_context
from api.errors import register_error_handlers
from api.queue import TaskSender
from api.routes import audit, auth, bookings, health, meetings, rooms, tasks, tickets
from models.db import session_factory
from models.errors import DomainError
from models.settings import Settings, load_settings

MAX_BODY_BYTES = 2 * 1024 * 1024  # a 1000-item batch fits with room to spare


class PayloadTooLarge(DomainError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


def check_body() -> None:
    """Refuse oversized bodies before reading them, and bodies that are not JSON."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if has_body and not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask("bookings")
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        API_TITLE="Bookings",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_REDOC_PATH="/docs",
        OPENAPI_REDOC_URL="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js",
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False
    init_context(
        app,
        Services(
            settings=settings,
            sessions=session_factory(settings.database_url),
            redis=Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5),
            sender=TaskSender(settings.broker_url),
        ),
    )
    api = Api(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for module in (health, auth, rooms, bookings, meetings, tasks, tickets, audit):
        api.register_blueprint(module.blp)
    app.before_request(check_body)
    init_auth(app)
    register_error_handlers(app)
    return app
