"""models/services/wakeups.py: which decide messages may be dropped, with a real Redis."""

from __future__ import annotations

import time
import uuid

from redis import Redis

from models.locks import decided_through_name, wake_marker_name
from models.services.decide import BUSY, DONE, STARTED, RoomTurn
from models.services.wakeups import BackgroundWaker, RoomWaker


def test_a_message_whose_work_is_done_is_dropped_but_one_relied_on_is_not(redis: Redis) -> None:
    room = uuid.uuid4()
    redis.set(decided_through_name(room), 10)

    assert RoomTurn(redis, room, lock_ttl=15).start(9) == DONE  # a late duplicate
    redis.set(wake_marker_name(room), 10)  # M(10) set the marker: later requests rely on it
    turn = RoomTurn(redis, room, lock_ttl=15)
    assert turn.start(10) == STARTED
    assert redis.get(wake_marker_name(room)) is None  # cleared before the drain reads
    assert RoomTurn(redis, room, lock_ttl=15).start(None) == BUSY
    turn.finish(12)
    assert int(redis.get(decided_through_name(room)) or 0) == 12
    assert RoomTurn(redis, room, lock_ttl=15).start(11) == DONE


def test_the_retry_of_a_failed_drain_is_not_taken_for_a_duplicate(redis: Redis) -> None:
    """M(10) cleared its marker, then its transaction failed: requests 11, 12 … that found
    the marker set are still QUEUED and rely on M(10)'s retry."""
    room = uuid.uuid4()
    redis.set(decided_through_name(room), 10)  # an earlier drain decided request 10 itself
    redis.set(wake_marker_name(room), 10)
    first = RoomTurn(redis, room, lock_ttl=15)
    assert first.start(10) == STARTED
    first.finish(None, failed_seq=10)  # rolled back

    assert RoomTurn(redis, room, lock_ttl=15).start(10) == STARTED


def unreachable_redis() -> Redis:
    """A client of a Redis that refuses every connection at once."""
    return Redis(host="127.0.0.1", port=1, socket_timeout=0.5, socket_connect_timeout=0.5)


class Published:
    """A broker stand-in recording what the waker publishes (the publish is the
    boundary here; the real broker is the pipeline suites')."""

    def __init__(self) -> None:
        self.sent: list[tuple[uuid.UUID, int | None]] = []

    def __call__(self, room: uuid.UUID, seq: int | None, rooms: object) -> None:
        self.sent.append((room, seq))


def test_a_request_thread_sets_the_marker_and_only_the_publish_is_handed_over(
    redis: Redis,
) -> None:
    published = Published()
    waker = BackgroundWaker(RoomWaker(redis, published))
    room = uuid.uuid4()

    assert waker.wake(room, 7)
    assert redis.get(wake_marker_name(room)) == b"7"  # set before wake() returned
    assert waker.flush()
    assert published.sent == [(room, 7)]
    waker.wake(room, 8)  # the marker is there: the message on its way covers request 8
    waker.wake(room, 9)
    assert waker.flush()
    assert published.sent == [(room, 7)]
    redis.delete(wake_marker_name(room))  # its drain began
    waker.wake(room, 10)
    assert waker.flush()
    assert published.sent == [(room, 7), (room, 10)]


def test_without_redis_wake_ups_go_to_the_background_and_are_published_anyway() -> None:
    published = Published()
    gone = unreachable_redis()
    waker = BackgroundWaker(RoomWaker(gone, published))
    rooms = [uuid.uuid4() for _ in range(3)]

    started = time.monotonic()
    for room in rooms:
        assert waker.wake(room, 1)
    assert time.monotonic() - started < 2  # refused at once; after that not asked inline
    assert waker._away_until > time.monotonic()
    assert waker.flush(timeout=10)
    assert sorted(published.sent) == sorted((room, 1) for room in rooms)


def test_a_wake_up_dropped_for_a_backlog_takes_its_marker_back(redis: Redis) -> None:
    """Wake-ups backed up past max_pending are left to the sweeper; a marker set for one
    would make later requests rely on a message that never goes, so it is deleted."""
    published = Published()
    waker = BackgroundWaker(RoomWaker(redis, published), max_pending=0)
    room = uuid.uuid4()

    assert not waker.wake(room, 3)
    assert redis.get(wake_marker_name(room)) is None
    assert waker.flush()
    assert published.sent == []


def test_a_batch_claims_its_rooms_markers_in_one_go_and_only_claimed_ones_publish(
    redis: Redis,
) -> None:
    """A group insert's leader claims the markers of its batch's rooms at once; the
    requests then only publish where their room's marker was theirs."""
    published = Published()
    waker = BackgroundWaker(RoomWaker(redis, published))
    free, pending = uuid.uuid4(), uuid.uuid4()
    redis.set(wake_marker_name(pending), 4)  # a message is on its way to this one

    assert waker.claim_many([(free, 5), (pending, 6)]) == [True, False]
    assert redis.get(wake_marker_name(free)) == b"5"
    assert waker.wake(free, 5, True)
    assert waker.wake(pending, 6, False)
    assert waker.flush()
    assert published.sent == [(free, 5)]


def test_without_redis_a_batch_claims_nothing_and_its_wake_ups_still_go_out() -> None:
    published = Published()
    gone = unreachable_redis()
    waker = BackgroundWaker(RoomWaker(gone, published))
    rooms = [uuid.uuid4() for _ in range(2)]

    assert waker.claim_many([(room, 1) for room in rooms]) == [None, None]
    assert waker._away_until > time.monotonic()  # the next batches do not ask Redis
    assert waker.claim_many([(rooms[0], 2)]) == [None]
    for room in rooms:
        assert waker.wake(room, 1, None)
    assert waker.flush(timeout=10)
    assert sorted(published.sent) == sorted((room, 1) for room in rooms)


def test_without_redis_a_plain_waker_claims_nothing_and_publishes_anyway() -> None:
    """The CLI's waker (no background thread): a batch's claim gives up without raising,
    and each wake-up is published regardless, as a single one is."""
    published = Published()
    gone = unreachable_redis()
    waker = RoomWaker(gone, published)
    room = uuid.uuid4()

    assert waker.claim_many([(room, 1)]) == [None]
    assert waker.wake(room, 1, None)
    assert published.sent == [(room, 1)]
