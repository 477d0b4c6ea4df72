"""The OpenAPI document says what the API does: summaries, every error, the headers,
and example bodies the API accepts (Swagger's "Try it out" starts from them); and, for
the clients generated from it, how to log in, an id per operation, the fields every
answer has, the closed sets as enums and readable text patterns."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask import Flask

from api.errors import ERROR_CODES
from api.spec_rules import (
    ERRORS,
    NO_NUL,
    ONE_LINE,
    OPERATION_IDS,
    VISIBLE,
    VISIBLE_ONE_LINE,
)
from models.domain.states import (
    BookingStatus,
    MeetingState,
    RequestKind,
    RequestStatus,
    Role,
    TaskErrorCode,
)
from models.services.outbox import EVENT_TYPES
from tests.helpers import Api, booking_body, future


def spec(app: Flask) -> dict[str, Any]:
    document: dict[str, Any] = app.test_client().get("/openapi.json").json
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
    ]


def test_every_operation_has_a_summary_and_its_errors(app: Flask) -> None:
    for method, path, op in operations(spec(app)):
        where = f"{method.upper()} {path}"
        codes = set(op["responses"])
        assert op.get("summary"), where
        if op.get("security") != []:
            assert "401" in codes, where
        if "ADMIN" in op.get("x-roles", []):
            assert "403" in codes, where
        if "{" in path:
            assert "404" in codes, where
        if "requestBody" in op:
            assert {"400", "413", "415", "422"} <= codes, where
        if path.startswith("/v1/"):
            assert {"429", "503"} <= codes, where
            assert "Retry-After" in op["responses"]["429"]["headers"], where
        if "202" in codes:
            assert "Location" in op["responses"]["202"]["headers"], where
        if answers_a_task(op):
            assert "Idempotency-Key" in [p["name"] for p in op.get("parameters", [])], where


def answers_a_task(op: dict[str, Any]) -> bool:
    accepted = op["responses"].get("202", {}).get("content", {}).get("application/json", {})
    return bool(accepted.get("schema") == {"$ref": "#/components/schemas/TaskAccepted"})


def test_the_documented_shapes(app: Flask) -> None:
    schemas = spec(app)["components"]["schemas"]
    assert schemas["Task"]["properties"]["status"]["enum"] == [
        "QUEUED",
        "PROCESSING",
        "WAITLISTED",
        "SUCCEEDED",
        "REJECTED",
        "FAILED",
    ]
    assert schemas["Recurrence"]["properties"]["count"]["maximum"] == 500
    batch_item = schemas["BatchIn"]["properties"]["items"]["items"]
    assert {"$ref": "#/components/schemas/RecurringIn"} in batch_item["anyOf"]
    assert schemas["Health"]["properties"]["status"]
    assert "persistAuthorization" in app.test_client().get("/docs").get_data(as_text=True)


def example_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        name: prop["example"]
        for name, prop in schema["properties"].items()
        if "example" in prop and not prop.get("readOnly")
    }


def test_the_example_bodies_are_accepted(
    api: Api, app: Flask, user: dict[str, str], admin: dict[str, str], room: str, worker: object
) -> None:
    document = spec(app)
    schemas = document["components"]["schemas"]
    # A body with alternatives (room_id or room_ids) has a whole example of its own.
    body = document["paths"]["/v1/bookings"]["post"]["requestBody"]["content"]["application/json"]
    booking = {**body["example"], "room_id": room}
    created = api.client.post("/v1/bookings", json=booking, headers=user)
    assert created.status_code == 202, created.json
    assert api.wait_task(user, created.json["task_id"])["status"] == "SUCCEEDED"

    new_room = example_body(schemas["RoomIn"])
    assert api.client.post("/v1/rooms", json=new_room, headers=admin).status_code == 201
    ticket = {**example_body(schemas["TicketIn"]), "room_id": room}  # ids are examples only
    assert api.client.post("/v1/tickets", json=ticket, headers=user).status_code == 201


INPUTS = [
    "BookingIn",
    "RecurringIn",
    "Recurrence",
    "RoomIn",
    "RoomPatch",
    "TicketIn",
    "TicketPatch",
    "Register",
    "TokenRequest",
    "PasswordChange",
    "CancelIn",
    "ChangeIn",
    "SeriesChangeIn",
    "DelegateIn",
]


def test_every_field_a_client_sends_has_an_example(app: Flask) -> None:
    schemas = spec(app)["components"]["schemas"]
    for name in INPUTS:
        for field, prop in schemas[name]["properties"].items():
            described = {"example", "enum", "$ref", "allOf"} & set(prop)
            assert described, f"{name}.{field} has no example"


# What a generated client (clients/python) is made of: one function per operationId, a
# model per schema with its required fields as plain attributes, an enum per closed set,
# a typed answer per documented status.


def test_every_operation_has_its_own_readable_id(app: Flask) -> None:
    ids = [op.get("operationId") for _, _, op in operations(spec(app))]
    assert all(isinstance(name, str) and re.fullmatch(r"[a-z]+(_[a-z]+)*", name) for name in ids)
    assert len(set(ids)) == len(ids), sorted(name for name in ids if ids.count(name) > 1)
    assert {"log_in", "get_me", "create_booking", "get_task", "create_api_token"} <= set(ids)
    # An override names an endpoint that exists (a renamed view keeps its client's name).
    assert set(OPERATION_IDS) <= set(app.view_functions)


def test_the_description_says_how_to_log_in(app: Flask) -> None:
    document = spec(app)
    login = document["info"]["description"]
    for step in (
        "POST /v1/auth/register",
        "POST /v1/auth/token",
        "Authorization: Bearer <access_token>",
        "POST /v1/users/me/api-tokens",
        "Authorization: Bearer bk_…",
    ):
        assert step in login, step
    bearer = document["components"]["securitySchemes"]["bearerAuth"]["description"]
    assert "POST /v1/auth/token" in bearer and "bk_" in bearer


def reached_from_answers(document: dict[str, Any]) -> set[str]:
    """The schema components some answer (2xx or error) is made of, nested ones too."""
    components = document["components"]
    todo = [response for _, _, op in operations(document) for response in op["responses"].values()]
    seen: set[str] = set()
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref", "")
            kind, _, name = ref.removeprefix("#/components/").partition("/")
            if kind == "responses":
                todo.append(components["responses"][name])
            elif kind == "schemas" and name not in seen:
                seen.add(name)
                todo.append(components["schemas"][name])
            todo.extend(value for key, value in node.items() if key != "$ref")
    return seen


def test_every_answer_lists_the_fields_it_always_has(app: Flask) -> None:
    document = spec(app)
    schemas = document["components"]["schemas"]
    answers = reached_from_answers(document)
    assert {"Task", "TaskError", "Booking", "Meeting", "Room", "Error", "ErrorBody"} <= answers
    for name in answers:
        schema = schemas[name]
        assert schema.get("required"), f"{name} lists no required field"
        assert set(schema["required"]) <= set(schema["properties"]), name
    # Always there, null when empty; optional only where an answer may leave it out.
    task = schemas["Task"]
    assert set(task["required"]) == set(task["properties"])
    assert task["properties"]["error"]["nullable"] is True
    assert schemas["TaskError"]["required"] == ["code", "message"]
    assert schemas["Booking"]["properties"]["meeting"] == {
        "anyOf": [{"$ref": "#/components/schemas/Meeting"}],
        "nullable": True,
    }
    assert set(schemas["CheckResult"]["required"]) == {"ok", "refusals"}


def test_the_closed_sets_are_enums(app: Flask) -> None:
    schemas = spec(app)["components"]["schemas"]

    def enum(schema: str, field: str) -> list[str]:
        prop = schemas[schema]["properties"][field]
        prop = prop.get("items", prop)
        assert prop["type"] == "string", (schema, field)
        return list(prop["enum"])

    assert enum("Task", "kind") == [kind.value for kind in RequestKind]
    assert enum("Task", "status") == [status.value for status in RequestStatus]
    assert enum("TaskAccepted", "status") == [status.value for status in RequestStatus]
    assert enum("TaskError", "code") == [code.value for code in TaskErrorCode]
    assert enum("Refusal", "code") == [code.value for code in TaskErrorCode]
    assert enum("ErrorBody", "code") == list(ERROR_CODES)
    assert enum("User", "role") == [role.value for role in Role]
    assert enum("Booking", "status") == [status.value for status in BookingStatus]
    assert enum("Meeting", "state") == [state.value for state in MeetingState]
    assert enum("Webhook", "events") == [*EVENT_TYPES, "*"]
    assert enum("Delivery", "event_type") == list(EVENT_TYPES)
    assert "booking.created" in enum("AuditEvent", "action")
    assert enum("Token", "token_type") == ["Bearer"]


def patterns(node: Any) -> list[str]:
    if isinstance(node, list):
        return [found for item in node for found in patterns(item)]
    if not isinstance(node, dict):
        return []
    own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
    return own + [found for value in node.values() for found in patterns(value)]


def test_the_text_patterns_are_readable_and_say_what_is_checked(app: Flask) -> None:
    found = patterns(spec(app))
    assert set(found) == {NO_NUL, ONE_LINE, VISIBLE_ONE_LINE, VISIBLE}
    for pattern in found:
        shown = [ch for ch in pattern if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"}]
        assert not shown, f"{pattern!r} holds raw characters {shown}"
    # The same rules as the fields that check them (models/domain/booking_input.py).
    assert re.match(ONE_LINE, "Planning Q3") and not re.match(ONE_LINE, "a\nb")
    assert not re.match(ONE_LINE, "a\u2028b") and not re.match(ONE_LINE, "a\x85b")
    assert re.match(VISIBLE_ONE_LINE, " x ") and not re.match(VISIBLE_ONE_LINE, " \u200b ")
    assert re.match(VISIBLE, "line\nbreak") and not re.match(VISIBLE, "\ufeff\n")
    assert re.match(NO_NUL, "any\ttext") and not re.match(NO_NUL, "a\x00")


def test_each_operation_documents_its_own_errors(app: Flask) -> None:
    document = spec(app)
    for (method, path), errors in ERRORS.items():  # api/spec_rules.py: each names a real one
        responses = document["paths"][path][method]["responses"]
        assert {str(status) for status in errors} <= set(responses), (method, path)
    login = document["paths"]["/v1/auth/token"]["post"]
    assert login["operationId"] == "log_in"
    assert login["security"] == []
    assert "401" in login["responses"] and "429" in login["responses"]
    assert "Retry-After" in login["responses"]["429"]["headers"]


def conforms(value: Any, schema: dict[str, Any], schemas: dict[str, Any], at: str) -> list[str]:
    """Where `value` breaks an OpenAPI 3.0 schema (the parts this document uses)."""
    if "$ref" in schema:
        return conforms(value, schemas[schema["$ref"].rsplit("/", 1)[1]], schemas, at)
    if value is None:
        return [] if schema.get("nullable") else [f"{at}: null"]
    if "anyOf" in schema:
        tried = [conforms(value, option, schemas, at) for option in schema["anyOf"]]
        return [] if any(not problems for problems in tried) else tried[0]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{at}: {value!r} not in the enum")
    kind = schema.get("type")
    if kind == "object" and isinstance(value, dict):
        missing = set(schema.get("required", [])) - set(value)
        problems += [f"{at}.{name}: missing" for name in sorted(missing)]
        for name, item in value.items():
            if name in schema.get("properties", {}):
                problems += conforms(item, schema["properties"][name], schemas, f"{at}.{name}")
            elif schema.get("additionalProperties") is False:
                problems.append(f"{at}.{name}: not in the schema")
    elif kind == "array" and isinstance(value, list):
        for index, item in enumerate(value):
            problems += conforms(item, schema["items"], schemas, f"{at}[{index}]")
    elif kind is not None:
        python = {"object": dict, "array": list, "string": str, "boolean": bool}
        expected = python.get(kind, (int, float))
        if not isinstance(value, expected) or (kind == "integer" and isinstance(value, bool)):
            problems.append(f"{at}: {value!r} is not {kind}")
    return problems


def test_real_answers_match_their_schemas(
    api: Api,
    app: Flask,
    user: dict[str, str],
    other_user: dict[str, str],
    room: str,
    worker: object,
) -> None:
    """A few answers, as the API sends them, against the schemas a client is made from:
    every required field there, null only where nullable, enums complete."""
    schemas = spec(app)["components"]["schemas"]
    start = future(hours=3)
    booking_id = api.confirmed_booking(user, booking_body(room, start, waitlist=True))
    task_id = api.book(other_user, booking_body(room, start, waitlist=True))
    waiting = api.task(other_user, task_id, wait=10)
    assert waiting["status"] == "WAITLISTED", waiting
    withdraw = api.client.post(f"/v1/tasks/{task_id}/withdraw", headers=other_user)
    check = api.client.post("/v1/bookings/check", json=booking_body(room, start), headers=user)
    answers = {
        "Task": [waiting, withdraw.json],
        "Booking": [api.client.get(f"/v1/bookings/{booking_id}", headers=user).json],
        # Another's booking in the room's calendar: no organizer, no meeting.
        "BookingPage": [api.page(other_user, f"/v1/rooms/{room}/bookings")],
        "Room": [api.client.get(f"/v1/rooms/{room}", headers=user).json],
        "CheckResult": [check.json],
        "User": [api.client.get("/v1/users/me", headers=user).json],
        "Error": [
            api.client.get(f"/v1/bookings/{room}", headers=user).json,
            api.client.post("/v1/rooms", json={}, headers=user).json,
            api.client.post("/v1/auth/token", json={"email": "x@x.org", "password": "x"}).json,
            api.client.post("/v1/bookings", json={}, headers=user).json,
        ],
    }
    assert withdraw.json["error"]["code"] == "WITHDRAWN"
    assert check.json["refusals"][0]["code"] == "CONFLICT"
    assert answers["BookingPage"][0]["items"][0]["organizer_id"] is None
    for name, bodies in answers.items():
        for body in bodies:
            assert not conforms(body, schemas[name], schemas, name), (body, schemas[name])
