"""Calendar feeds: a room's bookings and the caller's own as iCalendar, and the feed token
with which a calendar application subscribes to them (no Authorization header)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint

from api.auth import feed_token_allowed
from api.context import current_user, db, transaction
from api.links import external_url
from api.schemas.feeds import CalendarQuery, FeedTokenSchema
from models.domain.ical import REFRESH
from models.services import calendar_feeds

blp = Blueprint("feeds", __name__, url_prefix="/v1", description="Calendar feeds (iCalendar)")

CACHE_CONTROL = f"private, max-age={int(REFRESH.total_seconds())}"
FEED_HEADERS = {
    "ETag": {"description": "send it back as If-None-Match", "schema": {"type": "string"}},
    "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}},
}
NOT_MODIFIED = "the request's If-None-Match named the current ETag: nothing changed (no body)"


def feed_response(body: bytes) -> Response:
    """The feed with its validators: 304 and no body when If-None-Match has its ETag."""
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.vary.add("Authorization")  # a room's feed says more to its organizers
    response.add_etag()
    response.make_conditional(request)
    return response


@blp.route("/users/me/feed-token", methods=["POST"])
@blp.response(201, FeedTokenSchema)
def create_feed_token() -> dict[str, Any]:
    """A calendar feed token for the caller; the one before it stops working (401)."""
    with transaction() as session:
        token = calendar_feeds.replace_feed_token(session, current_user().id)
    room_placeholder = uuid.UUID(int=0)
    # Absolute, on PUBLIC_URL: a calendar application needs the whole URL.
    room_url = external_url("feeds.room_calendar", room_id=room_placeholder, token=token)
    return {
        "token": token,
        "calendar_url": external_url("feeds.my_calendar", token=token),
        "rooms_url_template": room_url.replace(str(room_placeholder), "{room_id}"),
    }


@blp.route("/users/me/calendar.ics", methods=["GET"])
@feed_token_allowed
@blp.arguments(CalendarQuery, location="query")
@blp.response(
    200,
    {"type": "string"},
    description="The caller's own bookings, in every status, as iCalendar (RFC 5545)",
    content_type="text/calendar",
    headers=FEED_HEADERS,
)
@blp.alt_response(304, description=NOT_MODIFIED, success=True)
def my_calendar(query: dict[str, Any]) -> Response:
    """The caller's own bookings as a calendar feed.

    Every status: PENDING ones are TENTATIVE, cancelled ones CANCELLED. A calendar
    application sends `?token=<feed token>` instead of a bearer token."""
    body = calendar_feeds.personal_feed(
        db(), user_id=current_user().id, start=query["start"], end=query["end"]
    )
    return feed_response(body)


@blp.route("/rooms/<uuid:room_id>/calendar.ics", methods=["GET"])
@feed_token_allowed
@blp.arguments(CalendarQuery, location="query")
@blp.response(
    200,
    {"type": "string"},
    description="The room's bookings, in every status, as iCalendar (RFC 5545)",
    content_type="text/calendar",
    headers=FEED_HEADERS,
)
@blp.alt_response(304, description=NOT_MODIFIED, success=True)
def room_calendar(query: dict[str, Any], room_id: uuid.UUID) -> Response:
    """A room's bookings as a calendar feed.

    Every status, as in the caller's own feed; other people's bookings read "Busy"
    (admins see them all). A calendar application sends `?token=<feed token>` instead
    of a bearer token."""
    body = calendar_feeds.room_feed(
        db(), room_id=room_id, viewer=current_user(), start=query["start"], end=query["end"]
    )
    return feed_response(body)
