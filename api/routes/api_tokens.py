"""API tokens: the caller's long-lived bearer tokens for services and scripts."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g
from flask_smorest import Blueprint

from api.context import current_user, db, services, transaction
from api.schemas.common import PageQuery, page_of
from api.schemas.users import ApiTokenCreatedSchema, ApiTokenInSchema, ApiTokenSchema
from models.errors import Forbidden
from models.pages import page
from models.services import api_tokens

blp = Blueprint(
    "api_tokens", __name__, url_prefix="/v1/users/me/api-tokens", description="API tokens"
)


@blp.route("", methods=["POST"])
@blp.arguments(ApiTokenInSchema)
@blp.response(201, ApiTokenCreatedSchema)
def create(body: dict[str, Any]) -> dict[str, Any]:
    """Make an API token (`bk_…`): shown only in this answer, stored only as its hash.
    Only with a login token: an API token cannot make another (which would outlive it
    and survive the password change that answers a leak)."""
    if "api_token_id" in g:
        raise Forbidden("make API tokens signed in with your password, not with an API token")
    with transaction() as session:
        row, token = api_tokens.create(session, current_user().id, **body)
    return {
        "id": row.id,
        "name": row.name,
        "token": token,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "last_used_at": row.last_used_at,
    }


@blp.route("", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, page_of(ApiTokenSchema))
def list_tokens(query: dict[str, Any]) -> dict[str, Any]:
    """Your API tokens, newest first (never the tokens themselves)."""
    found = page(
        db(), api_tokens.tokens_of(current_user().id), limit=query["limit"], offset=query["offset"]
    )
    return {
        "items": found.items,
        "total": found.total,
        "limit": found.limit,
        "offset": found.offset,
    }


@blp.route("/<uuid:api_token_id>", methods=["DELETE"])
@blp.response(204)
def revoke(api_token_id: uuid.UUID) -> None:
    """Revoke an API token: it stops working at once, in every API process."""
    revoke_api_token(api_token_id)


def revoke_api_token(token_id: uuid.UUID) -> None:
    """Delete it, then wait until this process has heard its deletion announced (as a
    logout does): every process has, so the next request with it fails wherever it lands."""
    events = services().auth_events
    heard = events.handled
    with transaction() as session:
        api_tokens.revoke(session, current_user().id, token_id)
    services().principals.forget_api_token(token_id)
    events.wait_heard(f"apitoken:{token_id}", after=heard)
