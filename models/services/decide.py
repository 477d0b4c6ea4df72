"""Deciding rooms: the one place a request's decision is made, from a decide message to
the commit.

    RoomDrain.run(room, seq)                   a worker's turn at a room (Redis)
      decide_turn(store, rooms, home=room)     one transaction:
        store.lock(rooms)                        the rooms' decide locks, sorted
        store.queued(rooms)                      their oldest QUEUED requests, by seq
        store.load(...)                          what the engine needs
        engine.decide(snapshot, requests)        the pure decision
        store.write(effects); store.record(...)  bookings, outcomes, events; commit

A request is decided only by a decider holding every room it names, after the earlier
requests of each. A turn starts with its own room; when a request there names rooms it
does not hold (a several-rooms booking, a move), the engine leaves it and everything
after it in that room, and the turn takes those rooms too (sorted, so no two deciders
wait on each other) and decides again. The locks and their jobs are in
docs/architecture.md.

All SQL is behind `RoomStore` (models/services/room_store.py on Postgres;
tests/unit/fake_store.py in memory), so this module is tested without a server.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError

from models.domain.engine import (
    Decision,
    Effect,
    Outcome,
    RoomFacts,
    RoomRequest,
    Snapshot,
    decide,
    failed,
    rejected,
    windows,
)
from models.domain.payloads import room_payload_from_json
from models.domain.rules import Refusal
from models.domain.states import RequestKind, utcnow
from models.locks import (
    ROOM_LOCK_TTL_SECONDS,
    decided_through_name,
    room_lock_name,
    wake_marker_name,
)
from models.metrics import DECIDE_STAGE, DECIDED, DECISION_LATENCY, ROOM_BUSY
from models.services.wakeups import DECIDED_TTL_SECONDS, MARKER_TTL_SECONDS, RoomWaker

log = logging.getLogger(__name__)

BATCH_SIZE = 200  # requests per transaction at most
# Occurrences per transaction at most (the first request always goes in, however large):
# keeps one transaction well under a second, so a huge series cannot hold a room's lock
# for long nor starve the rooms that share its worker.
MAX_OCCURRENCES = 2000
# A turn takes at most this many rooms; a request chained to more is left to the
# deciders of its own rooms, which are woken.
MAX_ROOMS = 128


@dataclass(frozen=True)
class QueuedRequest:
    """A QUEUED row as read: its id, place and kind, what it names, and its payload as
    stored (parsed by `parse`)."""

    id: uuid.UUID
    seq: int
    kind: RequestKind
    requester_id: uuid.UUID
    payload: dict[str, Any]
    room_id: uuid.UUID
    rooms: frozenset[uuid.UUID] | None = None
    parent_id: uuid.UUID | None = None
    accepted_at: datetime | None = None
    requester_is_admin: bool = False
    requeued: bool = False  # a waiter put back in the queue


class RoomTx(Protocol):
    """One transaction of the store, as `decide_turn` uses it."""

    hooked: bool  # a webhook is active (read with the queue): outcomes write events

    def now(self) -> datetime: ...
    def connected(self, rooms: Sequence[uuid.UUID], cap: int) -> set[uuid.UUID]: ...
    def lock(self, rooms: Sequence[uuid.UUID]) -> dict[uuid.UUID, RoomFacts]: ...
    def queued(self, rooms: Sequence[uuid.UUID], limit: int) -> list[QueuedRequest]: ...
    def load(
        self, facts: dict[uuid.UUID, RoomFacts], requests: Sequence[RoomRequest], now: datetime
    ) -> Snapshot: ...
    def write(self, effects: Sequence[Effect], now: datetime) -> None: ...
    def record(self, outcomes: Sequence[Outcome], now: datetime) -> int: ...
    def finish_batches(self, parent_ids: set[uuid.UUID], now: datetime) -> int: ...
    def attempt(self) -> AbstractContextManager[None]: ...


class RoomStore(Protocol):
    def transaction(self, *, careful: bool = False) -> AbstractContextManager[RoomTx]: ...


class Overlap(Exception):
    """The database refused a request's writes: they would overlap a held booking."""


class WriteRefused(Exception):
    """The database refused a request's writes for another reason (a constraint)."""


@dataclass(frozen=True)
class Turn:
    """What one transaction decided, for the drain's metrics and wake-ups."""

    count: int = 0
    # (request id, kind, status, accepted_at) of each request decided, for logs and metrics
    outcomes: list[tuple[uuid.UUID, str, str, datetime | None]] = field(default_factory=list)
    full: bool = False  # the batch was cut by a limit: more may be QUEUED
    events: int = 0  # outbox rows written: the webhook dispatcher has work
    rooms: frozenset[uuid.UUID] = frozenset()  # the rooms it held
    # room -> every request naming it up to this seq is decided (where the turn knows)
    through: dict[uuid.UUID, int] = field(default_factory=dict)
    needs: frozenset[uuid.UUID] = frozenset()  # rooms to take for the home room to go on
    left: frozenset[uuid.UUID] = frozenset()  # held rooms whose queue was not emptied
    locked_at: float = 0.0  # time.time() once the rooms' locks were held
    written_at: float = 0.0  # ... once every outcome was written, before the commit


def parse(rows: Sequence[QueuedRequest]) -> tuple[list[RoomRequest], list[Outcome]]:
    """The rows as typed requests; a row that cannot be read is FAILED, never retried."""
    requests: list[RoomRequest] = []
    unreadable: list[Outcome] = []
    for row in rows:
        try:
            payload = room_payload_from_json(row.kind, row.payload, row.room_id)
        except Exception:  # whatever is wrong with it, it must not jam its rooms
            log.exception("request %s has an unreadable payload", row.id)
            unreadable.append(failed(row.id, "the request could not be decided"))
            continue
        requests.append(
            RoomRequest(
                row.id,
                row.seq,
                row.requester_id,
                payload,
                row.requester_is_admin,
                row.rooms or frozenset({row.room_id}),
                row.requeued,
            )
        )
    return requests, unreadable


def _weighed(rows: list[QueuedRequest]) -> tuple[list[QueuedRequest], bool]:
    """The rows cut to MAX_OCCURRENCES occurrences (the first always stays); whether
    any were cut."""
    kept: list[QueuedRequest] = []
    weight = 0
    for row in rows:
        occurrences = row.payload.get("occurrences") if isinstance(row.payload, dict) else None
        weight += len(occurrences) if isinstance(occurrences, list) and occurrences else 1
        if kept and weight > MAX_OCCURRENCES:
            return kept, True
        kept.append(row)
    return kept, False


def decide_turn(
    store: RoomStore,
    rooms: Sequence[uuid.UUID],
    *,
    home: uuid.UUID,
    batch_size: int = BATCH_SIZE,
    careful: bool = False,
    widen: bool = False,
) -> Turn:
    """Decide the oldest QUEUED requests of the rooms in one transaction.

    With widen, it takes too every room the rooms' QUEUED several-rooms requests connect
    them to (up to MAX_ROOMS): a room whose queue interleaves with others' is decided
    with them, a batch at a time, instead of a room more per transaction.

    The fast path decides the batch in memory and writes it with one statement per run
    of effects. If the database refuses that (a row that bypassed the rooms' locks, a
    join-code clash), call again with careful=True: one savepoint per request, each
    against the database's current state, so one bad request is refused or failed alone.
    """
    with store.transaction(careful=careful) as tx:
        if widen:
            rooms = [*rooms, *tx.connected(rooms, MAX_ROOMS)]
        rooms = sorted(set(rooms))
        facts = tx.lock(rooms)
        locked_at = time.time()
        found = tx.queued(rooms, batch_size)
        if not found:
            return Turn(rooms=frozenset(rooms))
        rows, cut = _weighed(found)
        now = tx.now()
        requests, unreadable = parse(rows)
        if careful:
            events = tx.record(unreadable, now)
            decision = Decision()
            for request in requests:
                events += _decide_alone(tx, facts, request, now, decision)
        else:
            snapshot = tx.load(facts, requests, now)
            decision = decide(snapshot, requests, now=now)
            tx.write([e for o in decision.outcomes for e in o.effects], now)
            events = tx.record([*unreadable, *decision.outcomes], now)
        decided = {o.request_id: o for o in [*unreadable, *decision.outcomes]}
        parents = {r.parent_id for r in rows if r.parent_id and r.id in decided}
        events += tx.finish_batches(parents, now)
        written_at = time.time()
    full = len(found) == batch_size or cut
    report = [
        (r.id, r.kind.value, decided[r.id].status.value, r.accepted_at)
        for r in rows
        if r.id in decided
    ]
    blocked = decision.blocked
    return Turn(
        count=len(report),
        outcomes=report,
        full=full,
        events=events,
        rooms=frozenset(rooms),
        through=_through(rows, rooms, blocked),
        needs=frozenset(decision.needs(home) - set(rooms)),
        left=frozenset(blocked) | (frozenset(rooms) if full else frozenset()),
        locked_at=locked_at,
        written_at=written_at,
    )


def _through(
    rows: Sequence[QueuedRequest], rooms: Sequence[uuid.UUID], blocked: dict[uuid.UUID, int]
) -> dict[uuid.UUID, int]:
    """How far each room is decided. A room's requests commit in seq order (its accept
    stripe), so those the turn read are all of it up to the last it read; a blocked
    room is decided up to its first request left."""
    named: dict[uuid.UUID, int] = {}
    for row in rows:
        for room in row.rooms or (row.room_id,):
            named[room] = max(named.get(room, row.seq), row.seq)
    return {
        room: blocked[room] - 1 if room in blocked else named[room]
        for room in rooms
        if room in blocked or room in named
    }


def _decide_alone(
    tx: RoomTx,
    facts: dict[uuid.UUID, RoomFacts],
    request: RoomRequest,
    now: datetime,
    decision: Decision,
) -> int:
    """Decide one request (and the waiters it may free) in its own savepoint, against the
    database's current state, and record it; its events. If the savepoint is undone,
    the refusal (or fault) alone is recorded."""
    total = len(windows(request.payload)) or 1
    before = len(decision.outcomes)
    try:
        with tx.attempt():
            snapshot = tx.load(facts, [request], now)
            decide(snapshot, [request], now=now, decision=decision)
            mine = decision.outcomes[before:]
            tx.write([e for o in mine for e in o.effects], now)
            return tx.record(mine, now)
    except Overlap:
        refused = rejected(
            request, Refusal("CONFLICT", "the room is already booked in that window"), total=total
        )
    except WriteRefused:
        log.exception("request %s refused by the database", request.id)
        refused = failed(request.id, "the database refused the write", total=total)
    except (OperationalError, InterfaceError):
        raise  # the database is away, not the request at fault: the whole turn retries
    except Exception:
        # A request that breaks its decider must not block its rooms forever: it is
        # recorded as FAILED (a fault, not a business outcome) and logged with its trace.
        log.exception("request %s could not be decided", request.id)
        refused = failed(request.id, "the request could not be decided", total=total)
    del decision.outcomes[before:]
    decision.outcomes.append(refused)
    return tx.record([refused], now)


class RoomBusy(Exception):
    """Another decider holds the room's lock: try the room again a little later."""


# A drain's Redis work in two round trips: one script to start (skip a message whose
# work is done, take the room's lock, clear the marker), one to finish.
_START = """
if ARGV[1] ~= '' then
  local through = redis.call('GET', KEYS[1])
  local ours = redis.call('GET', KEYS[2]) == ARGV[1]
  if through and tonumber(through) >= tonumber(ARGV[1]) and not ours then
    return 0
  end
end
if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then
  redis.call('DEL', KEYS[2])
  return 1
end
return 2
"""
_FINISH = """
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
end
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[3], ARGV[4], 'NX', 'EX', ARGV[5])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1
"""
DONE, STARTED, BUSY = 0, 1, 2
# Raise each key to its value (never lower it: another turn may know more).
_RAISE = """
for i, key in ipairs(KEYS) do
  local known = redis.call('GET', key)
  if not known or tonumber(known) < tonumber(ARGV[i]) then
    redis.call('SET', key, ARGV[i], 'EX', ARGV[#ARGV])
  end
end
return 1
"""


def decided_through(redis: Redis, through: dict[uuid.UUID, int]) -> None:
    """Record how far rooms other than the drain's own are decided (a turn that held
    them decided their requests too): their later messages for that work are dropped
    without a query. Best effort: a lost record costs one empty transaction."""
    keys = [decided_through_name(room) for room in through]
    with suppress(RedisError):
        redis.eval(
            _RAISE, len(keys), *keys, *[str(s) for s in through.values()], DECIDED_TTL_SECONDS
        )


class RoomTurn:
    """One drain's claim on a room, in Redis: its lock, its marker, how far it decided."""

    def __init__(self, redis: Redis, room_id: uuid.UUID, *, lock_ttl: float) -> None:
        self.redis = redis
        self.room_id = room_id
        self.lock_ttl_ms = int(lock_ttl * 1000)
        self.token = uuid.uuid4().hex

    def start(self, seq: int | None) -> int:
        """DONE, STARTED or BUSY.

        DONE: the room is decided through `seq` and the marker is not this message's
        own, so the message has nothing left to do (requests that found the marker set
        rely on the message that set it: that one always drains). STARTED: the room's
        lock is ours and its marker cleared, before the drain reads the QUEUED rows.
        BUSY: another drain (or a dead one, until its lock expires) holds the room.
        """
        keys = [
            decided_through_name(self.room_id),
            wake_marker_name(self.room_id),
            room_lock_name(self.room_id),
        ]
        args = ["" if seq is None else str(seq), self.token, str(self.lock_ttl_ms)]
        return int(cast(str, self.redis.eval(_START, 3, *keys, *args)))

    def finish(self, last_seq: int | None, *, failed_seq: int | None = None) -> None:
        """Record how far the room is decided and release its lock, if still ours.

        A drain that failed (its transaction rolled back) puts its message's marker back
        first, so the message's retry is not taken for a duplicate: requests that relied
        on that marker are still QUEUED.
        """
        keys = [
            room_lock_name(self.room_id),
            decided_through_name(self.room_id),
            wake_marker_name(self.room_id),
        ]
        args = [
            self.token,
            "" if last_seq is None else str(last_seq),
            str(DECIDED_TTL_SECONDS),
            "" if failed_seq is None else str(failed_seq),
            str(MARKER_TTL_SECONDS),
        ]
        self.redis.eval(_FINISH, 3, *keys, *args)


@dataclass(frozen=True)
class RoomDrain:
    """A worker's turn at a room: hold its Redis lock, decide a bounded batch (taking the
    rooms its requests name too), record how far the room is decided, wake what is left.

    A busy room never blocks a worker: if another drain (or a dead one, until its lock's
    TTL passes) holds the room, RoomBusy says to come back later, and the worker serves
    other rooms meanwhile. One batch per turn: when it was full, the room is woken again
    at the back of its queue, so one room's backlog cannot starve the rooms that share
    its shard.
    """

    store: RoomStore
    redis: Redis
    waker: RoomWaker
    on_events: Callable[[], None] | None = None  # a commit wrote outbox events

    def run(
        self,
        room_id: uuid.UUID,
        seq: int | None,
        rooms: Sequence[uuid.UUID] = (),
        *,
        sent_at: float | None = None,
    ) -> int:
        """`rooms`: the rooms the room's last turn held (a full batch of several rooms'
        queues goes on with them all, rather than rediscover them a room at a time).
        `sent_at`: when the message was sent (its time in the broker is measured)."""
        picked_at = time.time()
        if sent_at is not None:
            DECIDE_STAGE.labels("broker").observe(max(0.0, picked_at - sent_at))
        turn = RoomTurn(self.redis, room_id, lock_ttl=ROOM_LOCK_TTL_SECONDS)
        started = turn.start(seq)
        if started == DONE:
            return 0  # a duplicate or late message: its work is done
        if started == BUSY:
            ROOM_BUSY.inc()
            raise RoomBusy(str(room_id))
        done: Drained | None = None
        try:
            done = drain_room(self.store, room_id, also=rooms, picked_at=picked_at)
        finally:
            # If the lock expired meanwhile, the advisory locks still kept the rooms serial.
            through = done.last.through if done else {}
            turn.finish(through.get(room_id), failed_seq=None if done else seq)
        assert done is not None
        last = done.last
        others = {room: seq for room, seq in last.through.items() if room != room_id}
        if others:
            decided_through(self.redis, others)
        if last.full:
            held = sorted(last.rooms - {room_id})
            self.waker.rewake(room_id, last.through.get(room_id, 0) + 1, held)
        for other in sorted(done.wake - last.rooms if last.full else done.wake - {room_id}):
            self.waker.rewake(other, None)
        if done.events and self.on_events is not None:
            self.on_events()
        return done.decided


@dataclass(frozen=True)
class Drained:
    """A room's turn: the requests decided, the events written, its last transaction, and
    the other rooms to wake (left with work, or left to their own deciders)."""

    decided: int
    events: int
    last: Turn
    wake: frozenset[uuid.UUID]


# Transactions in one turn at most: the room's own, the rooms its queue connects it to,
# and what those turned out to need (a request accepted meanwhile).
MAX_TRANSACTIONS = 4


def drain_room(
    store: RoomStore,
    room_id: uuid.UUID,
    *,
    also: Sequence[uuid.UUID] = (),
    batch_size: int = BATCH_SIZE,
    picked_at: float | None = None,
) -> Drained:
    """Decide a batch of the room's queue (with the rooms `also` names). While a request
    there names rooms not held, take them too, with every room the queues connect them
    to, and decide again (up to MAX_ROOMS), so the room goes on. The rooms it left work
    in, and those it could not take, are to be woken."""
    rooms, decided, events, widen = sorted({room_id, *also}), 0, 0, False
    for _ in range(MAX_TRANSACTIONS):
        last = decide_batch(
            store, rooms, home=room_id, batch_size=batch_size, widen=widen, picked_at=picked_at
        )
        decided, events = decided + last.count, events + last.events
        grown = last.needs - last.rooms
        if not grown or len(last.rooms) + len(grown) > MAX_ROOMS:
            break
        rooms, widen = sorted(last.rooms | grown), True
    return Drained(decided, events, last, last.left | grown)


def decide_batch(
    store: RoomStore,
    rooms: Sequence[uuid.UUID],
    *,
    home: uuid.UUID,
    batch_size: int = BATCH_SIZE,
    widen: bool = False,
    picked_at: float | None = None,
) -> Turn:
    """One transaction's worth; on a refused batch, the same requests one by one.
    `picked_at`: when the worker took the message (the stages are measured from it)."""
    try:
        turn = decide_turn(store, rooms, home=home, batch_size=batch_size, widen=widen)
    except (OperationalError, InterfaceError):
        raise  # the database is away: the task retries the room later
    except Exception:
        # The database refused the batch (a row that bypassed the rooms' locks, a
        # join-code clash) or a decider broke: decide one by one, so only that one fails.
        log.warning("rooms %s: batch failed, deciding one by one", rooms, exc_info=True)
        turn = decide_turn(
            store, rooms, home=home, batch_size=batch_size, careful=True, widen=widen
        )
    now = utcnow()
    committed_at = now.timestamp()
    for request_id, kind, outcome, accepted_at in turn.outcomes:  # once committed
        DECIDED.labels(kind, outcome).inc()
        if accepted_at is not None:
            DECISION_LATENCY.observe((now - accepted_at).total_seconds())
            if picked_at is not None and turn.locked_at:
                _observe_stages(accepted_at.timestamp(), picked_at, turn, committed_at)
        log.info("decided %s request: %s", kind, outcome, extra={"task_id": request_id})
    return turn


def _observe_stages(accepted_at: float, picked_at: float, turn: Turn, committed_at: float) -> None:
    """A decided request's time to decision, by stage (models/metrics.DECIDE_STAGE)."""
    stages = (
        ("queued", picked_at - accepted_at),
        ("lock", turn.locked_at - picked_at),
        ("decide", turn.written_at - turn.locked_at),
        ("commit", committed_at - turn.written_at),
    )
    for stage, seconds in stages:
        DECIDE_STAGE.labels(stage).observe(max(0.0, seconds))
