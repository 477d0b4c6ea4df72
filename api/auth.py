"""Bearer-token authentication for every endpoint that is not public, and role checks.

A bearer token is either a signed login token (POST /v1/auth/token) or an API token
(`bk_…`, POST /v1/users/me/api-tokens), found by its hash.

The calendar feeds (marked `feed_token_allowed`) also take the caller's feed token as
`?token=`, so that a calendar application, which sends no Authorization header, can
subscribe to them. A room's door display (marked `display_token_only`) takes its room's
display token as `?token=` and nothing else: it acts for no user. The check-in page a
display's QR code opens is public: it signs its organizer in by itself.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from api.context import db, release_db, services
from api.errors import RateLimited
from api.login_throttle import Refused
from models.domain.feed_tokens import API_PREFIX, feed_token_digest
from models.domain.identity import Principal
from models.domain.states import utcnow
from models.errors import Forbidden, Unauthorized
from models.services import api_tokens, displays
from models.tables.users import RevokedToken, User

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = {
    "static",
    "docs_assets",
    "auth.register",
    "auth.token",
    "checkin.get_check_in_page",
    "checkin.check_in_with_password",
}
PUBLIC_PREFIXES = ("/healthz", "/readyz", "/openapi.json", "/docs", "/metrics")
FEED_TOKEN = "token"  # noqa: S105 (the query parameter of a calendar feed's URL)

F = TypeVar("F", bound=Callable[..., Any])


def authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.path.startswith(PUBLIC_PREFIXES):
        return
    if request.endpoint is None:
        return  # an unknown route: let it 404
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "display_token_only", False):
        g.display_room = _displayed_room(request.args.get(FEED_TOKEN, ""))
        return
    if FEED_TOKEN in request.args and getattr(view, "feed_token_allowed", False):
        g.user = _feed_reader(request.args[FEED_TOKEN])
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    token = token.strip()
    svc = services()
    if token.startswith(API_PREFIX):
        g.user = _api_token_user(token)
        _check_role(view, g.user)
        return
    claims = svc.principals.claims_of(token, svc.settings.secret_key)
    events = svc.auth_events
    events.watch(svc.principals)  # the first request of a process starts its listener
    if events.connected:
        revoked = events.is_revoked(claims.token_id)
        principal = svc.principals.get(claims.user_id, lambda: _load(claims.user_id))
        if principal is not None and claims.version > principal.token_version:
            # A token newer than what this process remembers (the password was changed
            # through another process a moment ago): look again before refusing it.
            svc.principals.forget(claims.user_id)
            principal = svc.principals.get(claims.user_id, lambda: _load(claims.user_id))
    else:
        # Nobody is listening for changes (the process just started, or the listener's
        # connection is being made again): ask the database, never the cache.
        revoked = _logged_out(claims.token_id)
        principal = _load(claims.user_id)
    if revoked:
        raise Unauthorized("this token was logged out")
    if principal is None:
        raise Unauthorized("the token's user no longer exists")
    if principal.token_version != claims.version:
        raise Unauthorized("the password was changed after this token was issued; log in again")
    g.user = principal
    g.token = claims
    _check_role(view, principal)


def _check_role(view: Any, principal: Principal) -> None:
    if getattr(view, "admin_only", False) and not principal.is_admin:
        # Before anything reads the body: a non-admin learns nothing of its validity.
        raise Forbidden("this action needs the ADMIN role")


def _api_token_user(token: str) -> Principal:
    """The user an API token acts for, with the user's role now.

    A token this process has found in the last few seconds costs no query (a deletion
    is heard at once, as a logout is); another is looked up. A lookup that finds nothing
    counts as a failed login from the caller's address (api/rate_limit.py): once the
    window is full, the address's unknown tokens answer 429 until it passes. A known
    token is never counted, so neither a flood of a service's own requests nor a
    database outage (a lookup that fails counts nothing) can lock it out. The token's
    last_used_at is written at most once a minute, and never fails the request."""
    svc = services()
    events = svc.auth_events
    events.watch(svc.principals)

    def lookup() -> api_tokens.KnownToken | None:
        row = api_tokens.find(db(), token)
        release_db()
        return row

    row = svc.principals.api_token(token, lookup) if events.connected else lookup()
    if row is None:
        _count_unknown_token()
        raise Unauthorized("unknown or revoked API token")
    if row.expires_at <= utcnow():
        raise Unauthorized("this API token has expired; make a new one")
    if events.connected:
        principal = svc.principals.get(row.user_id, lambda: _load(row.user_id))
    else:
        principal = _load(row.user_id)
    if principal is None:
        raise Unauthorized("the token's user no longer exists")
    if svc.principals.due_for_touch(row.id):
        try:
            with svc.sessions.begin() as session:
                api_tokens.touch(session, row.id)
        except SQLAlchemyError:  # a read-only or failing database: the request goes on
            log.warning("could not record an API token's use", exc_info=True)
    g.api_token_id = row.id
    return principal


def _count_unknown_token() -> None:
    """A failed login from this address (429 once its window is full)."""
    guesses = current_app.extensions.get("bookings_token_guesses")
    taken = guesses.take() if guesses else None
    if isinstance(taken, Refused):
        g.retry_after = taken.retry_after
        raise RateLimited(
            "too many unknown API tokens from this address; wait",
            details={"limit": taken.limit},
        )


def _feed_reader(token: str) -> Principal:
    """The user whose feed token this is, found by its hash. Asked of the database every
    time, never cached: a replaced token (or a deleted user's) fails at once in every
    process, and a calendar application fetches a feed every few minutes, not every
    second."""
    row = (
        db()
        .execute(
            select(User.id, User.role, User.token_version).where(
                User.feed_token_hash == feed_token_digest(token)
            )
        )
        .first()
    )
    release_db()
    if row is None:
        raise Unauthorized("unknown or replaced calendar feed token")
    return Principal(row.id, row.role, row.token_version)


def _displayed_room(token: str) -> uuid.UUID:
    """The room of the path, when the token is its display token (looked up by its hash,
    every time: a replaced token fails at once in every process)."""
    room = displays.displayed_room(db(), token) if token else None
    release_db()
    if room is None or room != (request.view_args or {}).get("room_id"):
        raise Unauthorized("unknown or replaced display token for this room")
    return room


def _logged_out(token_id: uuid.UUID) -> bool:
    found = db().execute(select(RevokedToken.jti).where(RevokedToken.jti == token_id)).first()
    release_db()
    return found is not None


def _load(user_id: uuid.UUID) -> Principal | None:
    row = (
        db()
        .execute(select(User.id, User.role, User.token_version).where(User.id == user_id))
        .first()
    )
    release_db()  # hand the connection back now: a write opens its own transaction
    return Principal(row.id, row.role, row.token_version) if row else None


def admin_only(view: F) -> F:
    """Allow the view to admins only (403 for everyone else). authenticate() checks the
    mark before the body is read; the wrapper checks again, should a route skip it."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not g.user.is_admin:
            raise Forbidden("this action needs the ADMIN role")
        return view(*args, **kwargs)

    # The OpenAPI document says so too (the authorization matrix test reads it).
    documented = Blueprint.doc(**{"x-roles": ["ADMIN"]})(wrapper)
    documented.admin_only = True
    return documented


def feed_token_allowed(view: F) -> F:
    """Let the view's caller authenticate with `?token=<feed token>` instead of a bearer
    token (authenticate() reads the mark). The OpenAPI document says so too: either
    scheme will do."""
    documented = Blueprint.doc(security=[{"bearerAuth": []}, {"feedToken": []}])(view)
    documented.feed_token_allowed = True
    return documented


def display_token_only(view: F) -> F:
    """Open the view to its room's display token (`?token=`) alone: a bearer token opens
    nothing here, and the page acts for no user (authenticate() reads the mark)."""
    documented = Blueprint.doc(security=[{"displayToken": []}])(view)
    documented.display_token_only = True
    return documented


def init_auth(app: Flask) -> None:
    app.before_request(authenticate)
