"""models/broker_clients.py: a Redis broker channel keeps its client while its pool lives."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from kombu.transport import redis as kombu_redis

from models import broker_clients


class Channel:
    """The two attributes of kombu's Redis channel that `_create_client` reads."""

    def __init__(self) -> None:
        self.pool: Any = SimpleNamespace(connection_kwargs={})
        self.Client = lambda connection_pool, **_: SimpleNamespace(connection_pool=connection_pool)
        self.async_pool: Any = SimpleNamespace(connection_kwargs={})


def test_a_channel_keeps_its_client_until_its_pool_is_replaced() -> None:
    broker_clients.install()
    broker_clients.install()  # idempotent
    create = kombu_redis.Channel._create_client
    channel = Channel()

    first = create(channel)
    assert create(channel) is first  # one client per channel, not one per command
    assert first.connection_pool is channel.pool

    channel.pool = SimpleNamespace(connection_kwargs={})  # kombu rebuilt it after a disconnect
    second = create(channel)
    assert second is not first and second.connection_pool is channel.pool

    # the asynchronous client (BRPOP, kept by kombu itself) is built as kombu builds it
    assert create(channel, asynchronous=True) is not create(channel, asynchronous=True)
