"""Users, tokens and rooms: the synchronous resources, checked against the database."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from models.tables.rooms import Room
from models.tables.users import User
from tests.helpers import Api, assert_error, count_rows

PASSWORD = "password-123"
USER_FIELDS = {"id", "email", "name", "role", "created_at"}
ROOM_FIELDS = {
    "id",
    "name",
    "capacity",
    "location",
    "building",
    "floor",
    "amenities",
    "timezone",
    "policy",
    "auto_release_minutes",
    "active",
    "created_at",
    "updated_at",
}


def register(api: Api, email: str, password: str = PASSWORD, name: str = "Carol") -> TestResponse:
    return api.client.post(
        "/v1/auth/register", json={"email": email, "name": name, "password": password}
    )


# --- registration, tokens, profile -------------------------------------------------------


def test_register_answers_201_with_the_user_and_no_password(
    api: Api, sessions: sessionmaker[Session]
) -> None:
    """Registration makes a USER; the answer has the user's fields and no password at all."""
    response = register(api, "carol@example.com", name="Carol")

    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == USER_FIELDS, body
    assert body["email"] == "carol@example.com"
    assert body["name"] == "Carol"
    assert body["role"] == "USER"
    uuid.UUID(body["id"])
    assert "password-123" not in response.get_data(as_text=True)
    with sessions() as session:
        row = session.get(User, uuid.UUID(body["id"]))
        assert row is not None and row.email == "carol@example.com"


def test_passwords_are_hashed_at_the_configured_cost(
    api: Api, sessions: sessionmaker[Session]
) -> None:
    """PASSWORD_COST (4 in tests, 14 by default) sets scrypt's n for the API and the CLI."""
    from cli.main import main

    assert register(api, "erin@example.com").status_code == 201
    made = CliRunner().invoke(
        main, ["create-admin", "--email", "root@example.com", "--password", "root-pass-1"]
    )
    assert made.exit_code == 0, made.output

    with sessions() as session:
        rows = session.execute(select(User.email, User.password_hash)).all()
    assert {email: stored.split("$")[1] for email, stored in rows} == {
        "erin@example.com": str(2**4),
        "root@example.com": str(2**4),
    }
    assert api.login("root@example.com", "root-pass-1")
    assert_error(
        api.client.post("/v1/auth/token", json={"email": "nobody@example.com", "password": "x"}),
        401,
    )


def test_a_duplicate_email_is_409_email_taken_whatever_its_case(
    api: Api, sessions: sessionmaker[Session]
) -> None:
    """The same email again, in any case, is 409 EMAIL_TAKEN and adds no user."""
    assert register(api, "dave@example.com").status_code == 201

    assert_error(register(api, "dave@example.com"), 409, "EMAIL_TAKEN")
    assert_error(register(api, "DAVE@Example.COM"), 409, "EMAIL_TAKEN")

    assert count_rows(sessions, User, func.lower(User.email) == "dave@example.com") == 1


def test_a_password_under_8_characters_is_422(api: Api, sessions: sessionmaker[Session]) -> None:
    """Passwords need at least 8 characters; a short one names the field and stores nothing."""
    error = assert_error(register(api, "erin@example.com", password="short12"), 422)

    assert "password" in error["details"], error
    assert count_rows(sessions, User) == 0
    assert register(api, "erin@example.com", password="exactly8").status_code == 201


def test_register_refuses_a_bad_email_and_missing_fields(
    api: Api, sessions: sessionmaker[Session]
) -> None:
    """Field shapes are checked: a non-email and missing fields are named."""
    bad = assert_error(register(api, "not-an-email"), 422)
    assert "email" in bad["details"]
    missing = assert_error(api.client.post("/v1/auth/register", json={}), 422)
    assert {"email", "name", "password"} <= set(missing["details"]), missing
    assert count_rows(sessions, User) == 0


def test_token_answers_the_contract_shape_and_works(api: Api) -> None:
    """POST /v1/auth/token gives {access_token, token_type: Bearer, expires_in} that works."""
    register(api, "fay@example.com", name="Fay")

    response = api.client.post(
        "/v1/auth/token", json={"email": "fay@example.com", "password": "password-123"}
    )

    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    assert isinstance(body["access_token"], str) and body["access_token"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    me = api.client.get("/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json["email"] == "fay@example.com"


def test_token_accepts_the_email_in_another_case(api: Api) -> None:
    """Emails are case-insensitive at login too."""
    register(api, "gil@example.com")

    response = api.client.post(
        "/v1/auth/token", json={"email": "GIL@Example.com", "password": "password-123"}
    )

    assert response.status_code == 200, response.json


@pytest.mark.parametrize(
    ("email", "password"),
    [("hal@example.com", "wrong-password"), ("nobody@example.com", "password-123")],
    ids=["wrong-password", "unknown-email"],
)
def test_bad_credentials_are_401(api: Api, email: str, password: str) -> None:
    """A wrong password or an unknown email is 401, with no token in the answer."""
    register(api, "hal@example.com")

    response = api.client.post("/v1/auth/token", json={"email": email, "password": password})

    assert_error(response, 401)
    assert "access_token" not in response.get_data(as_text=True)


def test_users_me_is_the_caller(api: Api, user: dict[str, str], other_user: dict[str, str]) -> None:
    """/v1/users/me answers exactly the caller's own profile."""
    alice = api.client.get("/v1/users/me", headers=user)
    bob = api.client.get("/v1/users/me", headers=other_user)

    assert alice.status_code == bob.status_code == 200
    assert set(alice.json) == USER_FIELDS
    assert (alice.json["email"], alice.json["name"], alice.json["role"]) == (
        "alice@example.com",
        "Alice",
        "USER",
    )
    assert bob.json["email"] == "bob@example.com"
    assert alice.json["id"] != bob.json["id"]


def test_admin_profile_says_admin(api: Api, admin: dict[str, str]) -> None:
    """The CLI-made admin has the ADMIN role."""
    assert api.client.get("/v1/users/me", headers=admin).json["role"] == "ADMIN"


def test_passwords_are_stored_as_a_salted_scrypt_hash(
    api: Api, sessions: sessionmaker[Session]
) -> None:
    """The stored value is an scrypt hash, not the password, and salted (two users differ)."""
    register(api, "ivy@example.com", password="same-password-1")
    register(api, "jon@example.com", password="same-password-1")

    with sessions() as session:
        hashes = session.scalars(select(User.password_hash).order_by(User.email)).all()

    assert len(hashes) == 2
    for stored in hashes:
        assert stored.startswith("scrypt$"), stored
        assert "same-password-1" not in stored
    assert hashes[0] != hashes[1]


# --- rooms ---------------------------------------------------------------------------------


def test_admin_creates_a_room_with_defaults(
    api: Api, admin: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """201 with every room field; timezone defaults to UTC, auto-release is off (null)."""
    response = api.create_room(
        admin,
        name="Atlas",
        capacity=12,
        location="HQ 3rd floor",
        amenities=["projector", "whiteboard"],
    )

    assert response.status_code == 201, response.json
    room = response.json
    assert set(room) == ROOM_FIELDS
    assert room["name"] == "Atlas"
    assert room["capacity"] == 12
    assert room["location"] == "HQ 3rd floor"
    assert sorted(room["amenities"]) == ["projector", "whiteboard"]
    assert room["timezone"] == "UTC"
    assert room["auto_release_minutes"] is None
    assert room["active"] is True
    with sessions() as session:
        row = session.get(Room, uuid.UUID(room["id"]))
        assert row is not None
        assert (row.name, row.capacity, row.timezone, row.active) == ("Atlas", 12, "UTC", True)


def test_a_room_keeps_an_explicit_timezone_and_auto_release(
    api: Api, admin: dict[str, str]
) -> None:
    """timezone and auto_release_minutes are stored as given."""
    response = api.create_room(
        admin, name="Berlin", timezone="Europe/Berlin", auto_release_minutes=10
    )

    assert response.status_code == 201, response.json
    assert response.json["timezone"] == "Europe/Berlin"
    assert response.json["auto_release_minutes"] == 10


def test_a_duplicate_room_name_is_409(
    api: Api, admin: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """A second room with the same name is 409 ROOM_NAME_TAKEN; only one row exists."""
    assert api.create_room(admin, name="Orion").status_code == 201

    assert_error(api.create_room(admin, name="Orion"), 409, "ROOM_NAME_TAKEN")
    assert count_rows(sessions, Room, Room.name == "Orion") == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"timezone": "Mars/Olympus"}, "timezone", id="bad-timezone"),
        pytest.param({"capacity": 0}, "capacity", id="capacity-0"),
        pytest.param({"capacity": -3}, "capacity", id="capacity-negative"),
        pytest.param({"capacity": 2.5}, "capacity", id="capacity-fractional"),
        pytest.param({"auto_release_minutes": 0}, "auto_release_minutes", id="auto-release-0"),
    ],
)
def test_bad_room_fields_are_422(
    api: Api, admin: dict[str, str], sessions: sessionmaker[Session], fields, field
) -> None:
    """A bad time zone, capacity or auto-release is 422 naming the field; nothing is stored."""
    error = assert_error(api.create_room(admin, name="Bad", **fields), 422, "VALIDATION_ERROR")

    assert field in error["details"], error
    assert count_rows(sessions, Room) == 0


def test_a_user_cannot_create_a_room(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """Room creation is admin-only (403)."""
    assert_error(api.create_room(user, name="Sneaky"), 403)
    assert count_rows(sessions, Room) == 0


@pytest.fixture
def catalog(api: Api, admin: dict[str, str]) -> dict[str, str]:
    """Four rooms with different capacities, amenities and locations: name -> id."""
    rooms = [
        {"name": "Alpha", "capacity": 4, "location": "Berlin", "amenities": ["tv"]},
        {"name": "Beta", "capacity": 10, "location": "Berlin", "amenities": ["tv", "projector"]},
        {"name": "Gamma", "capacity": 20, "location": "Paris", "amenities": ["projector"]},
        {"name": "Delta", "capacity": 30, "location": "Paris", "amenities": []},
    ]
    ids = {}
    for fields in rooms:
        response = api.create_room(admin, **fields)
        assert response.status_code == 201, response.json
        ids[fields["name"]] = response.json["id"]
    return ids


def list_names(api: Api, headers: dict[str, str], query: Any = None) -> list[str]:
    response = api.client.get("/v1/rooms", query_string=query or {}, headers=headers)
    assert response.status_code == 200, response.json
    return sorted(r["name"] for r in response.json["items"])


def test_list_rooms_filters_by_capacity_min(
    api: Api, user: dict[str, str], catalog: dict[str, str]
) -> None:
    """capacity_min keeps rooms with at least that many seats (inclusive)."""
    assert list_names(api, user, {"capacity_min": 10}) == ["Beta", "Delta", "Gamma"]
    assert list_names(api, user, {"capacity_min": 21}) == ["Delta"]
    assert list_names(api, user) == ["Alpha", "Beta", "Delta", "Gamma"]


def test_list_rooms_repeated_amenity_means_all_must_match(
    api: Api, user: dict[str, str], catalog: dict[str, str]
) -> None:
    """amenity=tv&amenity=projector keeps only rooms with both."""
    assert list_names(api, user, {"amenity": "projector"}) == ["Beta", "Gamma"]
    assert list_names(api, user, [("amenity", "tv"), ("amenity", "projector")]) == ["Beta"]
    assert list_names(api, user, [("amenity", "tv"), ("amenity", "sauna")]) == []


def test_list_rooms_filters_by_location(
    api: Api, user: dict[str, str], catalog: dict[str, str]
) -> None:
    """location narrows the list to the rooms in that place."""
    assert list_names(api, user, {"location": "Paris"}) == ["Delta", "Gamma"]
    assert list_names(api, user, {"location": "Berlin", "capacity_min": 5}) == ["Beta"]


def test_list_rooms_is_paginated_in_the_envelope(
    api: Api, user: dict[str, str], catalog: dict[str, str]
) -> None:
    """{items, total, limit, offset}: pages are disjoint and together cover every room."""
    seen: list[str] = []
    for offset in (0, 2, 4):
        response = api.client.get(
            "/v1/rooms", query_string={"limit": 2, "offset": offset}, headers=user
        )
        assert response.status_code == 200
        page = response.json
        assert set(page) == {"items", "total", "limit", "offset"}
        assert (page["total"], page["limit"], page["offset"]) == (4, 2, offset)
        assert len(page["items"]) == (2 if offset < 4 else 0)
        seen += [r["id"] for r in page["items"]]
    assert sorted(seen) == sorted(catalog.values())

    default = api.client.get("/v1/rooms", headers=user).json
    assert (default["limit"], default["offset"], default["total"]) == (50, 0, 4)


@pytest.mark.parametrize(
    "query",
    [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "many"}],
    ids=["limit-0", "limit-201", "offset-negative", "limit-not-int"],
)
def test_list_bounds_are_422(api: Api, user: dict[str, str], query: dict[str, Any]) -> None:
    """limit is 1..200 and offset >= 0; anything else is 422 naming the parameter."""
    error = assert_error(api.client.get("/v1/rooms", query_string=query, headers=user), 422)

    assert set(query) <= set(error["details"]), error


def test_list_limit_200_is_allowed(api: Api, user: dict[str, str]) -> None:
    """The upper bound itself is fine."""
    response = api.client.get("/v1/rooms", query_string={"limit": 200}, headers=user)

    assert response.status_code == 200 and response.json["limit"] == 200


def test_get_one_room(api: Api, user: dict[str, str], admin: dict[str, str]) -> None:
    """GET /v1/rooms/{id} returns what was created, to any user."""
    created = api.create_room(admin, name="Zeta", capacity=6, amenities=["tv"]).json

    response = api.client.get(f"/v1/rooms/{created['id']}", headers=user)

    assert response.status_code == 200
    assert response.json == created


def test_admin_patches_a_room(
    api: Api, admin: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """PATCH changes only the given fields, in the answer and in the database."""
    before = api.client.get(f"/v1/rooms/{room}", headers=admin).json

    response = api.client.patch(
        f"/v1/rooms/{room}",
        json={"capacity": 3, "location": "Annex", "auto_release_minutes": 15},
        headers=admin,
    )

    assert response.status_code == 200, response.json
    after = response.json
    assert (after["capacity"], after["location"], after["auto_release_minutes"]) == (
        3,
        "Annex",
        15,
    )
    assert after["name"] == before["name"]
    assert after["timezone"] == before["timezone"]
    with sessions() as session:
        row = session.get(Room, uuid.UUID(room))
        assert row is not None
        assert (row.capacity, row.location, row.auto_release_minutes) == (3, "Annex", 15)


def test_patch_validates_and_keeps_names_unique(
    api: Api, admin: dict[str, str], make_room: Callable[..., str], sessions: sessionmaker[Session]
) -> None:
    """A bad field is 422 and renaming onto another room's name is 409; nothing changes."""
    a = make_room(name="First")
    make_room(name="Second")

    assert_error(api.client.patch(f"/v1/rooms/{a}", json={"capacity": 0}, headers=admin), 422)
    assert_error(
        api.client.patch(f"/v1/rooms/{a}", json={"name": "Second"}, headers=admin),
        409,
        "ROOM_NAME_TAKEN",
    )
    with sessions() as session:
        row = session.get(Room, uuid.UUID(a))
        assert row is not None and (row.name, row.capacity) == ("First", 8)


def test_a_user_cannot_patch_or_delete_a_room(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    """PATCH and DELETE are admin-only: 403 and the room is unchanged."""
    assert_error(api.client.patch(f"/v1/rooms/{room}", json={"capacity": 1}, headers=user), 403)
    assert_error(api.client.delete(f"/v1/rooms/{room}", headers=user), 403)
    with sessions() as session:
        row = session.get(Room, uuid.UUID(room))
        assert row is not None and row.capacity == 8 and row.active is True


def test_delete_deactivates_the_room(
    api: Api,
    admin: dict[str, str],
    user: dict[str, str],
    make_room: Callable[..., str],
    sessions: sessionmaker[Session],
) -> None:
    """DELETE is 204; the row stays, inactive; hidden from the default list, GET still works."""
    gone = make_room(name="Gone")
    kept = make_room(name="Kept")

    response = api.client.delete(f"/v1/rooms/{gone}", headers=admin)

    assert response.status_code == 204
    assert response.get_data() == b""
    with sessions() as session:
        row = session.get(Room, uuid.UUID(gone))
        assert row is not None and row.active is False
    listed = api.client.get("/v1/rooms", headers=user).json
    assert [r["id"] for r in listed["items"]] == [kept]
    assert listed["total"] == 1
    one = api.client.get(f"/v1/rooms/{gone}", headers=user)
    assert one.status_code == 200
    assert one.json["active"] is False
    assert one.json["name"] == "Gone"


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_an_unknown_room_is_404(api: Api, admin: dict[str, str], method: str) -> None:
    """Any room call on an id that does not exist is 404 in the error shape."""
    url = f"/v1/rooms/{uuid.uuid4()}"
    kwargs: dict[str, Any] = {"json": {"capacity": 2}} if method == "patch" else {}

    assert_error(getattr(api.client, method)(url, headers=admin, **kwargs), 404)


def test_patching_me_needs_something_to_change(api: Api, user: dict[str, str]) -> None:
    for body in ({}, None):
        answer = api.client.patch("/v1/users/me", json=body, headers=user)
        assert answer.status_code in {400, 415, 422}, answer.json
    changed = api.client.patch("/v1/users/me", json={"notify_email": False}, headers=user)
    assert changed.status_code == 200 and changed.json["notify_email"] is False
    for wrong in ("x", 0, 1, "true", None):
        answer = api.client.patch("/v1/users/me", json={"notify_email": wrong}, headers=user)
        assert_error(answer, 422)
