"""What the OpenAPI document says beyond the schemas: the text rules, every error, headers.

Text fields, as JSON Schema patterns:

The rules themselves live in the marshmallow fields (models/domain/booking_input.py) and
api/request_checks.py; this only writes them down, so a client (or schemathesis) that
follows the spec sends nothing the API refuses:
- no string holds a NUL (Postgres cannot store one);
- a one-line field has no control characters nor line or paragraph separators;
- a required trimmed field has at least one visible character.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from apispec import BasePlugin
from marshmallow import fields, validate

from models.domain.booking_input import INVISIBLE, OneLine, Trimmed

_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029"
_INVISIBLE = "".join(f"\\u{ord(ch):04x}" for ch in INVISIBLE)
NO_NUL = "^[^\\u0000]*$"
ONE_LINE = f"^[^{_CONTROL}]*$"
VISIBLE_ONE_LINE = f"^[^{_CONTROL}]*[^\\s{_CONTROL}{_INVISIBLE}][^{_CONTROL}]*$"
VISIBLE = f"^[^\\u0000]*[^\\s\\u0000{_INVISIBLE}][^\\u0000]*$"


def _needs_visible(field: fields.Field) -> bool:
    return any(
        isinstance(rule, validate.Length) and (rule.min or 0) >= 1 for rule in field.validators
    )


def text_patterns(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, str]:
    """An apispec attribute function (bound to its OpenAPIConverter)."""
    ret: dict[str, Any] = kwargs["ret"]
    if ret.get("type") != "string" or {"format", "enum", "pattern"} & set(ret):
        return {}
    if isinstance(field, OneLine):
        return {"pattern": VISIBLE_ONE_LINE if _needs_visible(field) else ONE_LINE}
    if isinstance(field, Trimmed) and _needs_visible(field):
        return {"pattern": VISIBLE}
    return {"pattern": NO_NUL}


ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
# Operations that answer 409, and why (the contract's state conflicts).
CONFLICTS = {
    ("post", "/v1/auth/register"): "EMAIL_TAKEN: that email is already registered",
    ("post", "/v1/rooms"): "ROOM_NAME_TAKEN: a room with that name exists",
    ("patch", "/v1/rooms/{room_id}"): "ROOM_NAME_TAKEN: a room with that name exists",
    ("patch", "/v1/tickets/{ticket_id}"): "the ticket cannot move to that status from its own",
    ("post", "/v1/bookings/{booking_id}/check-in"): "not confirmed, too early, or ended",
}
UNLIMITED = ("/healthz", "/readyz", "/metrics")


class DocumentedErrors(BasePlugin):
    """Every error an operation can answer, in the one error shape, and the headers the
    contract names (Idempotency-Key, Location, Retry-After): so a client reading the
    spec, and schemathesis checking it, know every status code the API may send."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            if isinstance(operation, dict) and path is not None:
                self._document(path, method, operation)

    @staticmethod
    def _document(path: str, method: str, operation: dict[str, Any]) -> None:
        responses = operation.setdefault("responses", {})
        errors: dict[int, str] = {}
        if operation.get("security") != []:
            errors[401] = "no token, or a bad, expired or revoked one"
        if "ADMIN" in operation.get("x-roles", []):
            errors[403] = "the caller is not an admin"
        if "{" in path:
            errors[404] = "no such resource, or one the caller may not see"
        if "requestBody" in operation:
            errors[400] = "the body is not valid JSON"
            errors[413] = "the body is larger than 2 MiB"
            errors[415] = "the body is not application/json"
        if (method, path) in CONFLICTS:
            errors[409] = CONFLICTS[(method, path)]
        if path.startswith("/v1/"):
            errors[414] = "the URI is longer than 8 KiB"
            errors[431] = "too many header fields, or too large"
            errors[503] = (
                "a backing service is down; nothing is half-written (details.service"
                " names it; details.task_id, when present, is a write whose commit was"
                " cut off: its task says whether it was stored)"
            )
        if not path.startswith(UNLIMITED):
            errors[429] = "rate limited"
        documented = {str(key) for key in responses}
        for code, why in errors.items():
            if str(code) not in documented:
                responses[str(code)] = {"description": why, "content": ERROR}
        for limited in ("429", "503"):
            if limited in responses:
                responses[limited].setdefault("headers", {})["Retry-After"] = {
                    "description": "seconds until a request may succeed",
                    "schema": {"type": "integer"},
                }
        accepted = next((key for key in responses if str(key) == "202"), None)
        if accepted is not None:  # flask-smorest keys its own responses by int
            responses[accepted].setdefault("headers", {})["Location"] = {
                "description": "the task's URL (as status_url)",
                "schema": {"type": "string"},
            }
            operation.setdefault("parameters", []).append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "a retry with the same key and body answers the first 202",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            )


EXAMPLE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
SECOND_ID = "9b2e7c1a-4d3f-4e8a-b6c5-2f1d0e9a8b7c"


def booking_example() -> dict[str, Any]:
    """A whole booking body (one room, for the caller): the properties' examples name
    alternatives too (room_ids, organizer_id), which one body cannot hold at once."""
    examples = _examples()
    return {
        "room_id": EXAMPLE_ID,
        **{
            name: examples[name]
            for name in ("start_time", "end_time", "title", "description", "attendees")
        },
    }


def _day(days: int, hour: int) -> str:
    """A time this many days ahead: an example that is valid whenever the spec is read."""
    when = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return (when + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def _examples() -> dict[str, Any]:
    return {
        "email": "ana@example.com",
        "name": "Orion",
        "password": "correct-horse-battery",
        "current_password": "correct-horse-battery",
        "new_password": "another-long-password",
        "title": "Planning",
        "description": "Quarterly numbers",
        "attendees": ["ana@example.com", "Li Wei"],
        "external_meeting_url": "https://meet.example.com/planning",
        "start_time": _day(7, 9),
        "end_time": _day(7, 10),
        "until": _day(60, 10),
        "from": _day(0, 0),
        "to": _day(7, 0),
        "capacity": 8,
        "capacity_min": 4,
        "location": "2nd floor, east",
        "amenities": ["screen", "whiteboard"],
        "amenity": "screen",
        "timezone": "Europe/Berlin",
        "auto_release_minutes": 15,
        "freq": "WEEKLY",
        "interval": 1,
        "count": 10,
        "by_weekday": ["MO", "WE"],
        "conflict_policy": "skip_conflicts",
        "room_ids": [EXAMPLE_ID, SECOND_ID],
        "shift_minutes": 30,
        "duration_minutes": 45,
        "waitlist": False,
        "url": "https://hooks.example.com/bookings",
        "events": ["booking.confirmed", "task.finished"],
        "reason": "Moved online",
        "join_code": "K7QX2MPA",
        "created_at": _day(0, 8),
        "updated_at": _day(0, 8),
        "at": _day(0, 8),
        "total": 1,
        "limit": 50,
        "offset": 0,
        "role": "USER",
        "kind": "booking",
        "token_type": "Bearer",
        "expires_in": 3600,
        "status_url": f"/v1/tasks/{EXAMPLE_ID}",
        "active": True,
        "action": "booking.created",
        "cancel_reason": "Moved online",
        "code": "VALIDATION_ERROR",
        "message": "the request is invalid",
    }


def field_examples(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """An apispec attribute function: an example for every field a client fills in, by
    its name, so Swagger's "Try it out" starts from a body the API accepts."""
    ret: dict[str, Any] = kwargs["ret"]
    name = field.data_key or field.name
    if "example" in ret or name is None:
        return {}
    examples = _examples()
    if name in examples:
        return {"example": examples[name]}
    if ret.get("format") == "uuid":
        return {"example": EXAMPLE_ID}
    return {}
