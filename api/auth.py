"""Bearer-token authentication for every endpoint that is not public, and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g, request

from api.context import db, services
from models.domain.tokens import read_token
from models.errors import Forbidden, Unauthorized
from models.tables.users import User

PUBLIC_ENDPOINTS = {"static", "docs_assets"}
PUBLIC_PREFIXES = ("/v1/auth/", "/healthz", "/readyz", "/openapi.json", "/docs", "/metrics")

F = TypeVar("F", bound=Callable[..., Any])


def authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.path.startswith(PUBLIC_PREFIXES):
        return
    if request.endpoint is None:
        return  # an unknown route: let it 404
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    user_id = read_token(token.strip(), secret=services().settings.secret_key)
    user = db().get(User, user_id)
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    g.user = user


def admin_only(view: F) -> F:
    """Allow the view to admins only (403 for everyone else)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not g.user.is_admin:
            raise Forbidden("this action needs the ADMIN role")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def init_auth(app: Flask) -> None:
    app.before_request(authenticate)
