"""models/services/wakeups.py: which decide messages may be dropped, with a real Redis."""

from __future__ import annotations

import uuid

from redis import Redis

from models.locks import decided_through_name, wake_marker_name
from models.services.decide import BUSY, DONE, STARTED, RoomTurn


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
