"""The failed-login throttle, exact under any concurrency.

Before a password is checked, the login takes a slot in each of its windows at once, in
one Redis script (check and count are one step): per email and address, and per email
from every address. A window that is full refuses the login with a 429 before any
password is checked. A login that does not fail (a success, a malformed body) gives its
slots back. So however many guesses arrive together, from however many processes, at most
`limit` passwords of one email (and address) are checked and failed per window.

When Redis does not answer, the same windows are kept in this process's memory, and a
key this process has refused stays refused here for the rest of its window.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

from limits import parse
from redis import Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeout

# KEYS: the windows (sorted sets of slot ids by time). ARGV: now (ms), the slot's id, then
# each window's limit and length (ms). Returns {0, 0} when a slot is taken in every one,
# else {ms until the fullest has a free slot, its index (1-based)}.
_TAKE = """
local now = tonumber(ARGV[1])
local wait, which = 0, 0
for i, key in ipairs(KEYS) do
    local limit, window = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    if redis.call('ZCARD', key) >= limit then
        local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
        local left = tonumber(oldest[2]) + window - now
        if left > wait then wait, which = left, i end
    end
end
if which > 0 then return {wait, which} end
for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, now, ARGV[2])
    redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
end
return {0, 0}
"""


@dataclass(frozen=True)
class Window:
    text: str  # as configured, e.g. "10 per 15 minutes"
    limit: int
    millis: int

    @classmethod
    def parse(cls, text: str) -> Window:
        item = parse(text)
        return cls(text, item.amount, item.get_expiry() * 1000)


@dataclass(frozen=True)
class Taken:
    keys: tuple[str, ...]
    slot: str
    in_redis: bool  # taken in Redis (else in this process's memory)
    maybe_in_redis: bool = False  # Redis timed out answering: the script may have run


@dataclass(frozen=True)
class Refused:
    retry_after: int  # seconds
    limit: str


class LoginThrottle:
    def __init__(self, redis: Redis, windows: list[Window]) -> None:
        self.redis = redis
        self.windows = windows
        self._take = redis.register_script(_TAKE)
        self._lock = threading.Lock()
        self._memory: dict[str, deque[tuple[int, str]]] = {}
        self._refused: dict[str, float] = {}  # key -> until (epoch s), refused here
        self._pruned = 0  # when _memory was last pruned (ms)

    def take(self, keys: list[str]) -> Taken | Refused:
        """A slot in each key's window (keys in the order of the windows), or why not."""
        assert len(keys) == len(self.windows)
        now = int(time.time() * 1000)
        slot = uuid.uuid4().hex
        args: list[int | str] = [now, slot]
        for window in self.windows:
            args += [window.limit, window.millis]
        maybe = False
        try:
            wait, which = self._take(keys=keys, args=args)
            in_redis = True
        except (RedisError, OSError) as exc:
            wait, which = self._take_in_memory(keys, now, slot)
            in_redis = False
            maybe = isinstance(exc, RedisTimeout | TimeoutError)
        with self._lock:
            blocked = max((self._refused.get(key, 0.0) for key in keys), default=0.0)
        if which == 0 and not in_redis and blocked > time.time():
            # Refused here while Redis answered: Redis going away does not lift it.
            self.give_back(Taken(tuple(keys), slot, in_redis, maybe))
            return Refused(math.ceil(blocked - time.time()), self.windows[0].text)
        if which:
            until = time.time() + int(wait) / 1000
            with self._lock:
                key = keys[int(which) - 1]
                self._refused[key] = max(until, self._refused.get(key, 0.0))
                if len(self._refused) > 10_000:
                    self._refused = {k: t for k, t in self._refused.items() if t > time.time()}
            return Refused(max(1, math.ceil(int(wait) / 1000)), self.windows[int(which) - 1].text)
        return Taken(tuple(keys), slot, in_redis, maybe)

    def give_back(self, taken: Taken) -> None:
        """The slot was not used up by a failed login: free it (from Redis too when the
        take timed out there: its script may have run)."""
        if taken.in_redis or taken.maybe_in_redis:
            try:
                with self.redis.pipeline(transaction=False) as pipe:
                    for key in taken.keys:
                        pipe.zrem(key, taken.slot)
                    pipe.execute()
            except (RedisError, OSError):
                pass  # it expires with its window
        if taken.in_redis:
            return
        with self._lock:
            for key in taken.keys:
                entries = self._memory.get(key)
                if entries is not None:
                    self._memory[key] = deque(e for e in entries if e[1] != taken.slot)

    def _take_in_memory(self, keys: list[str], now: int, slot: str) -> tuple[int, int]:
        with self._lock:
            wait, which = 0, 0
            for index, (key, window) in enumerate(zip(keys, self.windows, strict=True), 1):
                entries = self._memory.setdefault(key, deque())
                while entries and entries[0][0] <= now - window.millis:
                    entries.popleft()
                if len(entries) >= window.limit:
                    left = entries[0][0] + window.millis - now
                    if left > wait:
                        wait, which = left, index
            if which:
                return wait, which
            for key in keys:
                self._memory[key].append((now, slot))
            if len(self._memory) > 10_000 and now - self._pruned > 1000:
                self._pruned = now  # drop the windows that have passed, once a second
                longest = max(window.millis for window in self.windows)
                self._memory = {
                    k: v for k, v in self._memory.items() if v and v[-1][0] > now - longest
                }
            return 0, 0
