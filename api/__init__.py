"""The HTTP API: a thin Flask app that validates, stores requests and answers 202."""

from __future__ import annotations

import swagger_ui_bundle
from flask import Flask, Response, request, send_from_directory
from flask_smorest import Api
from redis import Redis

from api.auth import init_auth
from api.context import Services, init_context
from api.errors import register_error_handlers
from api.metrics import init_metrics
from api.queue import TaskSender
from api.rate_limit import init_rate_limits
from api.routes import audit, auth, bookings, health, meetings, rooms, tasks, tickets
from api.schemas.common import ErrorSchema
from models.db import session_factory
from models.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from models.settings import Settings, load_settings

MAX_BODY_BYTES = 2 * 1024 * 1024  # a 1000-item batch fits with room to spare


def check_body() -> None:
    """Refuse oversized bodies before reading them, and bodies that are not JSON."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if has_body and not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")


def check_text() -> None:
    """Refuse text Postgres cannot store (NUL) or UTF-8 cannot encode (lone surrogates)."""
    bad = [name for name, value in request.args.items(multi=True) if not storable(value)]
    if request.is_json and request.content_length:
        body = request.get_json(silent=True)
        if body is not None and not _storable_tree(body):
            bad.append("body")
    if bad:
        raise ValidationFailed(
            "text must not contain NUL characters or unpaired surrogates",
            details={name: ["contains a NUL character or an unpaired surrogate"] for name in bad},
        )


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storable_tree(value: object) -> bool:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return all(_storable_tree(k) and _storable_tree(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable_tree(v) for v in value)
    return True


class BookingsApi(Api):
    """flask-smorest, documenting our error shape instead of its own."""

    ERROR_SCHEMA = ErrorSchema


def docs_asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)


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
        # Swagger UI served from the swagger-ui-bundle wheel: /docs works offline too.
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
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
    api = BookingsApi(app, spec_kwargs={"security": [{"bearerAuth": []}]})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for module in (health, auth, rooms, bookings, meetings, tasks, tickets, audit):
        api.register_blueprint(module.blp)
    init_metrics(app, settings.metrics_dir)
    app.add_url_rule("/docs/assets/<path:filename>", "docs_assets", docs_asset)
    app.before_request(check_body)
    app.before_request(check_text)
    init_auth(app)
    init_rate_limits(app)
    register_error_handlers(app)
    return app
