"""What the OpenAPI document says beyond the schemas: how to log in, each operation's id,
which reply fields are always there, the text rules, every error, headers.

A generated client (clients/python) is built from this document: its function names are
the operation ids, its models' required attributes the replies' required fields, its
enums the closed sets, its typed error answers the documented statuses.

Text fields, as JSON Schema patterns:

The rules themselves live in the marshmallow fields (models/domain/booking_input.py) and
api/request_checks.py; this only writes them down, so a client (or schemathesis) that
follows the spec sends nothing the API refuses:
- no string holds a NUL (Postgres cannot store one);
- a one-line field has no control characters nor line or paragraph separators;
- a required trimmed field has at least one visible character.
The patterns spell every character they exclude as an escape (`\\x00`, `\\u2028`), so the
document shows a readable regex, never the invisible characters themselves. Replies carry
no pattern: they describe what a client sends.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from apispec.ext.marshmallow.common import resolve_schema_instance
from marshmallow import Schema, fields, validate

from api.schemas.common import Reply
from models.domain.booking_input import INVISIBLE, OneLine, Trimmed

API_DESCRIPTION = """\
Room bookings. A write is accepted at once and decided by a worker: it answers **202**
with a task; `GET /v1/tasks/{task_id}?wait=10` answers once the task is decided.

## Logging in

1. Register: `POST /v1/auth/register` `{"email", "name", "password"}` (8 characters or
   more). The first admin is made on the server: `bookings create-admin`.
2. Log in: `POST /v1/auth/token` `{"email", "password"}` answers
   `{"access_token", "token_type": "Bearer", "expires_in"}`.
3. Send `Authorization: Bearer <access_token>` with every other call (here: *Authorize*).

Services and scripts use an **API token** instead: logged in as above,
`POST /v1/users/me/api-tokens` `{"name"}` answers its `token` (`bk_…`, shown only then),
sent the same way: `Authorization: Bearer bk_…`. It lasts until it expires (90 days
unless `expires_in_days` says otherwise) or is revoked, across password changes.

## Errors

Every error is `{"error": {"code", "message", "details"}}` with the status that fits;
each operation lists its own. A 429 or 503 says when to try again (`Retry-After`).

## Text

Text fields follow the patterns shown: no NUL character anywhere; a one-line field
(a name, a title) has no control characters or line breaks; a required one has at least
one visible character.
"""

BEARER_DESCRIPTION = (
    "Either token works: a login token (`access_token` from POST /v1/auth/token, valid "
    "for `expires_in` seconds) or an API token (`bk_…` from POST "
    "/v1/users/me/api-tokens, for services). Send `Authorization: Bearer <token>`."
)

_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_INVISIBLE = "".join(f"\\u{ord(ch):04x}" for ch in INVISIBLE)
NO_NUL = r"^[^\x00]*$"
ONE_LINE = rf"^[^{_CONTROL}]*$"
VISIBLE_ONE_LINE = rf"^[^{_CONTROL}]*[^\s{_CONTROL}{_INVISIBLE}][^{_CONTROL}]*$"
VISIBLE = rf"^[^\x00]*[^\s\x00{_INVISIBLE}][^\x00]*$"


def _needs_visible(field: fields.Field) -> bool:
    return any(
        isinstance(rule, validate.Length) and (rule.min or 0) >= 1 for rule in field.validators
    )


def text_patterns(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, str]:
    """An apispec attribute function (bound to its OpenAPIConverter)."""
    ret: dict[str, Any] = kwargs["ret"]
    if ret.get("type") != "string" or {"format", "enum", "pattern"} & set(ret):
        return {}
    if isinstance(_root(field), Reply):
        return {}
    if isinstance(field, OneLine):
        return {"pattern": VISIBLE_ONE_LINE if _needs_visible(field) else ONE_LINE}
    if isinstance(field, Trimmed) and _needs_visible(field):
        return {"pattern": VISIBLE}
    return {"pattern": NO_NUL}


def enum_types(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, str]:
    """An apispec attribute function: fields.Enum(by_value=True) of string values is a
    string (apispec leaves the type out, and a generated client then knows less)."""
    ret: dict[str, Any] = kwargs["ret"]
    values = ret.get("enum")
    if "type" in ret or not values or not all(isinstance(v, str) for v in values):
        return {}
    return {"type": "string"}


def _root(field: fields.Field) -> Schema | None:
    """The schema a field belongs to, through the lists and dicts that hold it."""
    parent: Any = field.parent
    while isinstance(parent, fields.Field):
        parent = parent.parent
    return parent if isinstance(parent, Schema) else None


class SchemaConverter(OpenAPIConverter):
    """Marshmallow schemas as OpenAPI 3.0 schemas, as a client generator reads them best.

    A reply's fields are required, but for those marked optional (api/schemas/common.py
    Reply): a generated client's model then has them as plain attributes, not maybes.
    A nullable nested schema is `anyOf: [its $ref], nullable: true`: apispec's own form
    adds an "any object" alternative, which a generated client takes for the answer."""

    def field2nullable(self, field: fields.Field, ret: dict[str, Any]) -> dict[str, Any]:
        if field.allow_none and "$ref" in ret:
            return {"anyOf": [{"$ref": ret.pop("$ref")}], "nullable": True}
        attributes: dict[str, Any] = super().field2nullable(field, ret)
        return attributes

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)
        instance = resolve_schema_instance(schema)
        if isinstance(instance, Reply):
            jsonschema["required"] = sorted(
                field.data_key or name
                for name, field in instance.dump_fields.items()
                if not field.metadata.get("optional")
            )
        return jsonschema


class SchemaPlugin(MarshmallowPlugin):
    Converter = SchemaConverter


# An operation's id is its view's name, unless named here: the view names that read
# badly as a client's function. The ids are the generated client's function names, so
# renaming a view renames its function in every client: keep the old id here instead.
OPERATION_IDS = {
    "health.healthz": "get_health",
    "health.readyz": "get_readiness",
    "health.metrics": "get_metrics",
    "auth.token": "log_in",
    "auth.logout": "log_out",
    "auth.me": "get_me",
    "api_tokens.create": "create_api_token",
    "api_tokens.list_tokens": "list_api_tokens",
    "api_tokens.revoke": "revoke_api_token",
    "delegates.add": "add_delegate",
    "delegates.remove": "remove_delegate",
    "rooms.room_availability": "list_available_rooms",
    "rooms.patch_room": "update_room",
    "feeds.my_calendar": "get_my_calendar",
    "feeds.room_calendar": "get_room_calendar",
    "bookings.room_bookings": "list_room_bookings",
    "tickets.patch_ticket": "update_ticket",
    "audit.list_audit": "list_audit_events",
    "webhooks.list_deliveries": "list_webhook_deliveries",
    "webhooks.redeliver": "redeliver_webhook_delivery",
    "webhooks.ping": "ping_webhook",
}


def operation_id(endpoint: str) -> str:
    """`rooms.get_room` -> `get_room`; snake_case, one per operation."""
    return OPERATION_IDS.get(endpoint) or endpoint.rpartition(".")[2]


class OperationIds(BasePlugin):
    """Every operation's operationId, from its Flask endpoint (one method per view)."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        rule = kwargs.get("rule")
        if rule is None:
            return
        for operation in (operations or {}).values():
            if isinstance(operation, dict):
                operation.setdefault("operationId", operation_id(rule.endpoint))


ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
ON_BEHALF = "organizer_id names a user who has not made the caller their delegate"
NO_ROOM = "no such room (a room_id or one of room_ids)"
NO_REPORT_ROOM = "room_id names no room"
# What an operation answers beyond what its shape implies (below), and why: the
# contract's state conflicts (409), refusals of a caller who is signed in (403), the
# ids a body names (404), and the login's own 401 and 429.
ERRORS: dict[tuple[str, str], dict[int, str]] = {
    ("post", "/v1/auth/register"): {409: "EMAIL_TAKEN: that email is already registered"},
    ("post", "/v1/auth/token"): {
        401: "no user has this email and password",
        429: "10 failed logins for this email from this address within 15 minutes (or too"
        " many requests from it): refused, even with the right password, for Retry-After"
        " seconds",
    },
    ("post", "/v1/users/me/password"): {
        429: "too many refused changes (a wrong current password) or requests"
    },
    ("post", "/v1/users/me/delegates"): {404: "no such user"},
    ("post", "/v1/users/me/api-tokens"): {
        403: "called with an API token: API tokens are made with a login token"
    },
    ("post", "/v1/rooms"): {409: "ROOM_NAME_TAKEN: a room with that name exists"},
    ("patch", "/v1/rooms/{room_id}"): {409: "ROOM_NAME_TAKEN: a room with that name exists"},
    ("post", "/v1/bookings"): {403: ON_BEHALF, 404: NO_ROOM},
    ("post", "/v1/bookings/recurring"): {403: ON_BEHALF, 404: NO_ROOM},
    ("post", "/v1/bookings/batch"): {403: ON_BEHALF, 404: NO_ROOM},
    ("post", "/v1/bookings/check"): {403: ON_BEHALF, 404: NO_ROOM},
    ("post", "/v1/bookings/{booking_id}/check-in"): {
        403: "only the organizer checks in",
        409: "NOT_CONFIRMED, OUTSIDE_CHECK_IN_WINDOW ([start - 15 min, end)) or MEETING_ENDED",
    },
    ("post", "/v1/tasks/{task_id}/withdraw"): {409: "NOT_WAITLISTED: the task is not waiting"},
    ("get", "/v1/reports/utilization"): {404: NO_REPORT_ROOM},
    ("get", "/reports/utilization"): {404: NO_REPORT_ROOM},
    ("post", "/v1/tickets"): {404: NO_ROOM},
    ("patch", "/v1/tickets/{ticket_id}"): {
        409: "INVALID_TRANSITION: the ticket cannot move to that status from its own"
    },
    ("get", "/metrics"): {
        401: "METRICS_TOKEN is set and the bearer token is not it",
        403: "in production without METRICS_TOKEN, only loopback callers may scrape",
    },
}
UNLIMITED = ("/healthz", "/readyz", "/metrics")
FORM = "application/x-www-form-urlencoded"  # the check-in page's sign-in


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
        form = FORM in operation.get("requestBody", {}).get("content", {})
        if "requestBody" in operation:
            errors[400] = "the body is not a valid form" if form else "the body is not valid JSON"
        if method in {"post", "put", "patch"}:  # api/request_checks.py check_body
            errors[413] = "the body is larger than 2 MiB"
            errors[415] = f"the body is not {FORM if form else 'application/json'}"
        if not path.startswith(UNLIMITED):  # the API and its pages, not the probes
            errors[414] = "the URI is longer than 8 KiB"
            errors[422] = "a query parameter or the body holds a NUL or an unpaired surrogate"
            errors[431] = "too many header fields, or too large"
            errors[503] = (
                "a backing service is down; nothing is half-written (details.service"
                " names it; details.task_id, when present, is a write whose commit was"
                " cut off: its task says whether it was stored)"
            )
        if not path.startswith(UNLIMITED):
            errors[429] = "rate limited"
        errors.update(ERRORS.get((method, path), {}))
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
        if accepted is None:  # flask-smorest keys its own responses by int
            return
        task = _answers_a_task(responses[accepted])
        responses[accepted].setdefault("headers", {})["Location"] = {
            "description": "the task's URL (as status_url)"
            if task
            else "the webhook's deliveries (as deliveries_url)",
            "schema": {"type": "string"},
        }
        if task:  # api/submit.py accepted: the writes that make a task read the key
            operation.setdefault("parameters", []).append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "a retry with the same key and body answers the first 202",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            )


def _answers_a_task(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/TaskAccepted"))
