"""Tokens stop working when they should: logout, password change, demotion, deletion;
and what the listener hears survives its connection being cut."""

from __future__ import annotations

import os
import uuid

from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from api.auth_events import AuthListener
from tests.helpers import Api, assert_error

NEW = "a-new-password-456"


def listener(app: Flask) -> AuthListener:
    """The app's listener, once it listens (it connects in a thread of its own)."""
    events: AuthListener = app.extensions["bookings"].auth_events
    app.test_client().get("/v1/users/me")  # any authenticated call starts it
    assert events.wait_connects(1, timeout=10), "the auth listener did not connect"
    return events


def test_logout_ends_this_token_and_no_other(api: Api, user: dict[str, str]) -> None:
    me = api.client.get("/v1/users/me", headers=user).json
    second = api.login(me["email"], "password-123")

    assert api.client.post("/v1/auth/logout", headers=user).status_code == 204

    assert_error(api.client.get("/v1/users/me", headers=user), 401)
    assert_error(api.client.post("/v1/bookings", json={}, headers=user), 401)
    assert_error(api.client.post("/v1/auth/logout", headers=user), 401)
    assert api.client.get("/v1/users/me", headers=second).status_code == 200


def test_logout_needs_a_token(api: Api) -> None:
    assert_error(api.client.post("/v1/auth/logout"), 401)


def test_a_process_that_starts_after_a_logout_reads_it_from_the_database(
    api: Api, user: dict[str, str], database: str
) -> None:
    from api.principals import PrincipalCache
    from models.domain.tokens import read_token

    assert api.client.post("/v1/auth/logout", headers=user).status_code == 204
    token_id = read_token(user["Authorization"].split()[1], secret=os.environ["SECRET_KEY"])

    fresh = AuthListener(database)  # what a new API process makes
    fresh.watch(PrincipalCache())
    assert fresh.wait_connects(1, timeout=10)
    assert fresh.is_revoked(token_id.token_id)
    assert not fresh.is_revoked(uuid.uuid4())


def test_a_password_change_ends_every_earlier_token(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    email = api.client.get("/v1/users/me", headers=user).json["email"]
    second = api.login(email, "password-123")
    body = {"current_password": "password-123", "new_password": NEW}

    response = api.client.post("/v1/users/me/password", json=body, headers=user)

    assert response.status_code == 204
    for token in (user, second):
        assert_error(api.client.get("/v1/users/me", headers=token), 401)
    assert_error(
        api.client.post("/v1/auth/token", json={"email": email, "password": "password-123"}), 401
    )
    fresh = api.login(email, NEW)
    assert api.client.get("/v1/users/me", headers=fresh).status_code == 200


def test_a_refused_password_change_changes_nothing(api: Api, user: dict[str, str]) -> None:
    email = api.client.get("/v1/users/me", headers=user).json["email"]
    wrong = {"current_password": "not-it-at-all", "new_password": NEW}
    short = {"current_password": "password-123", "new_password": "short"}

    refused = api.client.post("/v1/users/me/password", json=wrong, headers=user)
    assert_error(refused, 422)
    assert "current_password" in refused.json["error"]["details"]
    too_short = api.client.post("/v1/users/me/password", json=short, headers=user)
    assert "new_password" in assert_error(too_short, 422)["details"]
    assert_error(api.client.post("/v1/users/me/password", json={}, headers=user), 422)
    assert_error(api.client.post("/v1/users/me/password", json=wrong), 401)

    assert api.client.get("/v1/users/me", headers=user).status_code == 200
    api.login(email, "password-123")


def test_a_demoted_admin_is_refused_on_the_next_request(
    api: Api, admin: dict[str, str], app: Flask, sessions: sessionmaker[Session]
) -> None:
    """Demoted by hand in psql: the trigger tells every API process."""
    assert api.create_room(admin, name="Before", capacity=2).status_code == 201
    heard = listener(app).handled

    with sessions.begin() as session:
        session.execute(text("UPDATE users SET role = 'USER' WHERE email = 'admin@example.com'"))
    admin_id = api.client.get("/v1/users/me", headers=admin).json["id"]
    assert listener(app).wait_heard(f"user:{admin_id}", after=heard, timeout=10)

    assert_error(api.create_room(admin, name="After", capacity=2), 403)
    assert_error(api.client.get("/v1/audit", headers=admin), 403)


def test_a_deleted_user_is_refused(api: Api, app: Flask, sessions: sessionmaker[Session]) -> None:
    doomed = api.register_and_login(f"{uuid.uuid4().hex[:8]}@example.com", "Doomed")
    user_id = api.client.get("/v1/users/me", headers=doomed).json["id"]
    heard = listener(app).handled

    with sessions.begin() as session:
        session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
    assert listener(app).wait_heard(f"user:{user_id}", after=heard, timeout=10)

    assert_error(api.client.get("/v1/users/me", headers=doomed), 401)


def test_changes_made_while_the_listener_was_cut_off_hold_once_it_is_back(
    api: Api, admin: dict[str, str], app: Flask, sessions: sessionmaker[Session]
) -> None:
    events = listener(app)
    assert api.create_room(admin, name="Cached", capacity=2).status_code == 201
    connects = events.connects

    with sessions.begin() as session:
        # Cut the listener off and demote while it cannot hear. The lock holds its
        # reconnection (which reads revoked_tokens) until the demotion is committed.
        session.execute(text("LOCK TABLE revoked_tokens IN ACCESS EXCLUSIVE MODE"))
        session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'bookings-auth-listener' AND pid <> pg_backend_pid()"
                " AND datname = current_database()"  # not a parallel run's listener
            )
        )
        session.execute(text("UPDATE users SET role = 'USER' WHERE email = 'admin@example.com'"))
    assert events.wait_connects(connects + 1, timeout=20)

    assert_error(api.create_room(admin, name="After", capacity=2), 403)


class NeverListening(AuthListener):
    """A listener that has not connected yet (a process's first moments)."""

    def watch(self, cache: object) -> None:  # type: ignore[override]
        self.connected = False


def test_before_the_listener_connects_the_database_is_asked(
    api: Api, user: dict[str, str], database: str, sessions: sessionmaker[Session]
) -> None:
    """A logout made in another process is not missed while this one cannot hear it."""
    from api import create_app
    from models.domain.tokens import read_token
    from models.settings import load_settings

    app = create_app(load_settings())
    app.extensions["bookings"].auth_events = NeverListening(database)
    deaf = app.test_client()
    assert deaf.get("/v1/users/me", headers=user).status_code == 200
    claims = read_token(user["Authorization"].split()[1], secret=os.environ["SECRET_KEY"])

    with sessions.begin() as session:  # the other process's logout, as it writes it
        session.execute(
            text(
                "INSERT INTO revoked_tokens (jti, user_id, expires_at) "
                "VALUES (:jti, :user, now() + interval '1 hour')"
            ),
            {"jti": claims.token_id, "user": claims.user_id},
        )

    assert_error(deaf.get("/v1/users/me", headers=user), 401)
