"""Deciding recurring series: atomically, under the room's lock, in acceptance order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from models.booking_request import BookingRequest
from models.bookings import BookingSeries, ConflictPolicy
from models.decisions import Refusal, refuse_booking
from models.recurrence import Occurrence
from worker.room_state import RoomState, confirm_booking, finish


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def decide_series(state: RoomState, request: BookingRequest) -> None:
    payload = request.payload
    occurrences = [Occurrence.from_json(pair) for pair in payload["occurrences"]]
    policy = ConflictPolicy(payload["conflict_policy"])
    attendees = list(payload.get("attendees") or [])
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
            # The room or the party is wrong for every occurrence alike.
            finish(request, state.now, refusal=refusal, total=len(occurrences))
            return
        verdicts.append((occ, refusal))
    blocked = [(occ, r) for occ, r in verdicts if r is not None]
    if blocked and (policy == ConflictPolicy.ALL_OR_NOTHING or len(blocked) == len(verdicts)):
        conflicts = {c["booking_id"]: c for _, r in blocked for c in r.conflicts}
        refusal = Refusal(
            "CONFLICT",
            f"{len(blocked)} of {len(occurrences)} occurrences conflict; nothing was booked",
            sorted(conflicts.values(), key=lambda c: c["start_time"]),
        )
        error_occurrences = [
            {
                "start_time": _iso(o.start),
                "end_time": _iso(o.end),
                "status": "SKIPPED",
                "booking_id": None,
                "conflicts": r.conflicts,
            }
            for o, r in blocked
        ]
        finish(
            request,
            state.now,
            refusal=refusal,
            total=len(occurrences),
            extra_error={"occurrences": error_occurrences},
        )
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
        entry: dict[str, Any] = {"start_time": _iso(occ.start), "end_time": _iso(occ.end)}
        if refusal is None:
            booking = confirm_booking(
                state,
                organizer_id=request.requester_id,
                request_id=request.id,
                payload=payload,
                start=occ.start,
                end=occ.end,
                series_id=series.id,
            )
            entry.update(status="CONFIRMED", booking_id=str(booking.id), conflicts=[])
        else:
            entry.update(status="SKIPPED", booking_id=None, conflicts=refusal.conflicts)
        results.append(entry)
    confirmed = sum(1 for e in results if e["status"] == "CONFIRMED")
    finish(
        request,
        state.now,
        result={"series_id": str(series.id), "occurrences": results},
        total=len(results),
        confirmed=confirmed,
    )
