"""models/services/decide.RoomDrain: a busy room never blocks a worker, and a long backlog
takes turns."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from models.locks import room_lock_name
from models.services.accept import NewBatch
from models.services.decide import BATCH_SIZE, RoomDrain
from models.services.room_store import PgRoomStore
from models.services.wakeups import RoomWaker
from tests.helpers import Api, booking_body, future, stored


def test_rooms_held_by_a_dead_worker_do_not_hold_up_other_rooms(
    api: Api,
    user: dict[str, str],
    make_room: Callable[..., str],
    redis: Redis,
    worker: object,
) -> None:
    """A SIGKILLed worker leaves its rooms' locks until their TTL passes; the pool's
    processes must serve every other room meanwhile, not wait on the held ones."""
    held = [make_room() for _ in range(2)]  # as many as the worker has pool processes
    others = [make_room() for _ in range(6)]
    for room in held:
        redis.set(room_lock_name(room), "a-dead-workers-token", px=120_000)
    try:
        stuck = [api.book(user, booking_body(room, future())) for room in held]
        free = [api.book(user, booking_body(room, future())) for room in others]
        # Far less than the old 10 s lock wait, far more than a decision takes.
        decided = [api.wait_task(user, task, timeout=5)["status"] for task in free]
        assert decided == ["SUCCEEDED"] * len(others)
        assert [api.task(user, task)["status"] for task in stuck] == ["QUEUED"] * len(held)
    finally:
        for room in held:
            redis.delete(room_lock_name(room))
    assert [api.wait_task(user, task)["status"] for task in stuck] == ["SUCCEEDED"] * len(held)


class RecordingWaker(RoomWaker):
    def __init__(self, redis: Redis) -> None:
        self.sent: list[tuple[uuid.UUID, int | None]] = []
        super().__init__(redis, lambda room, seq, rooms: self.sent.append((room, seq)))


def test_a_drain_decides_one_batch_then_sends_the_room_to_the_back_of_its_queue(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session], redis: Redis
) -> None:
    """Fairness: one room's backlog is decided a transaction at a time, each turn ending
    with a new wake-up behind whatever other rooms of the shard are waiting."""
    start = future()
    backlog = [booking_body(room, start + timedelta(hours=i), 30) for i in range(BATCH_SIZE + 5)]
    # Stored without a wake-up, so only this test's drain decides them.
    stored(sessions, api.principal(user), NewBatch(backlog))
    waker = RecordingWaker(redis)
    drain = RoomDrain(PgRoomStore(sessions), redis, waker)

    first = drain.run(uuid.UUID(room), None)
    assert first == BATCH_SIZE
    assert [r for r, _ in waker.sent] == [uuid.UUID(room)]  # its next turn is queued

    second = drain.run(uuid.UUID(room), waker.sent[0][1])
    assert second == 5
    assert len(waker.sent) == 1  # nothing left: no further turn
    assert drain.run(uuid.UUID(room), waker.sent[0][1]) == 0  # a late duplicate: no work


def test_a_batch_cut_by_its_occurrences_wakes_the_room_again(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session], redis: Redis
) -> None:
    """One booking and six 360-occurrence series: the first turn takes 1,801 occurrences
    (one more series would pass 2,000), and must queue the room's next turn."""
    room_id = uuid.UUID(room)
    start = future()
    series = [
        {
            **booking_body(room, start + timedelta(days=1, hours=k), 30),
            "recurrence": {"freq": "DAILY", "count": 360},
        }
        for k in range(6)
    ]
    stored(sessions, api.principal(user), NewBatch([booking_body(room, start, 30), *series]))
    waker = RecordingWaker(redis)
    drain = RoomDrain(PgRoomStore(sessions), redis, waker)

    assert drain.run(room_id, None) == 6  # 1 + 5 * 360 occurrences
    assert [r for r, _ in waker.sent] == [room_id]
    assert drain.run(room_id, waker.sent[0][1]) == 1
    assert len(waker.sent) == 1
