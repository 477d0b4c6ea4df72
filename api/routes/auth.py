"""Registration, tokens and the caller's own profile."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from api.context import current_user, db, services, transaction
from api.schemas.users import RegisterSchema, TokenRequestSchema, TokenSchema, UserSchema
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
    cost = services().settings.password_cost
    with transaction() as session:
        return accounts.register(session, **body, cost=cost)


@blp.route("/auth/token", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
def token(body: dict[str, Any]) -> dict[str, Any]:
    settings = services().settings
    user = accounts.authenticate(db(), **body, cost=settings.password_cost)
    ttl = settings.token_ttl_seconds
    return {
        "access_token": issue_token(user.id, secret=settings.secret_key, ttl_seconds=ttl),
        "token_type": "Bearer",
        "expires_in": ttl,
    }


@blp.route("/users/me", methods=["GET"])
@blp.response(200, UserSchema)
def me() -> User:
    user = db().get(User, current_user().id)
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    return user
