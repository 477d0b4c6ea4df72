"""Door displays: an admin makes a room's display token; the screen beside the door opens
the room's display page with it (no bearer token, no user)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, g
from flask_smorest import Blueprint

from api.auth import admin_only, display_token_only
from api.context import db, transaction
from api.links import external_url
from api.pages import render_page
from api.pages.qr import qr_svg
from api.schemas.displays import DisplayTokenSchema
from models.domain.states import utcnow
from models.services import displays

blp = Blueprint("displays", __name__, description="Door displays and check-in")

REFRESH_SECONDS = 30  # the page reloads itself: a door screen runs no script


@blp.route("/v1/rooms/<uuid:room_id>/display-token", methods=["POST"])
@admin_only
@blp.response(201, DisplayTokenSchema)
def create_display_token(room_id: uuid.UUID) -> dict[str, Any]:
    """A display token for the room's door screen (admins); the one before stops working."""
    with transaction() as session:
        token = displays.replace_display_token(session, room_id)
    # Absolute, on PUBLIC_URL: it is typed into (or scanned by) the screen's browser.
    return {
        "token": token,
        "display_url": external_url("displays.get_room_display", room_id=room_id, token=token),
    }


@blp.route("/rooms/<uuid:room_id>/display", methods=["GET"])
@display_token_only
@blp.response(
    200,
    {"type": "string"},
    description="An HTML page for a screen beside the room's door: free or busy now, "
    "today's bookings as times (no titles, no names), a QR code of the check-in link",
    content_type="text/html",
)
def get_room_display(room_id: uuid.UUID) -> Response:
    """The room's door display (opens with its display token, `?token=`).

    It reloads itself every 30 seconds. The QR code opens the check-in page of the
    current meeting, or else of the next one today."""
    assert g.display_room == room_id  # authenticate() let only this room's token in
    board = displays.door_board(db(), room_id, utcnow())
    meeting = board.check_in
    qr = None
    if meeting is not None and meeting.join_code is not None:
        qr = qr_svg(external_url("checkin.get_check_in_page", join_code=meeting.join_code))
    page = render_page("display.html", board=board, check_in_qr=qr, refresh_seconds=REFRESH_SECONDS)
    return Response(page, mimetype="text/html")
