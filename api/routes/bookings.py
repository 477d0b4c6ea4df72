"""Booking writes (accepted, then decided by a worker) and booking reads."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from api.context import current_user, db
from api.schemas.bookings import (
    BatchInSchema,
    BookingQuery,
    BookingSchema,
    CancelInSchema,
    CheckResultSchema,
    SeriesCancelInSchema,
    TaskAcceptedSchema,
)
from api.schemas.common import WindowQuery, page_of
from api.spec_examples import booking_example
from api.submit import accepted
from models.domain.booking_input import (
    BookingInSchema,
    ChangeInSchema,
    CheckInSchema,
    RecurringInSchema,
    SeriesChangeInSchema,
)
from models.domain.states import HOLDING, utcnow
from models.pages import Page, page
from models.services import room_catalog
from models.services.accept import (
    CancelBooking,
    CancelGroup,
    CancelSeries,
    ChangeBooking,
    ChangeSeries,
    NewBatch,
    NewBooking,
    NewSeries,
    dry_run_payload,
)
from models.services.booking_queries import booking_search, sees_details, visible_booking
from models.services.dry_run import check_request
from models.tables.bookings import Booking

ACCEPTED = TaskAcceptedSchema()

blp = Blueprint("bookings", __name__, url_prefix="/v1", description="Bookings")


@blp.route("/bookings", methods=["POST"])
@blp.arguments(BookingInSchema(), example=booking_example())  # an instance: built once
@blp.response(202, ACCEPTED)
def create_booking(body: dict[str, Any]) -> Any:
    """Ask for a booking, in one room or in several at once: 202 with a task, decided
    by a worker."""
    return accepted(NewBooking(body))


@blp.route("/bookings/recurring", methods=["POST"])
@blp.arguments(
    RecurringInSchema(),
    example={**booking_example(), "recurrence": {"freq": "WEEKLY", "count": 10}},
)
@blp.response(202, ACCEPTED)
def create_series(body: dict[str, Any]) -> Any:
    """Ask for a recurring booking (expanded at acceptance): 202 with a task."""
    return accepted(NewSeries(body))


@blp.route("/bookings/check", methods=["POST"])
@blp.arguments(CheckInSchema(), example=booking_example())
@blp.response(200, CheckResultSchema())
def check_booking(body: dict[str, Any]) -> dict[str, Any]:
    """Dry run: what the worker would decide for this booking or series now (200), with
    nothing written and no promise (others may book first)."""
    session, caller, now = db(), current_user(), utcnow()
    return check_request(session, caller, dry_run_payload(session, caller, body, now), now)


@blp.route("/bookings/batch", methods=["POST"])
@blp.arguments(BatchInSchema)
@blp.response(202, ACCEPTED)
def create_batch(body: dict[str, Any]) -> Any:
    """Ask for up to 1000 bookings and series at once: 202 with one task."""
    return accepted(NewBatch(body["items"]))


@blp.route("/bookings/<uuid:booking_id>", methods=["PATCH"])
@blp.arguments(ChangeInSchema())
@blp.response(202, ACCEPTED)
def change_booking(body: dict[str, Any], booking_id: uuid.UUID) -> Any:
    """Change a booking in place (its time, room, attendees or text): 202 with a task.
    It keeps its id, meeting and join code; all of the change takes effect or none."""
    return accepted(ChangeBooking(booking_id, body))


@blp.route("/bookings/<uuid:booking_id>/cancel", methods=["POST"])
@blp.arguments(CancelInSchema, required=False)  # the reason is optional
@blp.response(202, ACCEPTED)
def cancel_booking(body: dict[str, Any], booking_id: uuid.UUID) -> Any:
    """Ask to cancel a booking: 202 with a task."""
    return accepted(CancelBooking(booking_id, body.get("reason")))


@blp.route("/series/<uuid:series_id>", methods=["PATCH"])
@blp.arguments(SeriesChangeInSchema())
@blp.response(202, ACCEPTED)
def change_series(body: dict[str, Any], series_id: uuid.UUID) -> Any:
    """Change a series' occurrences from one on, at local wall-clock time: 202 with a
    task."""
    return accepted(ChangeSeries(series_id, body))


@blp.route("/series/<uuid:series_id>/cancel", methods=["POST"])
@blp.arguments(SeriesCancelInSchema, required=False)
@blp.response(202, ACCEPTED)
def cancel_series(body: dict[str, Any], series_id: uuid.UUID) -> Any:
    """Cancel the series' occurrences from a time on (default: every future one)."""
    return accepted(CancelSeries(series_id, body.get("from_")))


@blp.route("/groups/<uuid:group_id>/cancel", methods=["POST"])
@blp.arguments(CancelInSchema, required=False)
@blp.response(202, ACCEPTED)
def cancel_group(body: dict[str, Any], group_id: uuid.UUID) -> Any:
    """Cancel every booking one several-rooms request made: 202 with a task."""
    return accepted(CancelGroup(group_id, body.get("reason")))


@blp.route("/bookings", methods=["GET"])
@blp.arguments(BookingQuery, location="query")
@blp.response(200, page_of(BookingSchema))
def list_bookings(query: dict[str, Any]) -> Page[Booking]:
    """The caller's bookings (an admin's: everyone's), filtered."""
    viewer = current_user()
    stmt = booking_search(
        start=query.get("from_"),
        end=query.get("to"),
        room_id=query.get("room_id"),
        organizer_id=query.get("organizer_id") if viewer.is_admin else None,
        mine=None if viewer.is_admin else viewer.id,
        status=query.get("status"),
    )
    return page(db(), stmt, limit=query["limit"], offset=query["offset"])


@blp.route("/bookings/<uuid:booking_id>", methods=["GET"])
@blp.response(200, BookingSchema)
def get_booking(booking_id: uuid.UUID) -> Booking:
    """One booking, with its meeting."""
    return visible_booking(db(), booking_id, current_user())


def _as_seen_by_others(booking: Booking) -> dict[str, Any]:
    """Another person's booking: when and where, not what or who or how to join."""
    shown = {name: getattr(booking, name) for name in BookingSchema().fields}
    shown.update(
        organizer_id=None, booked_by=None, title=None, description=None, attendees=[], meeting=None
    )
    return shown


@blp.route("/rooms/<uuid:room_id>/bookings", methods=["GET"])
@blp.arguments(WindowQuery, location="query")
@blp.response(200, page_of(BookingSchema))
def room_bookings(query: dict[str, Any], room_id: uuid.UUID) -> dict[str, Any]:
    """The room's PENDING and CONFIRMED bookings: everyone sees the calendar, not others'
    details."""
    session = db()
    room_catalog.get_room(session, room_id)
    viewer = current_user()
    stmt = booking_search(
        start=query.get("from_"),
        end=query.get("to"),
        room_id=room_id,
        status=HOLDING,
    )
    found = page(session, stmt, limit=query["limit"], offset=query["offset"])
    items = [b if sees_details(viewer, b) else _as_seen_by_others(b) for b in found.items]
    return {"items": items, "total": found.total, "limit": found.limit, "offset": found.offset}
