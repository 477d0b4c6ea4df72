"""Domain errors. The API maps each to the one JSON error shape; the worker to a task error."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the booking domain refused something."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationFailed(DomainError):
    status = 422
    code = "VALIDATION_ERROR"


class NotFound(DomainError):
    status = 404
    code = "NOT_FOUND"


class Unauthorized(DomainError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(DomainError):
    status = 403
    code = "FORBIDDEN"


class Conflict(DomainError):
    status = 409
    code = "CONFLICT"

    def __init__(self, message: str, *, code: str = "CONFLICT", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.code = code


class IdempotencyKeyReused(ValidationFailed):
    code = "IDEMPOTENCY_KEY_REUSED"


class Unavailable(DomainError):
    """A backing service went away; the details say which, and what became of the write."""

    status = 503
    code = "SERVICE_UNAVAILABLE"
