"""One Redis client per broker channel, not one per command (kombu 5.x's Redis transport).

kombu's Redis channel builds a new `redis.Redis` object for every publish (`_put`) and
for every acknowledgement's bookkeeping (`QoS.append`, `QoS.ack`): the client comes from
the channel's connection pool, but building it (redis-py's response callbacks, a
case-insensitive dict of some 200 entries) cost the worker about 0.45 ms of CPU per task
and the API 0.3 ms per publish on this project's bench (py-spy: `Redis.__init__` was 18%
of the worker's consumer process at one booking per task; docs/performance.md).

`install()` makes the channel keep the client it built, for as long as its pool is the
same: a client is only a handle on the pool (each command, each pipeline takes a
connection of its own), so it is safe to share between threads. When kombu drops the
pool (a broker that went away), the next command builds a fresh client on the new
pool, through kombu's own code, exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kombu.transport import redis as kombu_redis

_PATCHED = "_bookings_patched"


def patch_channel(method: str, wrap: Callable[[Any], Callable[..., Any]]) -> None:
    """Replace a method of kombu's Redis channel by `wrap(original)`, once (idempotent)."""
    channel_class: Any = kombu_redis.Channel
    original = getattr(channel_class, method)
    if getattr(original, _PATCHED, False):
        return
    replacement = wrap(original)
    setattr(replacement, _PATCHED, True)
    setattr(channel_class, method, replacement)


def _keeping_clients(original: Callable[..., Any]) -> Callable[..., Any]:
    def _create_client(self: Any, asynchronous: bool = False) -> Any:
        if asynchronous:
            return original(self, asynchronous=True)
        pool = self.pool  # kombu rebuilds it (or refuses) after a disconnect
        kept = self.__dict__.get("_bookings_kept_client")
        if kept is None or kept.connection_pool is not pool:
            kept = original(self, asynchronous=False)
            self.__dict__["_bookings_kept_client"] = kept
        return kept

    return _create_client


def install() -> None:
    """Keep each Redis channel's synchronous client (idempotent)."""
    patch_channel("_create_client", _keeping_clients)
