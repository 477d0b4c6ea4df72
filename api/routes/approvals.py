"""Approvals: PENDING bookings of rooms that require approval, and their decisions."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from api.context import current_user, db
from api.schemas.bookings import BookingSchema, CancelInSchema, TaskAcceptedSchema
from api.schemas.common import PageQuery, page_of
from api.submit import accepted
from models.pages import Page, page
from models.services.accept import DecideApproval
from models.services.booking_queries import approvals_search
from models.tables.bookings import Booking

ACCEPTED = TaskAcceptedSchema()

blp = Blueprint("approvals", __name__, url_prefix="/v1", description="Approvals")


@blp.route("/approvals", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, page_of(BookingSchema))
def list_approvals(query: dict[str, Any]) -> Page[Booking]:
    """PENDING bookings the caller may decide (an admin: all; an approver: their rooms'),
    oldest first. Anyone else may decide none: the list is empty."""
    stmt = approvals_search(current_user())
    return page(db(), stmt, limit=query["limit"], offset=query["offset"])


@blp.route("/bookings/<uuid:booking_id>/approve", methods=["POST"])
@blp.response(202, ACCEPTED)
def approve_booking(booking_id: uuid.UUID) -> Any:
    """Approve a PENDING booking (admins, the room's approvers): 202 with a task."""
    return accepted(DecideApproval(booking_id, approve=True))


@blp.route("/bookings/<uuid:booking_id>/decline", methods=["POST"])
@blp.arguments(CancelInSchema, required=False)  # the reason is optional
@blp.response(202, ACCEPTED)
def decline_booking(body: dict[str, Any], booking_id: uuid.UUID) -> Any:
    """Decline a PENDING booking (admins, the room's approvers): 202 with a task."""
    return accepted(DecideApproval(booking_id, approve=False, reason=body.get("reason")))
