"""The OpenAPI document says what the API does: summaries, every error, the headers,
and example bodies the API accepts (Swagger's "Try it out" starts from them)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.helpers import Api


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
            assert "Idempotency-Key" in [p["name"] for p in op.get("parameters", [])], where


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
