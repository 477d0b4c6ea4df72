"""API tokens (`bk_…`): made, listed, used, revoked; what survives a password change and
what a role change does; last_used_at kept cheaply; wrong tokens throttled as logins."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import utcnow
from tests.helpers import Api, assert_error
from tests.integration.test_rate_limits import address, assert_throttled, limited_client


def make_token(api: Api, headers: dict[str, str], **body: object) -> dict[str, object]:
    made = api.client.post("/v1/users/me/api-tokens", json={"name": "ci", **body}, headers=headers)
    assert made.status_code == 201, made.json
    return made.json  # type: ignore[no-any-return]


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_shown_once_stored_hashed_and_acts_as_its_user(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    made = make_token(api, user, name="Reporting job", expires_in_days=30)
    assert set(made) == {"id", "name", "token", "created_at", "expires_at", "last_used_at"}
    token = str(made["token"])
    assert token.startswith("bk_") and len(token) == 46
    assert made["name"] == "Reporting job" and made["last_used_at"] is None

    me = api.client.get("/v1/users/me", headers=bearer(token))
    assert me.status_code == 200 and me.json["id"] == api.me(user)

    listed = api.page(user, "/v1/users/me/api-tokens")
    assert listed["total"] == 1
    assert "token" not in listed["items"][0] and listed["items"][0]["id"] == made["id"]
    with sessions() as session:
        stored = session.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


def test_expiry_defaults_to_90_days_and_is_bounded(api: Api, user: dict[str, str]) -> None:
    from datetime import datetime

    made = make_token(api, user)
    created = datetime.fromisoformat(str(made["created_at"]))
    expires = datetime.fromisoformat(str(made["expires_at"]))
    assert expires - created == timedelta(days=90)
    for wrong in (0, 366, "x", None):
        answer = api.client.post(
            "/v1/users/me/api-tokens", json={"name": "x", "expires_in_days": wrong}, headers=user
        )
        assert_error(answer, 422)
        assert "expires_in_days" in answer.json["error"]["details"]
    assert_error(api.client.post("/v1/users/me/api-tokens", json={}, headers=user), 422)
    assert api.page(user, "/v1/users/me/api-tokens")["total"] == 1  # nothing half-made


def test_an_expired_token_is_refused(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    made = make_token(api, user)
    with sessions.begin() as session:
        session.execute(
            text("UPDATE api_tokens SET expires_at = :t WHERE id = :id"),
            {"t": utcnow() - timedelta(seconds=1), "id": made["id"]},
        )
    answer = api.client.get("/v1/users/me", headers=bearer(made["token"]))
    assert_error(answer, 401)
    assert "expired" in answer.json["error"]["message"]


def test_revoking_stops_it_at_once_and_only_for_its_owner(api: Api, user: dict[str, str]) -> None:
    another_user = api.register_and_login("bob@example.com", "Bob")
    made, kept = make_token(api, user), make_token(api, user, name="kept")
    assert api.client.get("/v1/users/me", headers=bearer(made["token"])).status_code == 200

    theirs = api.client.delete(f"/v1/users/me/api-tokens/{made['id']}", headers=another_user)
    assert_error(theirs, 404)
    gone = api.client.delete(f"/v1/users/me/api-tokens/{made['id']}", headers=user)
    assert gone.status_code == 204

    assert_error(api.client.get("/v1/users/me", headers=bearer(made["token"])), 401)
    assert_error(api.client.delete(f"/v1/users/me/api-tokens/{made['id']}", headers=user), 404)
    assert api.client.get("/v1/users/me", headers=bearer(kept["token"])).status_code == 200


def test_another_process_hears_a_revocation(
    api: Api, user: dict[str, str], app: Flask, sessions: sessionmaker[Session]
) -> None:
    """Deleted where this process did not make it (psql, another API process): the cached
    token stops working once the notification is heard."""
    made = make_token(api, user)
    assert api.client.get("/v1/users/me", headers=bearer(made["token"])).status_code == 200
    events = app.extensions["bookings"].auth_events
    heard = events.handled
    with sessions.begin() as session:
        session.execute(text("DELETE FROM api_tokens WHERE id = :id"), {"id": made["id"]})
    assert events.wait_heard(f"apitoken:{made['id']}", after=heard, timeout=10)
    assert_error(api.client.get("/v1/users/me", headers=bearer(made["token"])), 401)


def test_logout_with_an_api_token_revokes_it(api: Api, user: dict[str, str]) -> None:
    made = make_token(api, user)
    assert api.client.post("/v1/auth/logout", headers=bearer(made["token"])).status_code == 204
    assert_error(api.client.get("/v1/users/me", headers=bearer(made["token"])), 401)
    assert api.page(user, "/v1/users/me/api-tokens")["total"] == 0
    assert api.client.get("/v1/users/me", headers=user).status_code == 200


def test_tokens_survive_a_password_change(api: Api, user: dict[str, str]) -> None:
    made = make_token(api, user)
    changed = api.client.post(
        "/v1/users/me/password",
        json={"current_password": "password-123", "new_password": "password-456"},
        headers=user,
    )
    assert changed.status_code == 204
    assert_error(api.client.get("/v1/users/me", headers=user), 401)
    assert api.client.get("/v1/users/me", headers=bearer(made["token"])).status_code == 200


def test_a_role_change_applies_to_its_tokens_at_once(
    api: Api, user: dict[str, str], app: Flask, sessions: sessionmaker[Session]
) -> None:
    token = bearer(make_token(api, user)["token"])
    audit = "/v1/audit"
    assert_error(api.client.get(audit, headers=token), 403)
    events = app.extensions["bookings"].auth_events
    user_id = api.me(user)
    for role, status in (("ADMIN", 200), ("USER", 403)):
        heard = events.handled
        with sessions.begin() as session:
            session.execute(
                text("UPDATE users SET role = :r WHERE id = :id"), {"r": role, "id": user_id}
            )
        assert events.wait_heard(f"user:{user_id}", after=heard, timeout=10)
        assert api.client.get(audit, headers=token).status_code == status


def test_a_deleted_users_tokens_stop(
    api: Api, user: dict[str, str], app: Flask, sessions: sessionmaker[Session]
) -> None:
    token = bearer(make_token(api, user)["token"])
    assert api.client.get("/v1/users/me", headers=token).status_code == 200
    events = app.extensions["bookings"].auth_events
    heard = events.handled
    with sessions.begin() as session:
        session.execute(text("DELETE FROM users WHERE id = :id"), {"id": api.me(user)})
    assert events.wait_heard("user:", after=heard, timeout=10)
    assert_error(api.client.get("/v1/users/me", headers=token), 401)


def test_last_used_at_is_written_once_a_minute_not_per_request(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    made = make_token(api, user)
    for _ in range(5):
        assert api.client.get("/v1/users/me", headers=bearer(made["token"])).status_code == 200
    first = api.page(user, "/v1/users/me/api-tokens")["items"][0]["last_used_at"]
    assert first is not None

    # Its row says it was used two minutes ago: this process, which wrote it a moment
    # ago, writes nothing more before its minute has passed.
    with sessions.begin() as session:
        session.execute(
            text("UPDATE api_tokens SET last_used_at = :t WHERE id = :id"),
            {"t": utcnow() - timedelta(minutes=2), "id": made["id"]},
        )
    assert api.client.get("/v1/users/me", headers=bearer(made["token"])).status_code == 200
    later = api.page(user, "/v1/users/me/api-tokens")["items"][0]["last_used_at"]
    assert later < first  # not written again within the minute


def test_wrong_api_tokens_count_as_failed_logins_per_address(api: Api) -> None:
    client = limited_client()
    email = "tokens-throttled@example.com"
    headers = api.register_and_login(email, "Throttled")
    token = make_token(api, headers)["token"]
    addr = address()

    def me(tok: object, where: str) -> int:
        answer = client.get(
            "/v1/users/me", headers=bearer(tok), environ_base={"REMOTE_ADDR": where}
        )
        return answer.status_code

    # The right token, over and over, is never counted.
    assert [me(token, addr) for _ in range(12)] == [200] * 12
    wrong = "bk_" + "A" * 43
    assert [me(wrong, addr) for _ in range(10)] == [401] * 10
    refused = client.get(
        "/v1/users/me", headers=bearer("bk_" + "B" * 43), environ_base={"REMOTE_ADDR": addr}
    )
    assert_throttled(refused, 15 * 60)
    assert me(wrong, address()) == 401  # another address is not refused


def test_a_user_may_hold_a_bounded_number_of_live_tokens(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    from models.services.api_tokens import MAX_PER_USER

    for _ in range(MAX_PER_USER):
        make_token(api, user)
    assert_error(
        api.client.post("/v1/users/me/api-tokens", json={"name": "one more"}, headers=user), 422
    )
    with sessions.begin() as session:  # an expired one does not count
        session.execute(
            text(
                "UPDATE api_tokens SET expires_at = now() - interval '1 second' "
                "WHERE id = (SELECT id FROM api_tokens LIMIT 1)"
            )
        )
    make_token(api, user)


def test_an_api_token_cannot_make_another(api: Api, user: dict[str, str]) -> None:
    token = bearer(make_token(api, user)["token"])
    refused = api.client.post("/v1/users/me/api-tokens", json={"name": "child"}, headers=token)
    assert_error(refused, 403)
    assert api.page(user, "/v1/users/me/api-tokens")["total"] == 1
