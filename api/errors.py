"""One JSON error shape for every failure: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError
from sqlalchemy.exc import OperationalError as DatabaseDown
from sqlalchemy.exc import TimeoutError as PoolExhausted
from werkzeug import exceptions as werkzeug_exceptions
from werkzeug.exceptions import HTTPException

from models.errors import DomainError

log = logging.getLogger(__name__)


# Errors only HTTP has; the domain's own are in models/errors.py.
class PayloadTooLarge(DomainError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class UriTooLong(DomainError):
    status = 414
    code = "URI_TOO_LONG"


class HeadersTooLarge(DomainError):
    status = 431
    code = "HEADERS_TOO_LARGE"


class RateLimited(DomainError):
    status = 429
    code = "RATE_LIMITED"


_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    431: "HEADERS_TOO_LARGE",
    503: "SERVICE_UNAVAILABLE",
}


# Every `error.code` an answer may carry: the statuses' own codes above, and the domain's
# sharper ones (models/errors.py and the Conflict codes its services raise). The OpenAPI
# document lists them as an enum; tests/unit/test_error_codes.py finds every code the
# code base raises and fails when one is missing here.
ERROR_CODES: tuple[str, ...] = (
    *_CODES.values(),
    "MALFORMED_JSON",
    "INTERNAL_ERROR",
    "IDEMPOTENCY_KEY_REUSED",
    "EMAIL_TAKEN",
    "ROOM_NAME_TAKEN",
    "INVALID_TRANSITION",
    "NOT_CONFIRMED",
    "OUTSIDE_CHECK_IN_WINDOW",
    "MEETING_ENDED",
    "NOT_WAITLISTED",
)


# A 503 says when to try again: a database failover takes seconds (docs/operations.md).
RETRY_AFTER_SECONDS = 5


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> ResponseReturnValue:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    if status == 503:
        return jsonify(body), status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return jsonify(body), status


def _flatten_locations(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs nests errors by location ({"json": {...}}); clients want the fields."""
    details: dict[str, Any] = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            details.update(errors)
        else:
            details[location] = errors
    return details


def handle_http(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if status == 422 and messages:
        return error_response(
            422, "VALIDATION_ERROR", "the request is invalid", _flatten_locations(messages)
        )
    if status == 400 and messages:
        return error_response(400, "MALFORMED_JSON", "the body is not valid JSON")
    message = data.get("message") or exc.description or exc.name
    if isinstance(exc, werkzeug_exceptions.NotFound) and not data:  # no route matched
        message = "no such resource: check the path (ids are UUIDs)"
    code = _CODES.get(status, exc.name.upper().replace(" ", "_"))
    response = jsonify({"error": {"code": code, "message": message, "details": {}}})
    response.status_code = status
    if isinstance(exc, werkzeug_exceptions.MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response


def handle_domain(exc: DomainError) -> ResponseReturnValue:
    return error_response(exc.status, exc.code, exc.message, exc.details)


def handle_unavailable(exc: Exception) -> ResponseReturnValue:
    database = isinstance(exc, DatabaseDown | InterfaceError | PoolExhausted | DBAPIError)
    which = "database" if database else "broker"
    log.warning("%s unavailable: %s", which, exc.__class__.__name__)
    return error_response(
        503,
        "SERVICE_UNAVAILABLE",
        f"the {which} is unavailable; nothing was changed",
        {"service": which},
    )


def handle_database_error(exc: DBAPIError) -> ResponseReturnValue:
    """A session the server ended (a restart, a failover, a bound it enforces) is an
    outage like any other; any other database error is unexpected."""
    if exc.connection_invalidated:
        return handle_unavailable(exc)
    return handle_unexpected(exc)


def handle_integrity(exc: IntegrityError) -> ResponseReturnValue:
    # Services turn the constraints they expect into domain errors; this is a race they lost.
    log.warning("integrity error: %s", exc.orig)
    return error_response(409, "CONFLICT", "the change conflicts with the current state")


def handle_unexpected(exc: Exception) -> ResponseReturnValue:
    log.exception("unhandled error")  # the trace goes to the log, never to the client
    return error_response(500, "INTERNAL_ERROR", "an unexpected error occurred")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(DomainError, handle_domain)
    app.register_error_handler(IntegrityError, handle_integrity)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(DatabaseDown, handle_unavailable)
    app.register_error_handler(InterfaceError, handle_unavailable)
    app.register_error_handler(PoolExhausted, handle_unavailable)
    app.register_error_handler(BrokerError, handle_unavailable)
    app.register_error_handler(RedisConnectionError, handle_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
