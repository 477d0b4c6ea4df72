"""Requests that end bookings or decide on them: cancel one, a group or a series from a
time on, close a room over its bookings, approve or decline a PENDING one."""

from __future__ import annotations

from datetime import datetime

from models.domain.engine.checks import ROOM_CLOSED
from models.domain.engine.outcomes import rejected, succeeded
from models.domain.engine.state import (
    ApproveBooking,
    BookingFacts,
    CancelBooking,
    Effect,
    NewClosure,
    NewId,
    Outcome,
    RoomRequest,
    Snapshot,
)
from models.domain.lifecycle import BookingEvent
from models.domain.payloads import (
    ApprovalPayload,
    CancelPayload,
    ClosurePayload,
    GroupCancelPayload,
    SeriesCancelPayload,
)
from models.domain.rules import Refusal, refuse_cancel
from models.domain.states import HOLDING, BookingStatus

SERIES_CANCEL_REASON = "series cancelled"
GROUP_CANCEL_REASON = "group cancelled"
DECLINED = "DECLINED"
APPROVAL_EXPIRED = "APPROVAL_EXPIRED"
NOT_FOUND = Refusal("NOT_FOUND", "the booking does not exist")


def _by_start(bookings: list[BookingFacts]) -> list[BookingFacts]:
    return sorted(bookings, key=lambda b: (b.start, b.id))


def decide_cancel(
    snapshot: Snapshot, request: RoomRequest, payload: CancelPayload, now: datetime
) -> Outcome:
    booking = snapshot.bookings.get(payload.booking_id)
    if booking is None:
        return rejected(request, NOT_FOUND)
    refusal = refuse_cancel(status=booking.status, end=booking.end, now=now)
    if refusal is not None:
        return rejected(request, refusal)
    cancel = CancelBooking(booking.id, booking.room_id, request.requester_id, payload.reason)
    return succeeded(request, {"booking_id": str(booking.id)}, [cancel])


def decide_group_cancel(
    snapshot: Snapshot, request: RoomRequest, payload: GroupCancelPayload, now: datetime
) -> Outcome:
    """Every booking of the group that still holds its slot and has not ended."""
    targets = _by_start(
        [
            b
            for b in snapshot.bookings.values()
            if b.group_id == payload.group_id and b.status in HOLDING and b.end > now
        ]
    )
    if not targets:
        why = "no booking of the group is pending or confirmed and not yet ended"
        return rejected(request, Refusal("NOT_CANCELLABLE", why))
    reason = payload.reason or GROUP_CANCEL_REASON
    cancels = [CancelBooking(b.id, b.room_id, request.requester_id, reason) for b in targets]
    result = {"group_id": str(payload.group_id), "cancelled": [str(b.id) for b in targets]}
    return succeeded(request, result, cancels, total=len(targets))


def decide_series_cancel(
    snapshot: Snapshot, request: RoomRequest, payload: SeriesCancelPayload, now: datetime
) -> Outcome:
    cutoff = series_cancel_cutoff(payload, now)
    targets = _by_start(
        [
            b
            for b in snapshot.bookings.values()
            if b.series_id == payload.series_id and b.status in HOLDING and b.start >= cutoff
        ]
    )
    cancels = [
        CancelBooking(b.id, b.room_id, request.requester_id, SERIES_CANCEL_REASON) for b in targets
    ]
    result = {"series_id": str(payload.series_id), "cancelled": [str(b.id) for b in targets]}
    return succeeded(request, result, cancels, total=len(targets))


def series_cancel_cutoff(payload: SeriesCancelPayload, now: datetime) -> datetime:
    """Occurrences starting from here on are cancelled: `from`, but never in the past."""
    return max(payload.start_from, now) if payload.start_from else now


def decide_closure(
    snapshot: Snapshot,
    request: RoomRequest,
    payload: ClosurePayload,
    new_id: NewId,
    now: datetime,
) -> Outcome:
    """Close the room: every PENDING or CONFIRMED booking of it in the window that has
    not ended yet is cancelled with ROOM_CLOSED."""
    targets = _by_start(
        [
            b
            for b in snapshot.bookings.values()
            if b.room_id == payload.room_id
            and b.status in HOLDING
            and b.start < payload.end
            and payload.start < b.end
            and b.end > now
        ]
    )
    closure = NewClosure(
        new_id(request.id, "closure"),
        request.id,
        payload.room_id,
        request.requester_id,
        payload.start,
        payload.end,
        payload.reason,
    )
    cancels = [
        CancelBooking(
            b.id, b.room_id, request.requester_id, ROOM_CLOSED, BookingEvent.CLOSE, payload.reason
        )
        for b in targets
    ]
    result = {"closure_id": str(closure.id), "cancelled": [str(b.id) for b in targets]}
    return succeeded(request, result, [closure, *cancels])


def decide_approval(
    snapshot: Snapshot, request: RoomRequest, payload: ApprovalPayload, now: datetime
) -> Outcome:
    booking = snapshot.bookings.get(payload.booking_id)
    if booking is None:
        return rejected(request, NOT_FOUND)
    if booking.status != BookingStatus.PENDING:
        status = booking.status.lower()
        return rejected(request, Refusal("NOT_PENDING", f"the booking is {status}, not pending"))
    if booking.start <= now:
        # Undecided at its start: it expires now rather than at the next periodic run.
        expire = CancelBooking(
            booking.id, booking.room_id, None, APPROVAL_EXPIRED, BookingEvent.EXPIRE
        )
        refusal = Refusal("NOT_PENDING", "the booking's approval expired at its start time")
        return rejected(request, refusal, effects=[expire])
    effect: Effect
    if payload.approve:
        effect = ApproveBooking(booking.id, booking.room_id, request.requester_id)
    else:
        effect = CancelBooking(
            booking.id,
            booking.room_id,
            request.requester_id,
            DECLINED,
            BookingEvent.DECLINE,
            payload.reason,
        )
    result = {
        "booking_id": str(booking.id),
        "booking_status": "CONFIRMED" if payload.approve else "CANCELLED",
    }
    return succeeded(request, result, [effect])
