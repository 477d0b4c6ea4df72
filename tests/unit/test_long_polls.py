"""api/long_polls.py: waits take at most half the threads, and one user at most two."""

from __future__ import annotations

import uuid
from contextlib import ExitStack

from api.long_polls import WaitSlots


def test_one_user_gets_at_most_per_user_slots() -> None:
    slots = WaitSlots(threads=16, per_user=2)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    with ExitStack() as held:
        granted = [held.enter_context(slots.slot(alice)) for _ in range(3)]
        assert granted == [True, True, False]
        assert held.enter_context(slots.slot(bob)) is True


def test_all_users_together_get_at_most_half_the_threads() -> None:
    slots = WaitSlots(threads=8, per_user=2)
    with ExitStack() as held:
        granted = [held.enter_context(slots.slot(uuid.uuid4())) for _ in range(5)]
        assert granted == [True, True, True, True, False]


def test_a_slot_is_given_back_when_the_wait_ends() -> None:
    slots = WaitSlots(threads=2, per_user=1)
    alice = uuid.uuid4()
    with slots.slot(alice) as first:
        assert first is True
        with slots.slot(alice) as second:
            assert second is False
    with slots.slot(alice) as again:
        assert again is True
    assert not slots._held  # nobody holds anything, and no empty entries are kept
