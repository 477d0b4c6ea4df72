"""Group commit of single bookings: requests that arrive together share one INSERT and
one COMMIT.

Every thread of a process that stores a single booking hands its row to the process's
GroupInsert. With nothing in flight, the thread stores it at once, alone, as before (no
wait is added). While a batch is being written, rows that arrive queue up; when it has
committed, the first of them leads the next batch, which takes every row queued by then.
So under load a process writes a batch per round trip instead of a row, and a request
waits for at most the batch in flight and its own.

A batch takes the accept stripes of its rooms in ascending order, as every accept does,
then inserts its rows in arrival order: each row's `seq` is taken under its room's
stripe, so the rows of a room commit in seq order, as one at a time would. If the batch
fails on a row (a room deleted meanwhile: a foreign key), each of its rows is stored
again alone, so one bad row fails only its own request.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from models.locks import LOCK_ACCEPT, accept_stripe
from models.services.accept.raw_commit import CommitCutOff, HeldConnection
from models.services.json_rows import json_rows

log = logging.getLogger(__name__)

# Rows are passed as one JSON array (models/services/json_rows.py) and inserted in arrival
# order (n); the stripes are taken first (the aggregate over them is complete before any
# row is produced), in the order given.
_INSERT_MANY = """
WITH locked AS (
    SELECT pg_advisory_xact_lock(%(namespace)s, stripe)
    FROM unnest(%(stripes)s::int[]) WITH ORDINALITY AS s(stripe, n)
    ORDER BY s.n
), held AS (SELECT count(*) AS n FROM locked)
INSERT INTO booking_requests (id, kind, room_id, requester_id, payload, status)
SELECT r.id, r.kind, r.room_id, r.requester_id, r.payload, r.status
FROM held, jsonb_to_recordset(%(rows)s)
    AS r(n int, id uuid, kind text, room_id uuid, requester_id uuid, payload jsonb, status text)
WHERE held.n >= 0
ORDER BY r.n
RETURNING id, room_id, seq
"""

MAX_BATCH = 64  # rows per statement


Execute = Callable[[str, dict[str, Any]], list[Any]]  # a statement that commits itself
# Claims the wake-up markers of (room, seq)s just committed: for each, True (a message is
# now ours to send), False (one is on its way) or None (not claimed: wake claims itself).
Claim = Callable[[Sequence[tuple[uuid.UUID, int | None]]], list[bool | None]]


@dataclass
class _Waiting:
    values: dict[str, Any]
    claim: Claim | None = None
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to lead the next batch, not with a result
    result: tuple[uuid.UUID, int] | None = None
    claimed: bool | None = None
    error: BaseException | None = None


class GroupInsert:
    """One per engine (per process): see the module's docstring."""

    def __init__(
        self,
        engine: Engine,
        insert_one: Callable[[Execute, dict[str, Any]], tuple[uuid.UUID, int]],
        unconfirmed: Callable[[uuid.UUID], Exception],
    ) -> None:
        # Only the leader writes, one batch at a time: one connection serves them all.
        self.held = HeldConnection(engine)
        self.insert_one = insert_one  # a row alone, with its own errors (the fallback)
        self.unconfirmed = unconfirmed  # the error of a row whose COMMIT was cut off
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._busy = False  # a batch is being written
        self.batches = 0  # statements run (tests read it)

    def insert(
        self, values: dict[str, Any], claim: Claim | None = None
    ) -> tuple[uuid.UUID, int, bool | None]:
        """The row's (room, seq) once committed, and what `claim` answered for its room's
        wake-up marker (claimed by the batch's leader, one round trip for the batch)."""
        mine = _Waiting(values, claim)
        with self._lock:
            self._queue.append(mine)
            leading = not self._busy
            self._busy = True
        while not leading:
            mine.done.wait()
            if not mine.lead:
                break
            leading, mine.lead = True, False
            mine.done.clear()
        if leading:
            self._lead()
        if mine.error is not None:
            raise mine.error
        assert mine.result is not None
        return (*mine.result, mine.claimed)

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            self._write(batch)
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].lead = True  # hand over: it takes what queued meanwhile
                    self._queue[0].done.set()
                else:
                    self._busy = False
            self._claim(batch)  # while the next batch is written
            for waiting in batch:
                if waiting.result is None and waiting.error is None:
                    # Broken after the statement ran: stored or not, its task says.
                    waiting.error = self.unconfirmed(waiting.values["id"])
                waiting.done.set()

    def _write(self, batch: list[_Waiting]) -> None:
        if len(batch) == 1:
            self._alone(batch[0])
            return
        try:
            returned = self._insert_many([w.values for w in batch])
        except IntegrityError:
            for waiting in batch:  # one bad row: each alone, with its own answer
                self._alone(waiting)
            return
        except CommitCutOff as cut:
            for waiting in batch:  # stored or not: each request's task says which
                waiting.error = self.unconfirmed(waiting.values["id"])
                waiting.error.__cause__ = cut.__cause__
            return
        except Exception as exc:
            for waiting in batch:
                waiting.error = exc
            return
        self.batches += 1
        for waiting in batch:
            waiting.result = returned[waiting.values["id"]]

    @staticmethod
    def _claim(batch: list[_Waiting]) -> None:
        """Each room's marker once, for its highest seq in the batch, whose request sends
        the message if it is claimed; the room's other requests rely on that one."""
        highest: dict[Claim, dict[uuid.UUID, tuple[int, _Waiting]]] = {}
        for waiting in batch:
            if waiting.result is not None and waiting.claim is not None:
                room_id, seq = waiting.result
                rooms = highest.setdefault(waiting.claim, {})
                if room_id not in rooms or rooms[room_id][0] < seq:
                    rooms[room_id] = (seq, waiting)
        for claim, rooms in highest.items():
            wakes = [(room_id, seq) for room_id, (seq, _) in rooms.items()]
            try:
                answers = claim(wakes)
                for (_, waiting), answer in zip(rooms.values(), answers, strict=True):
                    waiting.claimed = answer
            except Exception:  # never fail a committed row: wake claims again
                log.exception("claiming wake-up markers failed")
                for _, waiting in rooms.values():
                    waiting.claimed = None
        for waiting in batch:
            if waiting.result is not None and waiting.claim is not None:
                room_id, _ = waiting.result
                _, first = highest[waiting.claim][room_id]
                if first is not waiting:  # relies on the message `first` sends
                    waiting.claimed = None if first.claimed is None else False

    def _alone(self, waiting: _Waiting) -> None:
        try:
            waiting.result = self.insert_one(self.held.execute_and_commit, waiting.values)
        except BaseException as exc:
            waiting.error = exc

    def _insert_many(self, rows: list[dict[str, Any]]) -> dict[uuid.UUID, tuple[uuid.UUID, int]]:
        params = {
            "namespace": LOCK_ACCEPT,
            "stripes": sorted({accept_stripe(r["room_id"]) for r in rows}),
            "rows": json_rows(
                [
                    {
                        "n": n,
                        "id": r["id"],
                        "kind": r["kind"].value,
                        "room_id": r["room_id"],
                        "requester_id": r["requester_id"],
                        "payload": r["payload"],
                        "status": r["status"].value,
                    }
                    for n, r in enumerate(rows)
                ]
            ),
        }
        returned = self.held.execute_and_commit(_INSERT_MANY, params)
        return {row_id: (room_id, seq) for row_id, room_id, seq in returned}
