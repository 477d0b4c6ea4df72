"""Accepting a write: one booking_requests row per request, in acceptance order."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.errors import IdempotencyKeyReused
from models.locks import LOCK_ACCEPT, accept_stripe
from models.tables.requests import BookingRequest, RequestKind


@dataclass(frozen=True)
class NewRequest:
    kind: RequestKind
    room_id: uuid.UUID | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class Accepted:
    request_id: uuid.UUID
    # (room_id, request_id) pairs to send to the rooms' queues; empty on an idempotent replay.
    to_send: list[tuple[uuid.UUID, uuid.UUID]]
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


def accept(
    sessions: sessionmaker[Session],
    *,
    requester_id: uuid.UUID,
    request: NewRequest,
    children: Sequence[NewRequest] = (),
    idempotency_key: str | None = None,
    digest: str | None = None,
) -> Accepted:
    """Store a request (and a batch's items) as QUEUED in one transaction.

    Rooms are locked (advisory, transaction-scoped, sorted to avoid deadlocks) while the
    rows take their seq, so a room's requests become visible to workers in seq order:
    acceptance order is commit order.
    """
    try:
        with sessions.begin() as session:
            if idempotency_key:
                existing = find_replay(session, requester_id, idempotency_key, digest or "")
                if existing is not None:
                    return Accepted(existing.id, [], replay=True)
            rooms = sorted({r.room_id for r in [request, *children] if r.room_id is not None})
            for stripe in sorted({accept_stripe(room) for room in rooms}):
                session.execute(select(func.pg_advisory_xact_lock(LOCK_ACCEPT, stripe)))
            parent = _row(request, requester_id, idempotency_key=idempotency_key, digest=digest)
            session.add(parent)
            session.flush()
            rows = [_row(c, requester_id, parent_id=parent.id) for c in children]
            session.add_all(rows)
            session.flush()
            targets = rows or [parent]
            first_per_room: dict[uuid.UUID, uuid.UUID] = {}
            for row in targets:
                if row.room_id is not None:
                    first_per_room.setdefault(row.room_id, row.id)
            return Accepted(parent.id, list(first_per_room.items()))
    except IntegrityError:
        if not idempotency_key:
            raise
        # Two requests raced with the same key: the other one won; answer as it did.
        with sessions.begin() as session:
            existing = find_replay(session, requester_id, idempotency_key, digest or "")
            if existing is None:
                raise
            return Accepted(existing.id, [], replay=True)


def _row(
    request: NewRequest,
    requester_id: uuid.UUID,
    *,
    parent_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    digest: str | None = None,
) -> BookingRequest:
    return BookingRequest(
        id=uuid.uuid4(),
        kind=request.kind,
        room_id=request.room_id,
        requester_id=requester_id,
        payload=request.payload,
        parent_id=parent_id,
        idempotency_key=idempotency_key,
        body_hash=digest if idempotency_key else None,
    )
