"""models.locks: advisory-lock keys and the Redis key names, in one place."""

from __future__ import annotations

import uuid

from models.locks import (
    ACCEPT_STRIPES,
    accept_stripe,
    room_lock_key,
    room_lock_keys,
    room_lock_name,
)


def test_lock_key_fits_a_signed_int32() -> None:
    keys = [room_lock_key(uuid.uuid4()) for _ in range(1000)]
    assert all(-(2**31) <= k < 2**31 for k in keys)


def test_rooms_share_a_bounded_number_of_accept_stripes() -> None:
    room = uuid.uuid4()
    assert accept_stripe(room) == accept_stripe(str(room))
    assert {accept_stripe(uuid.uuid4()) for _ in range(2000)} <= set(range(ACCEPT_STRIPES))


def test_the_room_lock_is_named_by_the_room() -> None:
    room = uuid.UUID("0b5c8f7e-3f1e-4d6a-9a57-1f0e9b3c2d11")
    assert room_lock_name(room) == "lock:room:0b5c8f7e-3f1e-4d6a-9a57-1f0e9b3c2d11"


def test_several_rooms_are_locked_in_one_order_whoever_names_them() -> None:
    """Deciders and housekeeping take several rooms' locks by their keys, sorted, each
    once: two holders of overlapping sets never wait on each other in a circle."""
    rooms = [uuid.uuid4() for _ in range(20)]
    keys = room_lock_keys(rooms)
    assert keys == sorted(keys) == room_lock_keys(reversed(rooms))
    assert keys == room_lock_keys([*rooms, *rooms[:5], str(rooms[0])])
    assert set(keys) == {room_lock_key(r) for r in rooms}
