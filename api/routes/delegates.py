"""Delegates: whom the caller lets book on their behalf (organizer_id in booking bodies)."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from api.context import current_user, db, transaction
from api.schemas.common import PageQuery, page_of
from api.schemas.users import DelegateInSchema, DelegateSchema
from models.pages import page
from models.services.delegates import add_delegate, delegate_search, remove_delegate
from models.tables.users import Delegate

blp = Blueprint("delegates", __name__, url_prefix="/v1/users/me/delegates", description="Delegates")


def _shown(delegate: Delegate) -> dict[str, Any]:
    who = delegate.delegate
    return {
        "user_id": who.id,
        "name": who.name,
        "email": who.email,
        "created_at": delegate.created_at,
    }


@blp.route("", methods=["POST"])
@blp.arguments(DelegateInSchema)
@blp.response(201, DelegateSchema)
def add(body: dict[str, Any]) -> dict[str, Any]:
    """Let a user book on your behalf (again: no change)."""
    with transaction() as session:
        return _shown(add_delegate(session, current_user().id, body["user_id"]))


@blp.route("", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, page_of(DelegateSchema))
def list_delegates(query: dict[str, Any]) -> dict[str, Any]:
    """Whom you let book on your behalf, oldest first."""
    found = page(
        db(), delegate_search(current_user().id), limit=query["limit"], offset=query["offset"]
    )
    items = [_shown(delegate) for delegate in found.items]
    return {"items": items, "total": found.total, "limit": found.limit, "offset": found.offset}


@blp.route("/<uuid:user_id>", methods=["DELETE"])
@blp.response(204)
def remove(user_id: uuid.UUID) -> None:
    """Stop letting this user book on your behalf (their bookings for you stay)."""
    with transaction() as session:
        remove_delegate(session, current_user().id, user_id)
