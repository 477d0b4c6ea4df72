"""Accepting a write: one booking_requests row per request, in acceptance order, then a wake-up."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.domain.payloads import Payload, RoomPayload
from models.domain.states import RequestStatus
from models.errors import IdempotencyKeyReused, NotFound
from models.locks import LOCK_ACCEPT, accept_stripe
from models.metrics import ACCEPTED
from models.tables.requests import BookingRequest

log = logging.getLogger(__name__)


class Waker(Protocol):
    """Wakes a room's decider after its requests are committed (see services/wakeups)."""

    def wake(self, room_id: uuid.UUID, seq: int | None) -> bool: ...


@dataclass(frozen=True)
class Accepted:
    request_id: uuid.UUID
    # (room_id, highest seq accepted for it): the rooms to wake; empty on a replay.
    to_wake: list[tuple[uuid.UUID, int]]
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
    *,
    requester_id: uuid.UUID,
    request: Payload,
    children: Sequence[RoomPayload] = (),
    idempotency_key: str | None = None,
    digest: str | None = None,
) -> Accepted:
    """Accept a write (commit), then wake the rooms it concerns; the one way in.

    The HTTP API, `bookings import` and `bookings seed` all call this. Waking happens
    only after the commit, so a decider never looks before the rows are there; if
    waking fails, the rows are safe and the sweeper wakes their rooms later.
    """
    accepted = accept(
        sessions,
        requester_id=requester_id,
        request=request,
        children=children,
        idempotency_key=idempotency_key,
        digest=digest,
    )
    if not accepted.replay:
        ACCEPTED.labels(request.kind.value).inc()
        log.info(
            "accepted %s request",
            request.kind.value,
            extra={"task_id": accepted.request_id, "room_id": request.room_id},
        )
    for room_id, seq in accepted.to_wake:
        waker.wake(room_id, seq)
    return accepted


def accept(
    sessions: sessionmaker[Session],
    *,
    requester_id: uuid.UUID,
    request: Payload,
    children: Sequence[RoomPayload] = (),
    idempotency_key: str | None = None,
    digest: str | None = None,
) -> Accepted:
    """Store a request (and a batch's items) as QUEUED in one transaction.

    Rooms are locked (advisory, transaction-scoped, striped and sorted to avoid
    deadlocks) while the rows take their seq, so a room's requests become visible to
    deciders in seq order: acceptance order is commit order. An unknown room is a 404.
    """
    if request.room_id is not None and not children and not idempotency_key:
        return _accept_single(sessions, requester_id, request, request.room_id)
    try:
        with sessions.begin() as session:
            if idempotency_key:
                existing = find_replay(session, requester_id, idempotency_key, digest or "")
                if existing is not None:
                    return Accepted(existing.id, [], replay=True)
            parent = _row(request, requester_id, idempotency_key=idempotency_key, digest=digest)
            if request.room_id is not None and not children:
                inserted = [_insert_one(session, parent)]
            else:
                rooms = {r.room_id for r in [request, *children] if r.room_id is not None}
                for stripe in sorted({accept_stripe(room) for room in rooms}):
                    session.execute(select(func.pg_advisory_xact_lock(LOCK_ACCEPT, stripe)))
                inserted = _insert(session, [parent])
            if children:
                inserted = _insert(
                    session, [_row(c, requester_id, parent_id=parent["id"]) for c in children]
                )
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.ForeignKeyViolation):
            raise NotFound("no such room") from exc
        if not idempotency_key:
            raise
        # Two requests raced with the same key: the other one won; answer as it did.
        with sessions.begin() as session:
            existing = find_replay(session, requester_id, idempotency_key, digest or "")
            if existing is None:
                raise
            return Accepted(existing.id, [], replay=True)
    last_per_room: dict[uuid.UUID, int] = {}
    for room_id, seq in inserted:
        if room_id is not None:
            last_per_room[room_id] = max(seq, last_per_room.get(room_id, seq))
    return Accepted(parent["id"], list(last_per_room.items()))


def _accept_single(
    sessions: sessionmaker[Session], requester_id: uuid.UUID, request: Payload, room: uuid.UUID
) -> Accepted:
    """The hot path (one room, no key): one statement, then its commit."""
    row = _row(request, requester_id)
    try:
        _, seq = _insert_one_raw(sessions, row)
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.ForeignKeyViolation):
            raise NotFound("no such room") from exc
        raise
    return Accepted(row["id"], [(room, seq)])


# A single request's row: its room's accept stripe is locked and the row inserted in one
# statement (the CTE runs first, as the INSERT selects from it), sent as plain SQL: this
# runs for every booking, and SQLAlchemy's statement building would cost more than it.
_INSERT_ONE = """
WITH locked AS (SELECT pg_advisory_xact_lock(%(namespace)s, %(stripe)s))
INSERT INTO booking_requests
    (id, kind, room_id, requester_id, payload, status, idempotency_key, body_hash)
SELECT %(id)s, %(kind)s, %(room_id)s, %(requester_id)s, %(payload)s, %(status)s,
       %(idempotency_key)s, %(body_hash)s
FROM locked
RETURNING room_id, seq
"""


def _insert_one_params(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "kind": row["kind"].value,
        "status": row["status"].value,
        "payload": Jsonb(row["payload"]),
        "namespace": LOCK_ACCEPT,
        "stripe": accept_stripe(row["room_id"]),
    }


def _insert_one(session: Session, row: dict[str, Any]) -> tuple[uuid.UUID | None, int]:
    params = _insert_one_params(row)
    room_id, seq = session.connection().exec_driver_sql(_INSERT_ONE, params).one()
    return room_id, seq


def _insert_one_raw(sessions: sessionmaker[Session], row: dict[str, Any]) -> tuple[uuid.UUID, int]:
    """_INSERT_ONE and its commit on a pooled psycopg connection, without a Session.

    Every single booking comes this way; the Session's transaction bookkeeping cost
    about a fifth of the API's CPU per booking. psycopg's errors are raised as
    SQLAlchemy's (IntegrityError, OperationalError, ...) like any other statement's, and
    a connection the error broke is dropped from the pool.
    """
    params = _insert_one_params(row)
    engine = sessions.kw["bind"]
    conn = engine.raw_connection()
    try:
        with conn.cursor() as cursor:
            cursor.execute(_INSERT_ONE, params)
            returned = cursor.fetchone()
        conn.commit()
    except psycopg.Error as exc:
        if conn.dbapi_connection is not None and conn.dbapi_connection.broken:
            conn.invalidate(exc)
        raise DBAPIError.instance(_INSERT_ONE, params, exc, psycopg.Error) from exc
    finally:
        conn.close()  # back to the pool, which rolls back anything left open
    assert returned is not None
    return returned[0], returned[1]


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[tuple[uuid.UUID | None, int]]:
    """One multi-row INSERT … RETURNING (room_id, seq)."""
    returned = session.execute(
        insert(BookingRequest).returning(
            BookingRequest.room_id, BookingRequest.seq, sort_by_parameter_order=True
        ),
        rows,
    )
    return [(room_id, seq) for room_id, seq in returned]


def _row(
    request: Payload,
    requester_id: uuid.UUID,
    *,
    parent_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    digest: str | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "kind": request.kind,
        "room_id": request.room_id,
        "requester_id": requester_id,
        "payload": request.to_json(),
        "status": RequestStatus.QUEUED,
        "parent_id": parent_id,
        "idempotency_key": idempotency_key,
        "body_hash": digest if idempotency_key else None,
    }
