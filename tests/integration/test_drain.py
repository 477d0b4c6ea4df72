"""worker/drain.py: a busy room never blocks a worker, and a long backlog takes turns."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from models.domain.payloads import BatchPayload, BookingPayload, SeriesPayload
from models.domain.recurrence import Occurrence
from models.domain.states import ConflictPolicy
from models.locks import room_lock_name
from models.services.accept import accept
from models.services.room_decisions import BATCH_SIZE
from models.services.wakeups import RoomWaker
from tests.helpers import Api, booking_body, future
from worker.drain import RoomDrain


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
        super().__init__(redis, lambda room, seq: self.sent.append((room, seq)))


def test_a_drain_decides_one_batch_then_sends_the_room_to_the_back_of_its_queue(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session], redis: Redis
) -> None:
    """Fairness: one room's backlog is decided a transaction at a time, each turn ending
    with a new wake-up behind whatever other rooms of the shard are waiting."""
    requester = uuid.UUID(api.me(user))
    start = future()
    backlog = [
        BookingPayload(
            uuid.UUID(room), start + timedelta(hours=i), start + timedelta(hours=i, minutes=30), "b"
        )
        for i in range(BATCH_SIZE + 5)
    ]
    # Stored without a wake-up, so only this test's drain decides them.
    accept(sessions, requester_id=requester, request=BatchPayload(len(backlog)), children=backlog)
    waker = RecordingWaker(redis)
    drain = RoomDrain(sessions, redis, waker)

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
    """One booking and four 500-occurrence series: the first turn takes 1,501 occurrences
    (one more series would pass 2,000), and must queue the room's next turn."""
    requester, room_id = uuid.UUID(api.me(user)), uuid.UUID(room)
    start = future()
    single = BookingPayload(room_id, start, start + timedelta(minutes=30), "single")
    series = []
    for k in range(4):
        first = start + timedelta(days=1, hours=k)
        occurrences = tuple(
            Occurrence(first + timedelta(days=i), first + timedelta(days=i, minutes=30))
            for i in range(500)
        )
        booking = BookingPayload(room_id, occurrences[0].start, occurrences[0].end, "series")
        rule = {"freq": "DAILY", "count": 500}
        series.append(
            SeriesPayload(booking, "UTC", rule, ConflictPolicy.ALL_OR_NOTHING, occurrences)
        )
    accept(sessions, requester_id=requester, request=BatchPayload(5), children=[single, *series])
    waker = RecordingWaker(redis)
    drain = RoomDrain(sessions, redis, waker)

    assert drain.run(room_id, None) == 4  # 1 + 3 * 500 occurrences
    assert [r for r, _ in waker.sent] == [room_id]
    assert drain.run(room_id, waker.sent[0][1]) == 1
    assert len(waker.sent) == 1
