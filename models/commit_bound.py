"""A COMMIT that waits too long for a synchronous standby is cut short.

With `synchronous_standby_names` set, Postgres confirms a COMMIT only once a standby has
the transaction. If no standby answers (it died, or a promoted primary still names the
standby it lost), every commit waits forever, and `statement_timeout` does not end that
wait (Postgres disarms it before committing). So each commit made through the engine is
watched: past COMMIT_WAIT_SECONDS it is cancelled from a watchdog thread. The server then
ends the wait with a WARNING ("canceling wait for synchronous replication ... The
transaction has already committed locally"): the transaction is committed on the primary,
not yet on a standby, and the caller goes on. An API request or a worker's turn is slowed
to that bound while the standby is away (until the HA manager drops it or it returns),
never stopped; each cut-short commit is logged and counted.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import psycopg

log = logging.getLogger(__name__)

COMMIT_WAIT_SECONDS = 5.0
_CHECK_EVERY = 0.5
_CANCEL_TIMEOUT = 2.0


class _Watchdog:
    """One thread per process: cancels the connections whose commit is past its deadline."""

    def __init__(self) -> None:
        self._deadlines: dict[psycopg.Connection[Any], float] = {}
        self._cancelling: dict[psycopg.Connection[Any], threading.Event] = {}
        self._lock = threading.Lock()
        self._pid = 0
        self.cut_short = 0

    def watch(self, conn: psycopg.Connection[Any]) -> None:
        if self._pid != os.getpid():
            self._start()
        self._deadlines[conn] = time.monotonic() + COMMIT_WAIT_SECONDS

    def done(self, conn: psycopg.Connection[Any]) -> None:
        """The commit returned: forget it, or let a cancel already on its way land first,
        so that it cannot reach the connection's next statement."""
        with self._lock:
            self._deadlines.pop(conn, None)
            sent = self._cancelling.get(conn)
        if sent is not None:
            sent.wait(_CANCEL_TIMEOUT + 1)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._deadlines, self._cancelling = {}, {}  # none of the parent's survives a fork
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="commit-watchdog", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(_CHECK_EVERY)
            now = time.monotonic()
            for conn, deadline in list(self._deadlines.items()):
                if deadline <= now:
                    self._cancel(conn)

    def _cancel(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:
            if self._deadlines.pop(conn, None) is None:
                return  # it committed meanwhile
            sent = self._cancelling[conn] = threading.Event()
        self.cut_short += 1
        log.warning(
            "a commit waited %.0f s for a synchronous standby; cancelling the wait (the "
            "transaction stays committed on the primary)",
            COMMIT_WAIT_SECONDS,
        )
        try:
            conn.cancel_safe(timeout=_CANCEL_TIMEOUT)
        except Exception as exc:  # a dead host: its socket's timeouts bound the commit
            log.warning("cancelling a commit failed: %s", exc)
        finally:
            with self._lock:
                self._cancelling.pop(conn, None)
            sent.set()


WATCHDOG = _Watchdog()


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose COMMIT waits at most COMMIT_WAIT_SECONDS (see above)."""

    def commit(self) -> None:
        WATCHDOG.watch(self)
        try:
            super().commit()
        finally:
            WATCHDOG.done(self)
