"""The check-in page a door display's QR code opens: the organizer signs in with email and
password and checks in, under the same rules as POST /v1/bookings/{id}/check-in and the
same failed-login throttle as POST /v1/auth/token. Anyone else learns only that the room
is booked (and when: the door shows that too). Answers are pages for people, in HTML."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app
from flask_smorest import Blueprint

from api.context import db, services, transaction
from api.errors import RateLimited
from api.pages import render_page
from api.request_checks import takes_form
from api.schemas.displays import CheckInForm
from api.spec_rules import ERROR
from models.domain.states import utcnow
from models.errors import Conflict, Forbidden, NotFound, Unauthorized
from models.services import accounts
from models.services.meetings import CHECK_IN_OPENS, check_in, meeting_by_code
from models.tables.bookings import Meeting
from models.tables.users import User

blp = Blueprint("checkin", __name__, description="Door displays and check-in")

PAGE = {"text/html": {"schema": {"type": "string"}}}
BOOKED = "The room is booked. Only the person who booked it can check in here."
GONE = "This check-in link leads to no meeting now (it may have ended)."


def _answer(why: str, *, or_json: bool = False) -> dict[str, Any]:
    """A documented answer: a page, or (refused before the page, e.g. a flood of
    requests or a NUL in the path) the API's JSON error."""
    return {"description": why, "content": {**PAGE, **(ERROR if or_json else {})}}


def _page(
    meeting: Meeting | None,
    status: int = 200,
    *,
    message: str = "",
    tone: str = "",
    form: bool = True,
) -> Response:
    context: dict[str, Any] = {"room_name": None, "message": message, "tone": tone}
    if meeting is not None:
        booking = meeting.booking
        zone = ZoneInfo(booking.room.timezone)
        context |= {
            "room_name": booking.room.name,
            "start": booking.start_time.astimezone(zone),
            "end": booking.end_time.astimezone(zone),
        }
    page = render_page("checkin.html", show_form=form and meeting is not None, **context)
    return Response(page, status=status, mimetype="text/html")


def _meeting(join_code: str) -> Meeting | None:
    try:
        return meeting_by_code(db(), join_code)
    except NotFound:
        return None


@blp.route("/checkin/<string:join_code>", methods=["GET"])
@blp.doc(security=[], responses={"404": _answer(GONE, or_json=True)})
@blp.response(
    200,
    {"type": "string"},
    description="An HTML page: the room, the booking's times, and a sign-in form",
    content_type="text/html",
)
def get_check_in_page(join_code: str) -> Response:
    """The check-in page of a meeting (its door display's QR code opens it)."""
    meeting = _meeting(join_code)
    if meeting is None:
        return _page(None, 404, message=GONE, tone="refused")
    return _page(meeting, message="The organizer signs in here to check in.")


@blp.route("/checkin/<string:join_code>", methods=["POST"])
@takes_form
@blp.doc(
    security=[],
    responses={
        "401": _answer("wrong email or password"),
        "403": _answer("the caller is not the organizer: the page says only that it is booked"),
        "404": _answer(GONE, or_json=True),
        "409": _answer("outside [start - 15 min, end), not confirmed, or the meeting ended"),
        "429": _answer(
            "10 failed sign-ins for this email from this address within 15 minutes (counted"
            " with POST /v1/auth/token's), or too many requests from it",
            or_json=True,
        ),
    },
)
@blp.arguments(CheckInForm, location="form")
@blp.response(
    200,
    {"type": "string"},
    description="An HTML page saying the meeting is checked in (ACTIVE)",
    content_type="text/html",
)
def check_in_with_password(form: dict[str, Any], join_code: str) -> Response:
    """Sign in as the meeting's organizer and check in (a form, from the check-in page)."""
    meeting = _meeting(join_code)
    if meeting is None:
        return _page(None, 404, message=GONE, tone="refused")
    try:
        user = _sign_in(form["email"], form["password"])
    except Unauthorized:
        return _page(meeting, 401, message="Wrong email or password.", tone="refused")
    except RateLimited:  # Retry-After is added on the way out (api/rate_limit.py)
        message = "Too many failed sign-ins for this email. Try again later."
        return _page(meeting, 429, message=message, tone="refused")
    try:
        with transaction() as session:
            checked = check_in(session, booking_id=meeting.booking_id, user=user, now=utcnow())
            at = checked.checked_in_at
    except (NotFound, Forbidden):
        return _page(meeting, 403, message=BOOKED, tone="refused", form=False)
    except Conflict as refusal:
        return _page(meeting, 409, message=_why(meeting, refusal), tone="refused")
    zone = ZoneInfo(meeting.booking.room.timezone)
    when = f" at {at.astimezone(zone):%H:%M}" if isinstance(at, datetime) else ""
    return _page(meeting, message=f"Checked in{when}.", tone="ok", form=False)


def _sign_in(email: str, password: str) -> User:
    """The user with this email and password (Unauthorized if none), checked within the
    failed-login windows the login uses (RateLimited once they are full)."""
    cost = services().settings.password_cost

    def check() -> User:
        return accounts.authenticate(db(), email=email, password=password, cost=cost)

    throttled = current_app.extensions.get("bookings_sign_in")
    user: User = throttled(email, check) if throttled else check()
    return user


def _why(meeting: Meeting, refusal: Conflict) -> str:
    booking = meeting.booking
    zone = ZoneInfo(booking.room.timezone)
    if refusal.code == "OUTSIDE_CHECK_IN_WINDOW":
        opens = (booking.start_time - CHECK_IN_OPENS).astimezone(zone)
        closes = booking.end_time.astimezone(zone)
        return f"Check-in is open from {opens:%H:%M} until {closes:%H:%M}."
    if refusal.code == "MEETING_ENDED":
        return "This meeting has ended."
    return "This booking is not confirmed."
