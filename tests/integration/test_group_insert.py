"""Group commit of single bookings (models/services/accept/group_insert.py), on the real
database: rows that queue while a batch is written go out together, in arrival order,
each under its room's accept stripe; a bad row fails only its own request.

A batch is made to queue deterministically: another connection holds a room's accept
stripe, so the first insert waits on it while the others queue behind it."""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.db import IDLE_PING_SECONDS
from models.domain.booking_input import booking_payload
from models.domain.states import utcnow
from models.errors import Unavailable
from models.locks import LOCK_ACCEPT, accept_stripe
from models.services.accept.group_insert import Claim, GroupInsert
from models.services.accept.rows import _unconfirmed, insert_one, row_values
from models.services.accept.writes import Row
from models.tables import BookingRequest
from tests.helpers import Api, future, wait_until
from tests.services import libpq


def values_for(room_id: str, requester: uuid.UUID, hours: int) -> dict[str, Any]:
    start = future(hours=hours)
    body = {
        "room_id": uuid.UUID(room_id),
        "start_time": start,
        "end_time": start + timedelta(minutes=30),
        "title": "Grouped",
    }
    payload = booking_payload(body, now=utcnow())
    return row_values(Row(payload, payload.room_id), requester)


@pytest.fixture
def group(sessions: sessionmaker[Session]) -> Iterator[GroupInsert]:
    engine = sessions.kw["bind"]
    group = GroupInsert(engine, insert_one, _unconfirmed)
    yield group
    group.held.close()


@pytest.fixture
def stored(sessions: sessionmaker[Session]) -> Iterator[list[uuid.UUID]]:
    """Ids this test stored QUEUED without waking anyone: removed at the end."""
    ids: list[uuid.UUID] = []
    yield ids
    with sessions.begin() as session:
        session.execute(delete(BookingRequest).where(BookingRequest.id.in_(ids)))


def run_queued(
    group: GroupInsert,
    rows: list[dict[str, Any]],
    database: str,
    blocked_room: str,
    claim: Claim | None = None,
) -> dict[uuid.UUID, Any]:
    """Insert `rows` from a thread each while the first room's stripe is held elsewhere;
    let go once all but the first have queued. Each row's result or error."""
    answers: dict[uuid.UUID, Any] = {}

    def insert(row: dict[str, Any]) -> None:
        try:
            answers[row["id"]] = group.insert(row, claim)
        except Exception as exc:  # the test reads it
            answers[row["id"]] = exc

    with psycopg.connect(libpq(database)) as holder:
        holder.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_ACCEPT, accept_stripe(blocked_room))
        )
        threads = [threading.Thread(target=insert, args=(row,)) for row in rows]
        threads[0].start()
        wait_until(lambda: group._busy, 10, "the first insert to lead")
        for thread in threads[1:]:
            thread.start()
        wait_until(lambda: len(group._queue) == len(rows) - 1, 10, "the others to queue")
        holder.rollback()  # the stripe is free: the first row commits, the rest follow
    for thread in threads:
        thread.join(timeout=30)
    return answers


def test_rows_that_queue_go_out_in_one_batch_in_arrival_order(
    group: GroupInsert,
    make_room: Callable[..., str],
    api: Api,
    user: dict[str, str],
    sessions: sessionmaker[Session],
    database: str,
    stored: list[uuid.UUID],
) -> None:
    requester = uuid.UUID(api.me(user))
    first, second = make_room(), make_room()
    rows = [values_for(first, requester, 30)]
    rows += [values_for(second if i % 2 else first, requester, 31 + i) for i in range(8)]
    stored.extend(row["id"] for row in rows)

    answers = run_queued(group, rows, database, first)

    assert group.batches == 1  # the first alone, then the eight queued behind it together
    seqs = {row_id: answer[1] for row_id, answer in answers.items()}
    assert all(isinstance(answer, tuple) for answer in answers.values()), answers
    order = [row["id"] for row in rows]
    assert sorted(order, key=seqs.__getitem__) == order  # arrival order is seq order
    with sessions() as session:
        found = session.scalars(select(BookingRequest.id).where(BookingRequest.id.in_(order)))
        assert set(found) == set(order)


def test_a_bad_row_fails_only_its_own_request(
    group: GroupInsert,
    room: str,
    api: Api,
    user: dict[str, str],
    sessions: sessionmaker[Session],
    database: str,
    stored: list[uuid.UUID],
) -> None:
    requester = uuid.UUID(api.me(user))
    rows = [values_for(room, requester, 40 + i) for i in range(4)]
    rows[2]["room_id"] = uuid.uuid4()  # no such room: a foreign key violation
    stored.extend(row["id"] for row in rows)

    answers = run_queued(group, rows, database, room)

    assert isinstance(answers[rows[2]["id"]], IntegrityError)
    good = [row["id"] for i, row in enumerate(rows) if i != 2]
    assert all(isinstance(answers[row_id], tuple) for row_id in good), answers
    with sessions() as session:
        found = set(session.scalars(select(BookingRequest.id).where(BookingRequest.id.in_(good))))
    assert found == set(good)


def terminate_held(group: GroupInsert, database: str) -> None:
    """End the server side of the connection the group keeps (a restart, a failover)."""
    held = group.held._conn
    assert held is not None
    pid = held.info.backend_pid
    with psycopg.connect(libpq(database), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def after_a_lost_connection(
    group: GroupInsert,
    room: str,
    requester: uuid.UUID,
    database: str,
    hours: int,
    stored: list[uuid.UUID],
) -> list[dict[str, Any]]:
    """One row stored through the group, then the server side of its kept connection
    ended; two more rows, not stored yet."""
    first, *rows = [values_for(room, requester, hours + i) for i in range(3)]
    stored.extend(row["id"] for row in [first, *rows])
    group.insert(first)
    terminate_held(group, database)
    return rows


def test_a_kept_connection_idle_past_the_ping_interval_is_checked_again_first(
    group: GroupInsert,
    room: str,
    api: Api,
    user: dict[str, str],
    database: str,
    stored: list[uuid.UUID],
) -> None:
    """The group keeps its connection between batches; one idle for a while is pinged
    first and replaced if the server dropped it: the first booking after a database
    restart is stored, not failed."""
    rows = after_a_lost_connection(group, room, uuid.UUID(api.me(user)), database, 50, stored)
    group.held._used -= IDLE_PING_SECONDS + 1  # idle that long

    room_id, seq, claimed = group.insert(rows[0])

    assert str(room_id) == room and seq > 0 and claimed is None  # no claim asked for


def test_a_connection_broken_under_a_statement_is_never_used_again(
    group: GroupInsert,
    room: str,
    api: Api,
    user: dict[str, str],
    database: str,
    stored: list[uuid.UUID],
) -> None:
    """Broken while in use (no idle time to notice it first): that request is answered
    503 naming its task, and the next one gets a fresh connection."""
    rows = after_a_lost_connection(group, room, uuid.UUID(api.me(user)), database, 60, stored)

    with pytest.raises(Unavailable) as cut:
        group.insert(rows[0])
    assert cut.value.details == {"service": "database", "task_id": str(rows[0]["id"])}
    room_id, _, _ = group.insert(rows[1])
    assert str(room_id) == room


def test_a_batch_claims_each_rooms_wake_up_once_for_its_last_row(
    group: GroupInsert,
    make_room: Callable[..., str],
    api: Api,
    user: dict[str, str],
    database: str,
    stored: list[uuid.UUID],
) -> None:
    """Its leader claims the markers of the batch's rooms in one call, each room once with
    its highest seq: that row's request sends the message if the marker is claimed, and
    the room's other requests rely on it."""
    requester = uuid.UUID(api.me(user))
    first, second, third = make_room(), make_room(), make_room()
    rows = [values_for(first, requester, 70)]
    rows += [values_for(room, requester, 71 + i) for i, room in enumerate([second] * 3 + [third])]
    stored.extend(row["id"] for row in rows)
    calls: list[list[tuple[uuid.UUID, int | None]]] = []

    def claim(wakes: Sequence[tuple[uuid.UUID, int | None]]) -> list[bool | None]:
        calls.append(list(wakes))
        return [room_id != uuid.UUID(third) for room_id, _ in wakes]  # third: one pending

    answers = run_queued(group, rows, database, first, claim)

    assert len(calls) == 2  # the first row alone, then the four queued behind it
    seq = {row["id"]: answers[row["id"]][1] for row in rows}
    assert calls[1] == [
        (uuid.UUID(second), seq[rows[3]["id"]]),
        (uuid.UUID(third), seq[rows[4]["id"]]),
    ]
    claimed = [answers[row["id"]][2] for row in rows]
    assert claimed == [True, False, False, True, False]


def test_the_connection_a_group_keeps_in_autocommit_never_reaches_the_pool(
    sessions: sessionmaker[Session],
    room: str,
    api: Api,
    user: dict[str, str],
    stored: list[uuid.UUID],
) -> None:
    """Its connection is the group's alone: a Session given one in autocommit would lose
    its row locks and transaction-scoped advisory locks at each statement's end (a closed
    ticket moved again, a periodic job run twice). Nothing of it goes back to the pool,
    not even when the group itself is dropped."""
    engine = sessions.kw["bind"]
    group = GroupInsert(engine, insert_one, _unconfirmed)
    row = values_for(room, uuid.UUID(api.me(user)), 80)
    stored.append(row["id"])
    group.insert(row)
    del group
    gc.collect()

    taken = [engine.raw_connection() for _ in range(engine.pool.size() + 2)]
    try:
        assert not any(conn.dbapi_connection.autocommit for conn in taken)  # type: ignore[union-attr]
    finally:
        for conn in taken:
            conn.close()
