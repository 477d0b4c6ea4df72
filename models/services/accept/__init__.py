"""Accepting a write: the one way in, for every kind of write.

`submit(sessions, waker, caller, write)` answers a replay of an Idempotency-Key as it
did the first time (before any other check: a retry that arrives after its booking's
start still gets its task back); otherwise it resolves the write (plans.py: rights,
rooms, time zones, series expansion; 404, 403 and 422 here), stores its rows in
acceptance order (rows.py), commits, and then wakes the rooms' deciders. The HTTP
views, `bookings import` and `bookings seed` all call it; nothing else inserts a
request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from psycopg import errors as pg_errors
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.domain.booking_input import booking_payload
from models.domain.identity import Viewer
from models.domain.states import utcnow
from models.errors import DomainError, IdempotencyKeyReused, NotFound
from models.metrics import ACCEPTED
from models.services.accept.group_insert import Claim
from models.services.accept.plans import dry_run_payload, plan_write
from models.services.accept.rows import (
    FootprintGrew,
    insert_grouped,
    insert_rows,
    lock_stripes,
    row_values,
)
from models.services.accept.writes import (
    CancelBooking,
    CancelGroup,
    CancelSeries,
    ChangeBooking,
    ChangeSeries,
    CloseRoom,
    DecideApproval,
    NewBatch,
    NewBooking,
    NewSeries,
    Row,
    Write,
)
from models.tables.requests import BookingRequest

__all__ = [
    "Accepted",
    "CancelBooking",
    "CancelGroup",
    "CancelSeries",
    "ChangeBooking",
    "ChangeSeries",
    "CloseRoom",
    "DecideApproval",
    "NewBatch",
    "NewBooking",
    "NewSeries",
    "Waker",
    "Write",
    "accept",
    "body_hash",
    "dry_run_payload",
    "submit",
]

log = logging.getLogger(__name__)

# A plan is made again when a request on the same subject, committed meanwhile, moves it
# to a room the plan did not name (rows.FootprintGrew); that takes a race of two writes
# on one booking within milliseconds, so twice is already rare.
MAX_PLANS = 20


class Waker(Protocol):
    """Wakes a room's decider after its requests are committed (see services/wakeups)."""

    def claim_many(self, wakes: Sequence[tuple[uuid.UUID, int | None]]) -> list[bool | None]:
        """Set the rooms' wake-up markers where none is, in one round trip."""
        ...

    def wake(self, room_id: uuid.UUID, seq: int | None, claimed: bool | None = None) -> bool:
        """Send the room a decide message unless one is on its way; `claimed`: what
        claim_many answered for it (None: nothing claimed yet)."""
        ...


class Busy(DomainError):
    status = 503
    code = "SERVICE_UNAVAILABLE"


@dataclass(frozen=True)
class Accepted:
    request_id: uuid.UUID
    kind: str  # the task's kind
    # (room_id, highest seq accepted for it, its marker claimed or not or None: not
    # asked yet): the rooms to wake; empty on a replay.
    to_wake: list[tuple[uuid.UUID, int, bool | None]]
    replay: bool = False


def body_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def find_replay(
    session: Session, requester_id: uuid.UUID, key: str, digest: str
) -> BookingRequest | None:
    existing = session.scalars(
        select(BookingRequest).where(
            BookingRequest.requester_id == requester_id, BookingRequest.idempotency_key == key
        )
    ).first()
    if existing is not None and existing.body_hash != digest:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with a different request body",
            details={"idempotency_key": key},
        )
    return existing


def submit(
    sessions: sessionmaker[Session],
    waker: Waker,
    caller: Viewer,
    write: Write,
    *,
    idempotency_key: str | None = None,
    digest: str | None = None,
    now: datetime | None = None,
) -> Accepted:
    """Accept a write (commit), then wake the rooms it concerns.

    Waking happens only after the commit, so a decider never looks before the rows are
    there; if waking fails, the rows are safe and the sweeper wakes their rooms later.
    """
    accepted = accept(
        sessions,
        caller,
        write,
        idempotency_key=idempotency_key,
        digest=digest,
        now=now,
        claim=waker.claim_many,
    )
    if not accepted.replay:
        ACCEPTED.labels(accepted.kind).inc()
        log.info("accepted %s request", accepted.kind, extra={"task_id": accepted.request_id})
    for room_id, seq, claimed in accepted.to_wake:
        waker.wake(room_id, seq, claimed)
    return accepted


def accept(
    sessions: sessionmaker[Session],
    caller: Viewer,
    write: Write,
    *,
    idempotency_key: str | None = None,
    digest: str | None = None,
    now: datetime | None = None,
    claim: Claim | None = None,
) -> Accepted:
    """Store a write's rows as QUEUED, in one transaction, and nothing else (a plain
    booking's room's wake-up marker is claimed with `claim` as it commits)."""
    now = now or utcnow()
    if isinstance(write, NewBooking) and not idempotency_key and _plain(write.body, caller):
        return _accept_single(sessions, caller, booking_payload(write.body, now=now), claim)
    for _ in range(MAX_PLANS):
        try:
            return _accept_planned(sessions, caller, write, idempotency_key, digest, now)
        except FootprintGrew:
            continue
        except IntegrityError as exc:
            if isinstance(exc.orig, pg_errors.ForeignKeyViolation):
                raise NotFound("no such room") from exc
            if not idempotency_key:
                raise
            # Two requests raced with the same key: the other one won; answer as it did.
            with sessions.begin() as session:
                existing = find_replay(session, caller.id, idempotency_key, digest or "")
                if existing is None:
                    raise
                return Accepted(existing.id, existing.kind.value, [], replay=True)
    raise Busy("the booking is being changed by several requests at once; try again")


def _plain(body: dict[str, Any], caller: Viewer) -> bool:
    """One room, for the caller: the hot path (nothing to resolve)."""
    return "room_ids" not in body and body.get("organizer_id") in (None, caller.id)


def _accept_planned(
    sessions: sessionmaker[Session],
    caller: Viewer,
    write: Write,
    key: str | None,
    digest: str | None,
    now: datetime,
) -> Accepted:
    with sessions.begin() as session:
        if key:
            existing = find_replay(session, caller.id, key, digest or "")
            if existing is not None:
                return Accepted(existing.id, existing.kind.value, [], replay=True)
        plan = plan_write(session, caller, write, now)
        rows = [plan.parent, *plan.children]
        lock_stripes(session, rows)
        parent = row_values(plan.parent, caller.id, idempotency_key=key, digest=digest)
        inserted = insert_rows(session, [parent])
        if plan.children:
            children = [row_values(c, caller.id, parent_id=parent["id"]) for c in plan.children]
            inserted = insert_rows(session, children)
    last_per_room: dict[uuid.UUID, int] = {}
    for room_id, seq in inserted:
        if room_id is not None:
            last_per_room[room_id] = max(seq, last_per_room.get(room_id, seq))
    to_wake: list[tuple[uuid.UUID, int, bool | None]]
    to_wake = [(room_id, seq, None) for room_id, seq in last_per_room.items()]
    return Accepted(parent["id"], parent["kind"].value, to_wake)


def _accept_single(
    sessions: sessionmaker[Session], caller: Viewer, payload: Any, claim: Claim | None
) -> Accepted:
    """The hot path (one room, no key): one self-committing statement."""
    values = row_values(Row(payload, payload.room_id), caller.id)
    try:
        room_id, seq, claimed = insert_grouped(sessions, values, claim)
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.ForeignKeyViolation):
            raise NotFound("no such room") from exc
        raise
    return Accepted(values["id"], values["kind"].value, [(room_id, seq, claimed)])
