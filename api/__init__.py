"""The HTTP API: a thin Flask app that validates, stores requests and answers 202."""

from __future__ import annotations

from collections.abc import Callable
from types import FunctionType
from typing import Any

import swagger_ui_bundle
from flask import Flask, Response, send_from_directory
from flask_smorest import Api

from api.auth import init_auth
from api.auth_events import listener_for
from api.context import Services, init_context
from api.errors import register_error_handlers
from api.long_polls import WaitSlots
from api.metrics import init_metrics
from api.principals import PrincipalCache
from api.probes import checks_for
from api.queue import TaskSender
from api.rate_limit import init_rate_limits
from api.request_checks import MAX_BODY_BYTES, init_request_checks, init_text_checks
from api.routes import (
    api_tokens,
    approvals,
    audit,
    auth,
    bookings,
    checkin,
    closures,
    delegates,
    displays,
    feeds,
    health,
    meetings,
    reports,
    rooms,
    tasks,
    tickets,
    webhooks,
)
from api.schemas.common import ErrorSchema
from api.security_headers import init_security_headers
from api.spec_examples import field_examples
from api.spec_rules import (
    API_DESCRIPTION,
    BEARER_DESCRIPTION,
    DocumentedErrors,
    OperationIds,
    SchemaPlugin,
    enum_types,
    text_patterns,
)
from models.runtime import build
from models.services.wakeups import BackgroundWaker
from models.settings import Settings, load_settings

REDIS_TIMEOUT = 0.5  # seconds


class BookingsFlask(Flask):
    """Flask, asking once per function whether it is a coroutine function: Flask asks on
    every call of every hook and view (ten hooks a request here), through `inspect`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if not isinstance(func, FunctionType):
            return super().ensure_sync(func)
        found = self._sync.get(func)
        if found is None:
            found = self._sync[func] = super().ensure_sync(func)
        return found


class BookingsApi(Api):
    """flask-smorest, documenting our error shape instead of its own."""

    ERROR_SCHEMA = ErrorSchema


def docs_asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = BookingsFlask("bookings")
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
        OPENAPI_SWAGGER_UI_CONFIG={"persistAuthorization": True},  # a token survives reloads
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False
    # A write never waits on Redis or the broker: wake-ups go out from a thread of their
    # own, and the rate limiter gives up fast. If Redis hangs, the rows are committed
    # and the sweeper wakes their rooms.
    sender = TaskSender(settings)
    core = build(
        settings,
        sender.publish_decide,
        pool_size=settings.api_threads,
        redis_timeout=REDIS_TIMEOUT,
        redis_connect_timeout=REDIS_TIMEOUT,
    )
    svc = Services(
        settings=core.settings,
        sessions=core.sessions,
        redis=core.redis,
        sender=sender,
        waker=BackgroundWaker(core.waker),
        principals=PrincipalCache(),
        auth_events=listener_for(settings.database_url),
        wait_slots=WaitSlots(settings.api_threads),
    )
    init_context(app, svc)
    app.extensions["bookings_checks"] = checks_for(svc)
    api = BookingsApi(
        app,
        spec_kwargs={
            "info": {"description": API_DESCRIPTION},
            "security": [{"bearerAuth": []}],
            "marshmallow_plugin": SchemaPlugin(),
            "extra_plugins": [OperationIds(), DocumentedErrors()],
        },
    )
    api.ma_plugin.converter.add_attribute_function(enum_types)
    api.ma_plugin.converter.add_attribute_function(text_patterns)
    api.ma_plugin.converter.add_attribute_function(field_examples)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": BEARER_DESCRIPTION}
    )
    # The calendar feeds' alternative to the bearer token (api/auth.py feed_token_allowed).
    api.spec.components.security_scheme(
        "feedToken",
        {"type": "apiKey", "in": "query", "name": "token", "description": "a feed token"},
    )
    # A room's door display opens with the room's display token alone (display_token_only).
    api.spec.components.security_scheme(
        "displayToken",
        {"type": "apiKey", "in": "query", "name": "token", "description": "a display token"},
    )
    for module in (
        health,
        auth,
        api_tokens,
        delegates,
        rooms,
        feeds,
        closures,
        bookings,
        approvals,
        meetings,
        tasks,
        tickets,
        audit,
        webhooks,
        displays,
        checkin,
        reports,
    ):
        api.register_blueprint(module.blp)
    init_metrics(app, settings.metrics_dir)
    app.add_url_rule("/docs/assets/<path:filename>", "docs_assets", docs_asset)
    init_request_checks(app)
    init_auth(app)
    init_rate_limits(app, settings)
    init_text_checks(app)
    init_security_headers(app)
    register_error_handlers(app)
    return app
