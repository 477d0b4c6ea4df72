"""worker/broker_guard.py: a redis channel whose connection is gone raises ConnectionError."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

from worker import broker_guard


def test_a_channel_of_a_closed_connection_raises_a_connection_error() -> None:
    broker_guard.install()
    broker_guard.install()  # idempotent
    transport_gone = SimpleNamespace(connection=None)
    client_gone = SimpleNamespace(connection=SimpleNamespace(client=None))

    for channel in (transport_gone, client_gone):
        with pytest.raises(RedisConnectionError):
            kombu_redis.Channel._connparams(channel)
