"""Changing bookings in place: one booking (its window, room or text; a group's window
moves with it), and a series' occurrences from one on.

A change meets every rule a new request for the new window would meet, except that the
bookings it moves never conflict with themselves: they are let go of while it is
checked, and held again where they are if it is refused. Either the whole change takes
effect or none of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from models.domain.engine.checks import WHOLE_REQUEST, refuse_window
from models.domain.engine.new_bookings import held_as, new_status
from models.domain.engine.outcomes import failed, rejected, succeeded
from models.domain.engine.releases import NOT_FOUND
from models.domain.engine.state import (
    BookingFacts,
    ChangeBooking,
    Outcome,
    RoomRequest,
    Snapshot,
)
from models.domain.payloads import ChangePayload, SeriesChangePayload
from models.domain.recurrence import Occurrence, shifted
from models.domain.rules import Refusal, refuse_capacity, refuse_change, refuse_moved_window
from models.domain.states import HOLDING, BookingStatus, ConflictPolicy


def _held(snapshot: Snapshot, moves: Iterable[tuple[BookingFacts, uuid.UUID]]) -> bool:
    """Whether every room the moves leave or enter is held (the request names them all:
    models/services/accept queues it in each; anything else is a fault, not a refusal)."""
    return all(b.room_id in snapshot.rooms and r in snapshot.rooms for b, r in moves)


def _let_go(snapshot: Snapshot, bookings: Iterable[BookingFacts]) -> None:
    for booking in bookings:
        snapshot.unhold(booking.id)


def _hold_again(snapshot: Snapshot, bookings: Iterable[BookingFacts]) -> None:
    for booking in bookings:
        snapshot.hold(booking.room_id, booking.id, booking.organizer_id, booking.start, booking.end)


def _moving(
    moves: Iterable[tuple[BookingFacts, uuid.UUID]], start: datetime, end: datetime
) -> list[tuple[BookingFacts, uuid.UUID]]:
    """The (booking, room) moves that change where or when the booking is."""
    return [(b, r) for b, r in moves if (r, start, end) != (b.room_id, b.start, b.end)]


def _refuse(
    snapshot: Snapshot,
    request: RoomRequest,
    moves: Sequence[tuple[BookingFacts, uuid.UUID]],
    start: datetime,
    end: datetime,
    attendees: Sequence[str],
    now: datetime,
) -> Refusal | None:
    """The rules for (booking, room) moves to one window: the attendees fit the rooms
    together (a group seats them in all of its rooms), and each booking that moves meets
    its new room's rules for the new window. One that stays (a new title, the group's
    other rooms when one room is swapped) is not held to rules about windows again."""
    seats = sum(snapshot.room(room).facts.capacity for _, room in moves)
    moving = _moving(moves, start, end)
    if not moving:
        return refuse_capacity(attendees, seats)
    return refuse_window(
        snapshot,
        request,
        [room for _, room in moving],
        start,
        end,
        attendees=attendees,
        organizer=moves[0][0].organizer_id,
        now=now,
        new_start=any(start != b.start or r != b.room_id for b, r in moving),
        name_rooms=len(moves) > 1,
        seats=seats,
    )


def _status(
    snapshot: Snapshot,
    request: RoomRequest,
    booking: BookingFacts,
    room_id: uuid.UUID,
    window: tuple[datetime, datetime],
    now: datetime,
) -> BookingStatus:
    """A booking that moves is held as a new one would be: PENDING where its room asks
    the requester for approval, or where it waits for one already (an admin's move is
    not an approval). One that stays where and when it is keeps its status, and so does
    one under way (it may only change its end: PENDING would only expire it)."""
    stays = window == (booking.start, booking.end) or booking.start <= now
    if room_id == booking.room_id and stays:
        return booking.status
    status = new_status(snapshot, request, room_id)
    facts = snapshot.room(room_id).facts
    if booking.status == BookingStatus.PENDING and facts.policy.requires_approval:
        return BookingStatus.PENDING
    return status


def decide_change(
    snapshot: Snapshot, request: RoomRequest, payload: ChangePayload, now: datetime
) -> Outcome:
    booking = snapshot.bookings.get(payload.booking_id)
    if booking is None:
        return rejected(request, NOT_FOUND)
    start, end = payload.start or booking.start, payload.end or booking.end
    room_id = payload.new_room_id or booking.room_id
    only_end = start == booking.start and room_id == booking.room_id and not payload.text
    refusal = refuse_change(
        status=booking.status,
        start=booking.start,
        end=booking.end,
        new_start=start,
        new_end=end,
        only_end=only_end,
        now=now,
    )
    if refusal is not None:
        return rejected(request, refusal)
    # A group is one meeting in several rooms: its window and text change together; a
    # room swap moves the one booking named.
    group = [booking]
    if booking.group_id is not None:
        group += sorted(
            (
                b
                for b in snapshot.bookings.values()
                if b.group_id == booking.group_id
                and b.id != booking.id
                and b.status in HOLDING
                and b.end > now
            ),
            key=lambda b: str(b.room_id),
        )
    moves = [(b, room_id if b.id == booking.id else b.room_id) for b in group]
    if not _held(snapshot, moves):
        return failed(request.id, "the change names a room its decider does not hold")
    attendees = payload.text.get("attendees", booking.attendees)
    # Only the bookings that move leave their slots while the rules are asked: one that
    # stays holds its room (a swap into a room the group holds meets it there).
    moving = [b for b, _ in _moving(moves, start, end)]
    _let_go(snapshot, moving)
    try:
        refusal = _refuse(snapshot, request, moves, start, end, attendees, now)
    finally:
        _hold_again(snapshot, moving)
    if refusal is not None:
        return rejected(request, refusal)
    effects = [
        ChangeBooking(
            b,
            room,
            start,
            end,
            _status(snapshot, request, b, room, (start, end), now),
            payload.text,
            request.requester_id,
        )
        for b, room in moves
        if b.id == booking.id or payload.text or (room, start, end) != (b.room_id, b.start, b.end)
    ]
    result: dict[str, Any] = {
        "booking_id": str(booking.id),
        "version": effects[0].version,
        "booking_status": held_as(e.status for e in effects).value,
    }
    if booking.group_id is not None:
        result["booking_ids"] = [str(e.booking_id) for e in effects]
        result["group_id"] = str(booking.group_id)
    return succeeded(request, result, effects)


def _units(bookings: Iterable[BookingFacts]) -> list[list[BookingFacts]]:
    """The occurrences to change, by start: a several-rooms series' bookings of one
    occurrence (one group) move together."""
    units: dict[uuid.UUID, list[BookingFacts]] = {}
    for booking in sorted(bookings, key=lambda b: (b.start, str(b.room_id))):
        units.setdefault(booking.group_id or booking.id, []).append(booking)
    return list(units.values())


def decide_series_change(
    snapshot: Snapshot, request: RoomRequest, payload: SeriesChangePayload, now: datetime
) -> Outcome:
    """Every occurrence from `from` on (never one that has started), moved at local
    wall-clock time: all of them or none, or the ones that fit (a refused one stays
    where it is, and the others are checked again against it)."""
    cutoff = max(payload.start_from, now)
    targets = [
        b
        for b in snapshot.bookings.values()
        if b.series_id == payload.series_id and b.status in HOLDING and b.start >= cutoff
    ]
    if not targets:
        why = f"no occurrence of the series starts at or after {cutoff.isoformat()}"
        return rejected(request, Refusal("NOT_CHANGEABLE", why))
    units = _units(targets)
    moves = [(b, payload.new_room_id or b.room_id) for b in targets]
    if not _held(snapshot, moves):
        return failed(request.id, "the change names a room its decider does not hold")
    shift = timedelta(minutes=payload.shift_minutes)
    duration = timedelta(minutes=payload.duration_minutes) if payload.duration_minutes else None
    planned = [
        shifted(
            Occurrence(unit[0].start, unit[0].end), payload.timezone, shift=shift, duration=duration
        )
        for unit in units
    ]
    skipped: dict[int, Refusal] = {}
    all_or_nothing = payload.conflict_policy == ConflictPolicy.ALL_OR_NOTHING
    while True:
        refused = _verdicts(snapshot, request, payload, units, planned, skipped, now)
        whole = next((r for r in refused.values() if r.code in WHOLE_REQUEST), None)
        if whole is not None:
            return rejected(request, whole, total=len(units))
        skipped.update(refused)
        if not refused or all_or_nothing:
            break
    nothing = bool(skipped) and (all_or_nothing or len(skipped) == len(units))
    entries = [
        _entry(unit, None if nothing or i in skipped else planned[i], skipped.get(i), status)
        for i, unit in enumerate(units)
        for status in [_unit_status(snapshot, request, payload, unit, planned[i], now)]
    ]
    if nothing:
        return _nothing_changed(request, payload, entries, skipped)
    effects = [
        ChangeBooking(
            booking,
            payload.new_room_id or booking.room_id,
            planned[i].start,
            planned[i].end,
            _status(
                snapshot,
                request,
                booking,
                payload.new_room_id or booking.room_id,
                (planned[i].start, planned[i].end),
                now,
            ),
            payload.text,
            request.requester_id,
        )
        for i, unit in enumerate(units)
        if i not in skipped
        for booking in unit
    ]
    result = {"series_id": str(payload.series_id), "occurrences": entries}
    total = len(units)
    return succeeded(request, result, effects, total=total, confirmed=total - len(skipped))


def _verdicts(
    snapshot: Snapshot,
    request: RoomRequest,
    payload: SeriesChangePayload,
    units: list[list[BookingFacts]],
    planned: list[Occurrence],
    skipped: dict[int, Refusal],
    now: datetime,
) -> dict[int, Refusal]:
    """The occurrences not yet skipped that a rule refuses, each checked against the
    skipped ones where they stay and the others where they go; the snapshot is left as
    it was."""
    everyone = [b for unit in units for b in unit]
    _let_go(snapshot, everyone)
    staying = [b for i in skipped for b in units[i]]
    _hold_again(snapshot, staying)
    refused: dict[int, Refusal] = {}
    temporary: list[uuid.UUID] = []
    try:
        for i, unit in enumerate(units):
            if i in skipped:
                continue
            occ = planned[i]
            moves = [(b, payload.new_room_id or b.room_id) for b in unit]
            attendees = payload.text.get("attendees", unit[0].attendees)
            refusal = refuse_moved_window(occ.start, occ.end, now=now) or _refuse(
                snapshot, request, moves, occ.start, occ.end, attendees, now
            )
            if refusal is not None:
                refused[i] = refusal
                continue
            for booking, room in moves:
                hold = uuid.uuid4()
                snapshot.hold(room, hold, booking.organizer_id, occ.start, occ.end)
                temporary.append(hold)
    finally:
        for hold in temporary:
            snapshot.unhold(hold)
        _let_go(snapshot, staying)
        _hold_again(snapshot, everyone)
    return refused


def _unit_status(
    snapshot: Snapshot,
    request: RoomRequest,
    payload: SeriesChangePayload,
    unit: list[BookingFacts],
    occ: Occurrence,
    now: datetime,
) -> BookingStatus:
    """PENDING while any booking of the occurrence would wait for an approver."""
    return held_as(
        _status(snapshot, request, b, payload.new_room_id or b.room_id, (occ.start, occ.end), now)
        for b in unit
    )


def _entry(
    unit: list[BookingFacts],
    moved_to: Occurrence | None,
    refusal: Refusal | None,
    status: BookingStatus,
) -> dict[str, Any]:
    """One occurrence in the result: where it goes (CONFIRMED or PENDING), or where it
    stays (SKIPPED), and why where a rule refused it."""
    first = unit[0]
    entry: dict[str, Any] = {"booking_id": str(first.id)}
    if len(unit) > 1:
        entry["booking_ids"] = [str(b.id) for b in unit]
        entry["group_id"] = str(first.group_id)
    where = moved_to or Occurrence(first.start, first.end)
    entry["start_time"], entry["end_time"] = where.start.isoformat(), where.end.isoformat()
    entry["status"] = status.value if moved_to is not None else "SKIPPED"
    entry["conflicts"] = refusal.conflicts if refusal else []
    if refusal is not None:
        entry.update(refusal.as_entry())
    return entry


def _nothing_changed(
    request: RoomRequest,
    payload: SeriesChangePayload,
    entries: list[dict[str, Any]],
    skipped: dict[int, Refusal],
) -> Outcome:
    """All or nothing, and something was refused: no occurrence moves. The error is the
    first refusal that is not a conflict, or else a CONFLICT naming every booking in
    the way."""
    refusals = [skipped[i] for i in sorted(skipped)]
    other = next((r for r in refusals if r.code != "CONFLICT"), None)
    conflicts = {c["booking_id"]: c for r in refusals for c in r.conflicts}
    named = sorted(conflicts.values(), key=lambda c: c["start_time"])
    count = f"{len(skipped)} of {len(entries)} occurrences"
    if other is None:
        refusal = Refusal("CONFLICT", f"{count} conflict; nothing was changed", named)
    else:
        message = f"{count} are refused ({other.message}); nothing was changed"
        refusal = Refusal(other.code, message, named, other.rule, other.room_id)
    return rejected(
        request,
        refusal,
        result={"series_id": str(payload.series_id), "occurrences": entries},
        total=len(entries),
        extra_error={"occurrences": [e for e in entries if "code" in e]},
    )
