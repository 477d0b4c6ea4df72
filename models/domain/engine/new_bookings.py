"""New bookings: one window in one room or in several at once (all or none), and series.

A booking of a room that requires approval (for a requester who is neither admin nor
approver) is PENDING. A request naming several rooms books each of them for the same
window, as one group: a refusal in any room refuses it all, and names that room.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from models.domain.engine.checks import WHOLE_REQUEST, refuse_window
from models.domain.engine.outcomes import rejected, succeeded, waitlisted
from models.domain.engine.state import (
    Effect,
    NewBooking,
    NewId,
    NewSeries,
    Outcome,
    RoomRequest,
    Snapshot,
)
from models.domain.payloads import BookingPayload, SeriesPayload
from models.domain.recurrence import Occurrence
from models.domain.rules import Refusal
from models.domain.states import BookingStatus, ConflictPolicy


def new_status(snapshot: Snapshot, request: RoomRequest, room_id: uuid.UUID) -> BookingStatus:
    facts = snapshot.room(room_id).facts
    if facts.policy.requires_approval and not request.exempt(facts):
        return BookingStatus.PENDING
    return BookingStatus.CONFIRMED


def _bookings(
    snapshot: Snapshot,
    request: RoomRequest,
    details: BookingPayload,
    start: datetime,
    end: datetime,
    new_id: NewId,
    *,
    series_id: uuid.UUID | None = None,
    from_waitlist: bool = False,
) -> list[NewBooking]:
    """The booking of each room named, as one group where there are several."""
    rooms = details.rooms
    group_id = new_id(request.id, f"group/{start.isoformat()}") if len(rooms) > 1 else None
    return [
        NewBooking(
            new_id(request.id, f"booking/{room_id}/{start.isoformat()}"),
            request.id,
            room_id,
            request.organizer_id,
            start,
            end,
            details,
            series_id,
            new_status(snapshot, request, room_id),
            from_waitlist,
            group_id,
            request.booked_by,
        )
        for room_id in rooms
    ]


def held_as(statuses: Iterable[BookingStatus]) -> BookingStatus:
    """How a group (or an occurrence in several rooms) is held: PENDING while any of its
    bookings waits for an approver."""
    pending = BookingStatus.PENDING in set(statuses)
    return BookingStatus.PENDING if pending else BookingStatus.CONFIRMED


def _made(bookings: list[NewBooking]) -> dict[str, Any]:
    """What a result says of the bookings made for one window."""
    made: dict[str, Any] = {
        "booking_id": str(bookings[0].id),
        "booking_status": held_as(b.status for b in bookings).value,
    }
    if len(bookings) > 1:
        made["booking_ids"] = [str(b.id) for b in bookings]
        made["group_id"] = str(bookings[0].group_id)
        made["bookings"] = [
            {"booking_id": str(b.id), "room_id": str(b.room_id), "status": b.status.value}
            for b in bookings
        ]
    return made


def refuse_booking(
    snapshot: Snapshot,
    request: RoomRequest,
    payload: BookingPayload,
    start: datetime,
    end: datetime,
    now: datetime,
) -> Refusal | None:
    return refuse_window(
        snapshot,
        request,
        payload.rooms,
        start,
        end,
        attendees=payload.attendees,
        organizer=request.organizer_id,
        now=now,
    )


def decide_booking(
    snapshot: Snapshot,
    request: RoomRequest,
    payload: BookingPayload,
    *,
    now: datetime,
    new_id: NewId,
    from_waitlist: bool = False,
) -> Outcome:
    refusal = refuse_booking(snapshot, request, payload, payload.start, payload.end, now)
    if refusal is not None:
        if payload.waitlist and refusal.code == "CONFLICT":
            return waitlisted(request, refusal)
        return rejected(request, refusal)
    bookings = _bookings(
        snapshot, request, payload, payload.start, payload.end, new_id, from_waitlist=from_waitlist
    )
    return succeeded(request, _made(bookings), bookings)


def _entry(
    occ: Occurrence, status: str, made: dict[str, Any] | None, refusal: Refusal | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "start_time": occ.start.isoformat(),
        "end_time": occ.end.isoformat(),
        "status": status,
        "booking_id": None,
        "conflicts": refusal.conflicts if refusal else [],
    }
    if made is not None:
        entry.update({k: v for k, v in made.items() if k != "booking_status"})
    if refusal is not None:
        entry.update(refusal.as_entry())
    return entry


def decide_series(
    snapshot: Snapshot,
    request: RoomRequest,
    payload: SeriesPayload,
    *,
    now: datetime,
    new_id: NewId,
) -> Outcome:
    """Every occurrence against every rule, and against the series' own earlier
    occurrences (held while deciding: overlaps, buffers, quotas); then all or nothing,
    or skip what is refused."""
    occurrences = payload.occurrences
    total = len(occurrences)
    details = payload.booking
    verdicts: list[tuple[Occurrence, Refusal | None]] = []
    held: list[uuid.UUID] = []
    try:
        for occ in occurrences:
            refusal = refuse_booking(snapshot, request, details, occ.start, occ.end, now)
            if refusal is not None and refusal.code in WHOLE_REQUEST:
                return rejected(request, refusal, total=total)
            if refusal is None:
                for room_id in details.rooms:
                    hold = uuid.uuid4()
                    snapshot.hold(room_id, hold, request.organizer_id, occ.start, occ.end)
                    held.append(hold)
            verdicts.append((occ, refusal))
    finally:
        for hold in held:
            snapshot.unhold(hold)
    blocked = sum(1 for _, r in verdicts if r is not None)
    if blocked and (payload.conflict_policy == ConflictPolicy.ALL_OR_NOTHING or blocked == total):
        return series_rejected(request, verdicts, blocked)
    series = NewSeries(
        new_id(request.id, "series"), request.id, details.room_id, request.organizer_id, payload
    )
    effects: list[Effect] = [series]
    entries = []
    statuses = []
    for occ, refusal in verdicts:
        if refusal is not None:
            entries.append(_entry(occ, "SKIPPED", None, refusal))
            continue
        bookings = _bookings(
            snapshot, request, details, occ.start, occ.end, new_id, series_id=series.id
        )
        effects += bookings
        made = _made(bookings)
        statuses.append(made["booking_status"])
        entries.append(_entry(occ, made["booking_status"], made, None))
    status = held_as(BookingStatus(s) for s in statuses)
    result = {"series_id": str(series.id), "booking_status": status.value, "occurrences": entries}
    return succeeded(request, result, effects, total=total, confirmed=total - blocked)


def series_rejected(
    request: RoomRequest,
    verdicts: list[tuple[Occurrence, Refusal | None]],
    blocked: int,
    *,
    verb: str = "booked",
) -> Outcome:
    """Nothing is done: every occurrence is reported SKIPPED, the refused ones with their
    refusal. The error is the first refusal that is not a conflict, or else a CONFLICT
    naming every booking in the way."""
    refusals = [r for _, r in verdicts if r is not None]
    conflicts = {c["booking_id"]: c for r in refusals for c in r.conflicts}
    named = sorted(conflicts.values(), key=lambda c: c["start_time"])
    other = next((r for r in refusals if r.code != "CONFLICT"), None)
    if other is None:
        message = f"{blocked} of {len(verdicts)} occurrences conflict; nothing was {verb}"
        refusal = Refusal("CONFLICT", message, named, room_id=refusals[0].room_id)
    else:
        message = (
            f"{blocked} of {len(verdicts)} occurrences are refused ({other.message}); "
            f"nothing was {verb}"
        )
        refusal = Refusal(other.code, message, named, other.rule, other.room_id)
    entries = [_entry(o, "SKIPPED", None, r) for o, r in verdicts]
    return rejected(
        request,
        refusal,
        result={"series_id": None, "occurrences": entries},
        total=len(verdicts),
        extra_error={"occurrences": [e for e in entries if "code" in e]},
    )
