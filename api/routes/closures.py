"""Room closures: an admin closes a room for a window (through the room's queue)."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from api.auth import admin_only
from api.context import current_user, db, transaction
from api.schemas.bookings import TaskAcceptedSchema
from api.schemas.closures import ClosureInSchema, ClosureQuery, ClosureSchema
from api.schemas.common import page_of
from api.submit import accepted
from models.pages import Page, page
from models.services import room_catalog
from models.services.accept import CloseRoom
from models.services.closures import closure_search, reopen
from models.tables.bookings import RoomClosure

blp = Blueprint("closures", __name__, url_prefix="/v1/rooms", description="Room closures")


@blp.route("/<uuid:room_id>/closures", methods=["POST"])
@admin_only
@blp.arguments(ClosureInSchema)
@blp.response(202, TaskAcceptedSchema())
def close_room(body: dict[str, Any], room_id: uuid.UUID) -> Any:
    """Close the room for a window (admins): 202 with a task. Its PENDING and CONFIRMED
    bookings there are cancelled (ROOM_CLOSED); later requests there are refused."""
    return accepted(CloseRoom(room_id, body["start_time"], body["end_time"], body.get("reason")))


@blp.route("/<uuid:room_id>/closures", methods=["GET"])
@blp.arguments(ClosureQuery, location="query")
@blp.response(200, page_of(ClosureSchema))
def list_closures(query: dict[str, Any], room_id: uuid.UUID) -> Page[RoomClosure]:
    """The room's closures overlapping the window (default: every one), by start."""
    session = db()
    room_catalog.get_room(session, room_id)
    stmt = closure_search(room_id, start=query.get("from_"), end=query.get("to"))
    return page(session, stmt, limit=query["limit"], offset=query["offset"])


@blp.route("/<uuid:room_id>/closures/<uuid:closure_id>", methods=["DELETE"])
@admin_only
@blp.response(204)
def delete_closure(room_id: uuid.UUID, closure_id: uuid.UUID) -> None:
    """Reopen (admins): the closure is deleted; the bookings it cancelled stay cancelled."""
    with transaction() as session:
        reopen(session, room_id, closure_id, actor_id=current_user().id)
