"""Bounded long polls: `?wait=N` holds a thread, so not every thread may be held.

A process serves API_THREADS requests at once. If waits could take them all, one
client holding `?wait=30` polls would starve everyone else, health checks included.
So at most half the threads wait at once, and one user at most PER_USER of them; a
poll beyond either answers at once with the task as it stands (the client polls again).
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

PER_USER = 2


class WaitSlots:
    def __init__(self, threads: int, per_user: int = PER_USER) -> None:
        self.total = max(1, threads // 2)
        self.per_user = per_user
        self._held: Counter[uuid.UUID] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, user_id: uuid.UUID) -> Iterator[bool]:
        """True while the caller may wait; False: answer now."""
        with self._lock:
            granted = sum(self._held.values()) < self.total and self._held[user_id] < self.per_user
            if granted:
                self._held[user_id] += 1
        try:
            yield granted
        finally:
            if granted:
                with self._lock:
                    self._held[user_id] -= 1
                    if not self._held[user_id]:
                        del self._held[user_id]
