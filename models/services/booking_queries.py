"""Finding bookings, requests and audit events, with who-may-see-what applied."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from models.domain.identity import Viewer
from models.domain.states import BookingStatus
from models.errors import NotFound
from models.tables.audit import AuditEvent
from models.tables.bookings import Booking, BookingSeries
from models.tables.requests import BookingRequest
from models.tables.rooms import Room


def sees_details(viewer: Viewer, booking: Booking) -> bool:
    """Everyone sees when a room is booked; what and who only its organizer, whoever
    booked it for them, and admins."""
    return viewer.is_admin or viewer.id in (booking.organizer_id, booking.booked_by)


def visible_booking(session: Session, booking_id: uuid.UUID, viewer: Viewer) -> Booking:
    """The booking if the viewer organizes it, booked it for its organizer or is an
    admin (they may change and cancel it too); 404 otherwise (no leak)."""
    booking = session.get(Booking, booking_id)
    if booking is None or not sees_details(viewer, booking):
        raise NotFound("no such booking")
    return booking


def may_approve(viewer: Viewer, approvers: list[str]) -> bool:
    """Admins, and the room's approvers (its policy's `approvers`, as stored)."""
    return viewer.is_admin or str(viewer.id) in approvers


def approvable_booking(session: Session, booking_id: uuid.UUID, viewer: Viewer) -> Booking:
    """The booking if the viewer may approve or decline it; 404 otherwise (no leak)."""
    found = session.execute(
        select(Booking, Room.policy)
        .join(Room, Room.id == Booking.room_id)
        .where(Booking.id == booking_id)
    ).first()
    if found is None or not may_approve(viewer, (found[1] or {}).get("approvers") or []):
        raise NotFound("no such booking")
    return found[0]


def approvals_search(viewer: Viewer) -> Select[Booking]:
    """PENDING bookings the viewer may decide, oldest request first."""
    stmt = (
        select(Booking)
        .where(Booking.status == BookingStatus.PENDING)
        .order_by(Booking.created_at, Booking.id)
    )
    if not viewer.is_admin:
        stmt = stmt.join(Room, Room.id == Booking.room_id).where(
            Room.policy["approvers"].has_key(str(viewer.id))  # JSONB ?: in the array
        )
    return stmt


def visible_series(session: Session, series_id: uuid.UUID, viewer: Viewer) -> BookingSeries:
    """The series if the viewer organizes it, booked it for its organizer or is an admin;
    404 otherwise."""
    series = session.get(BookingSeries, series_id)
    if series is None:
        raise NotFound("no such series")
    if viewer.is_admin or series.organizer_id == viewer.id:
        return series
    booked = select(Booking.id).where(
        Booking.series_id == series_id, Booking.booked_by == viewer.id
    )
    if session.scalar(booked.limit(1)) is None:
        raise NotFound("no such series")
    return series


def visible_request(session: Session, request_id: uuid.UUID, viewer: Viewer) -> BookingRequest:
    found = session.get(BookingRequest, request_id, populate_existing=True)
    if found is None or not (viewer.is_admin or found.requester_id == viewer.id):
        raise NotFound("no such task")
    return found


def booking_search(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    room_id: uuid.UUID | None = None,
    organizer_id: uuid.UUID | None = None,
    status: BookingStatus | tuple[BookingStatus, ...] | None = None,
    mine: uuid.UUID | None = None,
) -> Select[Booking]:
    """Bookings overlapping [start, end), by start; the caller applies who may see them.
    `status`: one status, or a tuple of statuses any of which matches."""
    stmt = select(Booking).order_by(Booking.start_time, Booking.id)
    if organizer_id is not None:
        stmt = stmt.where(Booking.organizer_id == organizer_id)
    if mine is not None:  # the viewer's own, and those they booked for others
        stmt = stmt.where(or_(Booking.organizer_id == mine, Booking.booked_by == mine))
    if start is not None:
        stmt = stmt.where(Booking.end_time > start)
    if end is not None:
        stmt = stmt.where(Booking.start_time < end)
    if room_id is not None:
        stmt = stmt.where(Booking.room_id == room_id)
    if isinstance(status, tuple):
        stmt = stmt.where(Booking.status.in_(status))
    elif status is not None:
        stmt = stmt.where(Booking.status == status)
    return stmt


def audit_search(
    *,
    booking_id: uuid.UUID | None = None,
    room_id: uuid.UUID | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Select[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id)
    if booking_id is not None:
        stmt = stmt.where(AuditEvent.booking_id == booking_id)
    if room_id is not None:
        stmt = stmt.where(AuditEvent.room_id == room_id)
    if start is not None:
        stmt = stmt.where(AuditEvent.at >= start)
    if end is not None:
        stmt = stmt.where(AuditEvent.at < end)
    return stmt
