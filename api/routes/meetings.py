"""Meetings: check in to one's booking, look a meeting up by its join code."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from api.context import current_user, db, transaction
from api.schemas.bookings import MeetingSchema, MeetingViewSchema
from models.domain.states import utcnow
from models.services.meetings import check_in, meeting_by_code
from models.tables.bookings import Meeting

blp = Blueprint("meetings", __name__, url_prefix="/v1", description="Meetings")


@blp.route("/bookings/<uuid:booking_id>/check-in", methods=["POST"])
@blp.response(200, MeetingSchema)
def check_in_booking(booking_id: uuid.UUID) -> Meeting:
    """Check in to a booking's meeting (its organizer)."""
    with transaction() as session:
        return check_in(session, booking_id=booking_id, user=current_user(), now=utcnow())


@blp.route("/meetings/<string:join_code>", methods=["GET"])
@blp.response(200, MeetingViewSchema)
def get_meeting(join_code: str) -> dict[str, Any]:
    """A meeting by its join code: where and when. Its video link only to its organizer
    and admins: a join code is on the room's door display, for anyone passing by."""
    meeting = meeting_by_code(db(), join_code)
    booking = meeting.booking
    caller = current_user()
    private = not caller.is_admin and booking.organizer_id != caller.id
    return {
        **{name: getattr(meeting, name) for name in MeetingSchema().fields},
        **({"external_meeting_url": None} if private else {}),
        "room": booking.room,
        "start_time": booking.start_time,
        "end_time": booking.end_time,
    }
