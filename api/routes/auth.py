"""Registration, tokens, logout, and the caller's own profile and password."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest import Blueprint

from api.context import current_user, db, services, transaction
from api.routes.api_tokens import revoke_api_token
from api.schemas.profile import ProfilePatchSchema
from api.schemas.users import (
    PasswordChangeSchema,
    ProfileSchema,
    RegisterSchema,
    TokenRequestSchema,
    TokenSchema,
    UserSchema,
)
from models.domain.tokens import issue_token
from models.errors import Unauthorized
from models.services import accounts
from models.tables.users import User

blp = Blueprint("auth", __name__, url_prefix="/v1", description="Users and tokens")


@blp.route("/auth/register", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
def register(body: dict[str, Any]) -> User:
    """Register a user (the role is USER)."""
    cost = services().settings.password_cost
    with transaction() as session:
        return accounts.register(session, **body, cost=cost)


@blp.route("/auth/token", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
def token(body: dict[str, Any]) -> dict[str, Any]:
    """Log in: a bearer token for an email and password."""
    settings = services().settings
    user = accounts.authenticate(db(), **body, cost=settings.password_cost)
    ttl = settings.token_ttl_seconds
    return {
        "access_token": issue_token(
            user.id, version=user.token_version, secret=settings.secret_key, ttl_seconds=ttl
        ),
        "token_type": "Bearer",
        "expires_in": ttl,
    }


@blp.route("/users/me", methods=["GET"])
@blp.response(200, UserSchema)
def me() -> User:
    """The caller's own profile."""
    user = db().get(User, current_user().id)
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    return user


@blp.route("/users/me", methods=["PATCH"])
@blp.arguments(ProfilePatchSchema)
@blp.response(200, ProfileSchema)
def update_me(body: dict[str, Any]) -> User:
    """Change the caller's own settings: `notify_email` false stops mail to them. The
    answer is the user with their settings."""
    with transaction() as session:
        return accounts.update_profile(
            session, current_user().id, notify_email=body.get("notify_email")
        )


@blp.route("/users/me/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
def change_password(body: dict[str, Any]) -> None:
    """Every token issued before the change stops working (401), this one included."""
    svc = services()
    user_id = current_user().id
    heard = svc.auth_events.handled
    with transaction() as session:
        accounts.change_password(session, user_id, **body, cost=svc.settings.password_cost)
    svc.principals.forget(user_id)  # this process at once; the others hear the trigger
    svc.auth_events.wait_heard(f"user:{user_id}", after=heard)


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
def logout() -> None:
    """This token stops working (401); the user's other tokens go on. With an API token,
    that token is revoked (as DELETE /v1/users/me/api-tokens/{id} does)."""
    if "api_token_id" in g:
        revoke_api_token(g.api_token_id)
        return
    claims = g.token
    events = services().auth_events
    heard = events.handled
    with transaction() as session:
        accounts.logout(session, claims)
    events.revoke(claims.token_id, claims.expires)
    events.wait_heard(f"token:{claims.token_id}", after=heard)
