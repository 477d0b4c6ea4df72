"""Storing accepted rows in acceptance order: each row takes its `seq` while the accept
stripes of every room it names are locked, so the rows of a room commit in seq order
(what its decider reads is never overtaken by an earlier seq committing later)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

from psycopg.types.json import Jsonb
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import RequestStatus
from models.errors import Unavailable
from models.locks import LOCK_ACCEPT, accept_stripe
from models.services.accept.group_insert import Claim, Execute, GroupInsert
from models.services.accept.plans import footprint
from models.services.accept.raw_commit import CommitCutOff
from models.services.accept.writes import Row
from models.tables.requests import BookingRequest


class FootprintGrew(Exception):
    """A request on the same subject, committed meanwhile, may move it to a room this row
    does not name: plan the write again."""


def lock_stripes(session: Session, rows: Sequence[Row]) -> None:
    """The accept stripes of every room the rows name, in order (no deadlock), then a
    last look at each subject: its footprint must still be inside the row's rooms."""
    rooms = {room for row in rows for room in row.rooms} | {
        row.room_id for row in rows if row.room_id is not None
    }
    for stripe in sorted({accept_stripe(room) for room in rooms}):
        session.execute(select(func.pg_advisory_xact_lock(LOCK_ACCEPT, stripe)))
    for row in rows:
        if row.subject_id is not None and not footprint(session, row.subject_id) <= row.rooms:
            raise FootprintGrew(str(row.subject_id))


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> list[tuple[uuid.UUID | None, int]]:
    """One multi-row INSERT … RETURNING (room_id, seq)."""
    returned = session.execute(
        insert(BookingRequest).returning(
            BookingRequest.room_id, BookingRequest.seq, sort_by_parameter_order=True
        ),
        rows,
    )
    return [(room_id, seq) for room_id, seq in returned]


def row_values(
    row: Row,
    requester_id: uuid.UUID,
    *,
    parent_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    digest: str | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "kind": row.payload.kind,
        "room_id": row.room_id,
        "rooms": sorted(row.rooms) if len(row.rooms) > 1 else None,
        "subject_id": row.subject_id,
        "requester_id": requester_id,
        "payload": row.payload.to_json(),
        "status": RequestStatus.QUEUED,
        "parent_id": parent_id,
        "idempotency_key": idempotency_key,
        "body_hash": digest if idempotency_key else None,
    }


# A single request's row: its room's accept stripe is locked and the row inserted in one
# statement (the CTE runs first, as the INSERT selects from it), sent as plain SQL: this
# runs for every booking, and SQLAlchemy's statement building would cost more than it.
_INSERT_ONE = """
WITH locked AS (SELECT pg_advisory_xact_lock(%(namespace)s, %(stripe)s))
INSERT INTO booking_requests (id, kind, room_id, requester_id, payload, status)
SELECT %(id)s, %(kind)s, %(room_id)s, %(requester_id)s, %(payload)s, %(status)s
FROM locked
RETURNING room_id, seq
"""


def _unconfirmed(request_id: uuid.UUID) -> Unavailable:
    """The connection broke during COMMIT: the row may be stored (the server may have
    committed it, and a synchronous standby may have it after a failover) or not. The
    client learns which from its task: 404 means it was not stored."""
    return Unavailable(
        "the database went away while storing the request, which may or may not have "
        "been stored: look up its task (404: it was not) or retry with an Idempotency-Key",
        details={"service": "database", "task_id": str(request_id)},
    )


_groups: WeakKeyDictionary[Engine, GroupInsert] = WeakKeyDictionary()  # one per engine
_groups_lock = threading.Lock()


def insert_grouped(
    sessions: sessionmaker[Session], values: dict[str, Any], claim: Claim | None = None
) -> tuple[uuid.UUID, int, bool | None]:
    """A single request's row, in a batch with those of the process's other requests
    arriving at the same moment (models/services/accept/group_insert.py), and what
    `claim` answered for its room's wake-up marker."""
    engine = sessions.kw["bind"]
    group = _groups.get(engine)
    if group is None:
        with _groups_lock:
            group = _groups.get(engine)
            if group is None:
                group = _groups[engine] = GroupInsert(engine, insert_one, _unconfirmed)
    return group.insert(values, claim)


def insert_one(execute: Execute, values: dict[str, Any]) -> tuple[uuid.UUID, int]:
    """_INSERT_ONE, committing itself (models/services/accept/raw_commit.py)."""
    params = {
        "id": values["id"],
        "kind": values["kind"].value,
        "room_id": values["room_id"],
        "requester_id": values["requester_id"],
        "payload": Jsonb(values["payload"]),
        "status": values["status"].value,
        "namespace": LOCK_ACCEPT,
        "stripe": accept_stripe(values["room_id"]),
    }
    try:
        [(room_id, seq)] = execute(_INSERT_ONE, params)
    except CommitCutOff as cut:
        raise _unconfirmed(values["id"]) from cut.__cause__
    return room_id, seq
