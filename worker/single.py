"""Deciding single bookings and cancellations."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from models.domain.decisions import Refusal, refuse_booking, refuse_cancel
from models.tables.bookings import Booking, BookingStatus
from models.tables.requests import BookingRequest
from worker.room_state import RoomState, cancel_booking, confirm_booking, finish


def booking_window(request: BookingRequest) -> tuple[datetime, datetime]:
    payload = request.payload
    return (
        datetime.fromisoformat(payload["start_time"]),
        datetime.fromisoformat(payload["end_time"]),
    )


def decide_booking(state: RoomState, request: BookingRequest) -> None:
    start, end = booking_window(request)
    refusal = refuse_booking(
        room_active=state.room.active,
        capacity=state.room.capacity,
        calendar=state.calendar,
        start=start,
        end=end,
        attendees=list(request.payload.get("attendees") or []),
    )
    if refusal is not None:
        finish(request, state.now, refusal=refusal)
        return
    booking = confirm_booking(
        state,
        organizer_id=request.requester_id,
        request_id=request.id,
        payload=request.payload,
        start=start,
        end=end,
    )
    finish(request, state.now, result={"booking_id": str(booking.id)})


def decide_cancel(state: RoomState, request: BookingRequest) -> None:
    if "series_id" in request.payload:
        decide_series_cancel(state, request)
        return
    booking = state.session.get(
        Booking, uuid.UUID(request.payload["booking_id"]), with_for_update=True
    )
    if booking is None:
        finish(request, state.now, refusal=Refusal("NOT_FOUND", "the booking does not exist"))
        return
    refusal = refuse_cancel(status=booking.status.value, end=booking.end_time, now=state.now)
    if refusal is not None:
        finish(request, state.now, refusal=refusal)
        return
    cancel_booking(
        state,
        booking,
        actor_id=request.requester_id,
        reason=request.payload.get("reason"),
        action="booking.cancelled",
    )
    finish(request, state.now, result={"booking_id": str(booking.id)})


def decide_series_cancel(state: RoomState, request: BookingRequest) -> None:
    """Cancel a series' confirmed occurrences that start from `from` (default: now) on."""
    series_id = uuid.UUID(request.payload["series_id"])
    start = request.payload.get("from")
    cutoff = max(datetime.fromisoformat(start), state.now) if start else state.now
    bookings = state.session.scalars(
        select(Booking)
        .where(
            Booking.series_id == series_id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.start_time >= cutoff,
        )
        .order_by(Booking.start_time)
        .with_for_update()
    ).all()
    for booking in bookings:
        cancel_booking(
            state,
            booking,
            actor_id=request.requester_id,
            reason=request.payload.get("reason") or "series cancelled",
            action="booking.cancelled",
        )
    finish(
        request,
        state.now,
        result={"series_id": str(series_id), "cancelled": [str(b.id) for b in bookings]},
        total=len(bookings),
    )
