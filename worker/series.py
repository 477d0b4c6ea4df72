"""Deciding recurring series: atomically, under the room's lock, in acceptance order."""

from __future__ import annotations

import uuid
from typing import Any

from models.domain.calendar import Slot
from models.domain.decisions import Refusal, refuse_booking
from models.domain.recurrence import Occurrence
from models.tables.bookings import BookingSeries, ConflictPolicy
from models.tables.requests import BookingRequest
from worker.room_state import RoomState, confirm_booking, finish


def _entry(
    occ: Occurrence, status: str, booking_id: str | None, conflicts: list[Any]
) -> dict[str, Any]:
    return {
        "start_time": occ.start.isoformat(),
        "end_time": occ.end.isoformat(),
        "status": status,
        "booking_id": booking_id,
        "conflicts": conflicts,
    }


def decide_series(state: RoomState, request: BookingRequest) -> None:
    payload = request.payload
    occurrences = [Occurrence.from_json(pair) for pair in payload["occurrences"]]
    policy = ConflictPolicy(payload["conflict_policy"])
    attendees = list(payload.get("attendees") or [])
    # Check occurrence by occurrence, holding each free one in the calendar, so the series
    # is checked against itself as well as against the room's bookings.
    held: list[Slot] = []
    verdicts: list[tuple[Occurrence, Refusal | None]] = []
    for occ in occurrences:
        refusal = refuse_booking(
            room_active=state.room.active,
            capacity=state.room.capacity,
            calendar=state.calendar,
            start=occ.start,
            end=occ.end,
            attendees=attendees,
        )
        if refusal is not None and refusal.code != "CONFLICT":
            _release(state, held)
            # The room or the party is wrong for every occurrence alike.
            finish(request, state.now, refusal=refusal, total=len(occurrences))
            return
        if refusal is None:
            slot = Slot(occ.start, occ.end, uuid.uuid4())
            state.calendar.add(slot)
            held.append(slot)
        verdicts.append((occ, refusal))
    _release(state, held)
    blocked = [(occ, r) for occ, r in verdicts if r is not None]
    if blocked and (policy == ConflictPolicy.ALL_OR_NOTHING or len(blocked) == len(verdicts)):
        _reject(state, request, verdicts, len(blocked))
        return
    series = BookingSeries(
        id=uuid.uuid4(),
        room_id=state.room.id,
        organizer_id=request.requester_id,
        request_id=request.id,
        rule=payload["recurrence"],
        timezone=payload["timezone"],
        conflict_policy=policy,
        title=payload["title"],
        created_at=state.now,
        updated_at=state.now,
    )
    state.session.add(series)
    results: list[dict[str, Any]] = []
    for occ, refusal in verdicts:
        if refusal is not None:
            results.append(_entry(occ, "SKIPPED", None, refusal.conflicts))
            continue
        booking = confirm_booking(
            state,
            organizer_id=request.requester_id,
            request_id=request.id,
            payload=payload,
            start=occ.start,
            end=occ.end,
            series_id=series.id,
        )
        results.append(_entry(occ, "CONFIRMED", str(booking.id), []))
    confirmed = sum(1 for e in results if e["status"] == "CONFIRMED")
    finish(
        request,
        state.now,
        result={"series_id": str(series.id), "occurrences": results},
        total=len(results),
        confirmed=confirmed,
    )


def _release(state: RoomState, held: list[Slot]) -> None:
    for slot in held:
        state.calendar.remove(slot.booking_id)


def _reject(
    state: RoomState,
    request: BookingRequest,
    verdicts: list[tuple[Occurrence, Refusal | None]],
    blocked: int,
) -> None:
    """Nothing is booked: every occurrence is reported SKIPPED, with its conflicts."""
    conflicts = {c["booking_id"]: c for _, r in verdicts if r for c in r.conflicts}
    refusal = Refusal(
        "CONFLICT",
        f"{blocked} of {len(verdicts)} occurrences conflict; nothing was booked",
        sorted(conflicts.values(), key=lambda c: c["start_time"]),
    )
    occurrences = [_entry(o, "SKIPPED", None, r.conflicts if r else []) for o, r in verdicts]
    blocked_only = [e for e in occurrences if e["conflicts"]]
    finish(
        request,
        state.now,
        refusal=refusal,
        result={"series_id": None, "occurrences": occurrences},
        total=len(verdicts),
        extra_error={"occurrences": blocked_only},
    )
