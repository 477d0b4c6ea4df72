"""Keep a worker alive when its Redis broker restarts (Celery 5.7 / kombu 5.7).

The crash, as it happened: `Unrecoverable error: AttributeError('NoneType' object has no
attribute 'hostname')` and the worker process exits. The path:

1. The broker connection breaks while the task consumer's channel is in BRPOP.
   `Consumer.on_connection_error_after_connected` (new in Celery 5.7.0) calls
   `connection.collect()` and then `connection.close()`.
2. `collect()` tries to close the channels. Closing the BRPOP channel raises
   ConnectionError (the socket is gone) before the channel is marked closed; kombu
   swallows it, then drops the transport's client anyway (`transport.client = None`) and
   keeps `Connection._default_channel` pointing at the half-closed channel.
3. `close()` closes that channel again. The redis Channel disconnects its pool, then
   restores its unacknowledged messages (an acks_late task was running), which needs a
   new pool, built by `Channel._connparams` from `self.connection.client.hostname`:
   AttributeError. `close()` is wrapped to ignore only connection errors, so the
   AttributeError escapes the consumer and ends the worker.

Celery 5.6.3 does not call `close()` after `collect()` and survives; 5.7.0 is the newest
release of celery and kombu, so there is no fixed version to pin. The workaround: a redis
channel whose connection is gone raises redis' ConnectionError, which kombu and celery
already treat as "broker unreachable": ignored while closing, logged ("Couldn't ack")
when a task finishing later acknowledges through the dead channel. The consumer then
reconnects as designed. The dead channel's unacknowledged messages are not restored
from here: Redis hands them out again after the visibility timeout (the decision is then a
no-op), and the sweeper re-sends any room left QUEUED within seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from models.broker_clients import patch_channel


def _guarded(original: Callable[..., Any]) -> Callable[..., Any]:
    def _connparams(self: Any, asynchronous: bool = False) -> Any:
        transport = self.connection
        if transport is None or transport.client is None:
            raise RedisConnectionError("this broker channel's connection was closed")
        return original(self, asynchronous=asynchronous)

    return _connparams


def install() -> None:
    """Guard the redis transport's channels (idempotent)."""
    patch_channel("_connparams", _guarded)
