"""Draining a room: hold its Redis lock and decide one bounded batch of its QUEUED requests.

A busy room never blocks a worker: if another decider (or a dead one, until its lock's
TTL passes) holds the room, the message comes back later and the worker moves on to
other rooms. A drain decides one bounded transaction and, if more is queued, wakes the
room again at the back of its queue, so one room's backlog cannot starve the rooms that
share its shard.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import utcnow
from models.locks import ROOM_LOCK_TTL_SECONDS
from models.metrics import DECIDED, DECISION_LATENCY, ROOM_BUSY
from models.services.room_decisions import BATCH_SIZE, Decided, decide_queued
from models.services.wakeups import BUSY, DONE, RoomTurn, RoomWaker

log = logging.getLogger(__name__)


class RoomBusy(Exception):
    """Another decider holds the room's lock: try the room again a little later."""


@dataclass(frozen=True)
class RoomDrain:
    sessions: sessionmaker[Session]
    redis: Redis
    waker: RoomWaker
    on_events: Callable[[], None] | None = None  # a commit wrote outbox events

    def run(self, room_id: uuid.UUID, seq: int | None) -> int:
        """Decide a batch of the room's QUEUED requests; RoomBusy if another drain holds it.

        One transaction per turn: when the batch was full, the room is woken again at the
        back of its queue, so the rooms that share its shard get their turn in between.
        """
        turn = RoomTurn(self.redis, room_id, lock_ttl=ROOM_LOCK_TTL_SECONDS)
        started = turn.start(seq)
        if started == DONE:
            return 0  # a duplicate or late message: its work is done
        if started == BUSY:
            ROOM_BUSY.inc()
            raise RoomBusy(str(room_id))
        decided: Decided | None = None
        try:
            decided = decide_batch(self.sessions, room_id)
        finally:
            # If the lock expired meanwhile, the advisory lock still kept the room serial.
            if decided is None:
                turn.finish(None, failed_seq=seq)
            else:
                turn.finish(decided.last_seq)
        if decided.full:
            self.waker.rewake(room_id, (decided.last_seq or 0) + 1)
        if decided.events and self.on_events is not None:
            self.on_events()
        return decided.count


def decide_batch(sessions: sessionmaker[Session], room_id: uuid.UUID) -> Decided:
    """One transaction's worth; on a refused batch, the same requests one by one."""
    try:
        decided = decide_queued(sessions, room_id, batch_size=BATCH_SIZE)
    except (OperationalError, InterfaceError):
        raise  # the database is away: the task retries the room later
    except Exception:
        # The database refused the batch (a row that bypassed the room's lock, a join-code
        # clash) or a decider broke: decide one by one, so only that request fails.
        log.warning("room %s: batch failed, deciding one by one", room_id, exc_info=True)
        decided = decide_queued(sessions, room_id, batch_size=BATCH_SIZE, careful=True)
    now = utcnow()
    for request_id, kind, outcome, accepted_at in decided.outcomes:  # once committed
        DECIDED.labels(kind, outcome).inc()
        DECISION_LATENCY.observe((now - accepted_at).total_seconds())
        log.info("decided %s request: %s", kind, outcome, extra={"task_id": request_id})
    return decided
