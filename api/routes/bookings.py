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
from api.submit import accept_write
from models.domain.booking_input import (
    BookingInSchema,
    CheckInSchema,
    RecurringInSchema,
    batch_payloads,
    booking_payload,
    series_payload,
)
from models.domain.payloads import BatchPayload, CancelPayload, SeriesCancelPayload
from models.domain.states import HOLDING, utcnow
from models.pages import Page, page
from models.services import room_catalog
from models.services.booking_queries import (
    booking_search,
    sees_details,
    visible_booking,
    visible_series,
)
from models.services.dry_run import check_request
from models.tables.bookings import Booking

ACCEPTED = TaskAcceptedSchema()

blp = Blueprint("bookings", __name__, url_prefix="/v1", description="Bookings")


@blp.route("/bookings", methods=["POST"])
@blp.arguments(BookingInSchema())  # an instance: not built again per request
@blp.response(202, ACCEPTED)
def create_booking(body: dict[str, Any]) -> Any:
    """Ask for a booking: 202 with a task, decided by a worker."""
    return accept_write(booking_payload(body))  # an unknown room is a 404 from accept


@blp.route("/bookings/recurring", methods=["POST"])
@blp.arguments(RecurringInSchema())
@blp.response(202, ACCEPTED)
def create_series(body: dict[str, Any]) -> Any:
    """Ask for a recurring booking (expanded at acceptance): 202 with a task."""
    room = room_catalog.get_room(db(), body["room_id"])
    return accept_write(series_payload(body, room_timezone=room.timezone, now=utcnow()))


@blp.route("/bookings/check", methods=["POST"])
@blp.arguments(CheckInSchema())
@blp.response(200, CheckResultSchema())
def check_booking(body: dict[str, Any]) -> dict[str, Any]:
    """Dry run: what the worker would decide for this booking or series now (200), with
    nothing written and no promise (others may book first)."""
    session = db()
    room = room_catalog.get_room(session, body["room_id"])
    now = utcnow()
    payload = (
        series_payload(body, room_timezone=room.timezone, now=now)
        if "recurrence" in body
        else booking_payload(body)
    )
    return check_request(session, current_user(), payload, now)


@blp.route("/bookings/batch", methods=["POST"])
@blp.arguments(BatchInSchema)
@blp.response(202, ACCEPTED)
def create_batch(body: dict[str, Any]) -> Any:
    """Ask for up to 1000 bookings and series at once: 202 with one task."""
    session = db()
    items = batch_payloads(
        body["items"], lambda ids: room_catalog.room_zones(session, ids), now=utcnow()
    )
    return accept_write(BatchPayload(len(items)), items)


@blp.route("/bookings/<uuid:booking_id>/cancel", methods=["POST"])
@blp.arguments(CancelInSchema, required=False)  # the reason is optional
@blp.response(202, ACCEPTED)
def cancel_booking(body: dict[str, Any], booking_id: uuid.UUID) -> Any:
    """Ask to cancel a booking: 202 with a task."""
    booking = visible_booking(db(), booking_id, current_user())
    return accept_write(CancelPayload(booking.room_id, booking.id, body.get("reason")))


@blp.route("/series/<uuid:series_id>/cancel", methods=["POST"])
@blp.arguments(SeriesCancelInSchema, required=False)
@blp.response(202, ACCEPTED)
def cancel_series(body: dict[str, Any], series_id: uuid.UUID) -> Any:
    """Cancel the series' occurrences from a time on (default: every future one)."""
    series = visible_series(db(), series_id, current_user())
    return accept_write(SeriesCancelPayload(series.room_id, series.id, body.get("from_")))


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
        organizer_id=query.get("organizer_id") if viewer.is_admin else viewer.id,
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
    shown.update(organizer_id=None, title=None, description=None, attendees=[], meeting=None)
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
