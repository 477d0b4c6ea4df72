"""Every rule a window meets in the rooms it asks for, in one order.

The room is active; the attendees fit (in all the rooms together); it is not closed;
its policy (duration, notice, horizon, opening hours, the organizer's quotas) unless the
requester is exempt; and no booking lies within its buffer. A CONFLICT is reported only
when no other rule refuses, in any room: so "refused only because a slot is taken" is
exactly a CONFLICT, and only that puts a request on the waitlist.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from models.domain.engine.state import RoomRequest, Snapshot
from models.domain.policy import Ledger, refuse_by_policy, refuse_by_quota
from models.domain.rules import Refusal, refuse_capacity, refuse_conflict, refuse_inactive

ROOM_CLOSED = "ROOM_CLOSED"
# Refusals that hold for every occurrence of a request alike: a series stops at the first.
WHOLE_REQUEST = frozenset({"ROOM_INACTIVE", "CAPACITY_EXCEEDED"})


def refuse_window(
    snapshot: Snapshot,
    request: RoomRequest,
    rooms: Sequence[uuid.UUID],
    start: datetime,
    end: datetime,
    *,
    attendees: Sequence[str],
    organizer: uuid.UUID,
    now: datetime,
    new_start: bool = True,
    name_rooms: bool | None = None,
    seats: int | None = None,
) -> Refusal | None:
    """Why the rooms cannot all be booked for [start, end) now, or None. Where a request
    names several rooms, the refusal names the room (`room_id`). `seats`: what the
    attendees must fit, where that is more than these rooms (a group of which only some
    rooms move)."""
    several = len(rooms) > 1 if name_rooms is None else name_rooms
    for room_id in rooms:
        refusal = refuse_inactive(snapshot.room(room_id).facts.active)
        if refusal is not None:
            return _in(refusal, room_id, several)
    if seats is None:
        seats = sum(snapshot.room(room_id).facts.capacity for room_id in rooms)
    refusal = refuse_capacity(attendees, seats)
    if refusal is not None:
        return refusal  # the attendees share the rooms: no one room is to blame
    conflict = None
    for room_id in rooms:
        refusal = refuse_in_room(
            snapshot,
            request,
            room_id,
            start,
            end,
            organizer=organizer,
            now=now,
            new_start=new_start,
        )
        if refusal is None:
            continue
        if refusal.code != "CONFLICT":
            return _in(refusal, room_id, several)
        conflict = conflict or _in(refusal, room_id, several)
    return conflict


def _in(refusal: Refusal, room_id: uuid.UUID, named: bool) -> Refusal:
    return replace(refusal, room_id=room_id) if named else refusal


def refuse_in_room(
    snapshot: Snapshot,
    request: RoomRequest,
    room_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    organizer: uuid.UUID,
    now: datetime,
    new_start: bool = True,
) -> Refusal | None:
    """The room's own rules for the window: closures, its policy, the organizer's
    quotas, then conflicts widened by its buffer."""
    state = snapshot.room(room_id)
    facts = state.facts
    closure = state.closed(start, end)
    if closure is not None:
        return Refusal(
            ROOM_CLOSED,
            f"the room is closed from {closure.start.isoformat()} to {closure.end.isoformat()}",
        )
    policy = facts.policy
    if not request.exempt(facts):
        refusal = refuse_by_policy(
            policy, zone=facts.timezone, start=start, end=end, now=now, new_start=new_start
        ) or refuse_by_quota(
            policy,
            zone=facts.timezone,
            booked=state.booked.get(organizer) or Ledger(),
            start=start,
            end=end,
        )
        if refusal is not None:
            return refusal
    return refuse_conflict(state.calendar, start, end, policy.buffer)
