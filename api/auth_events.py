"""Who may no longer use a token, heard from Postgres as it changes.

A trigger (migrations 0003, 0008) sends a notification on channel `auth_changes` whenever
a user's role or token version changes, a user is deleted, a token is logged out or an
API token deleted,
whoever makes the change (the API, the CLI, psql). Each API process LISTENs on a
connection of its own, in a thread, and
- keeps the set of logged-out tokens that have not expired yet (loaded when it connects);
- tells every PrincipalCache of the process to forget a changed user or a deleted API
  token.

So authentication asks the database nothing on most requests, and a logout, a password
change or a demotion holds on the next request. If the connection breaks, the thread
reconnects, loads the logged-out tokens again and empties the caches: what changed while
it was away is not missed. While it is not connected (a process's first moments, a
reconnection), authentication asks the database on every request instead.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import weakref
from collections import deque
from typing import Protocol

import psycopg

from models.db import TCP_BOUNDS, conninfo

log = logging.getLogger(__name__)

CHANNEL = "auth_changes"
RECONNECT_SECONDS = 0.5
QUIET_SECONDS = 5.0  # with nothing heard for this long, ask the connection if it lives
CONNECT_TIMEOUT = 3  # seconds, for each attempt of the listener thread


class Forgetful(Protocol):
    def forget(self, user_id: uuid.UUID) -> None: ...

    def forget_all(self) -> None: ...

    def forget_api_token(self, token_id: uuid.UUID) -> None: ...


class AuthListener:
    """One per database per process (`listener_for`)."""

    def __init__(self, database_url: str) -> None:
        self._dsn = conninfo(database_url)  # several hosts: the writable one, as the pool
        self._caches: weakref.WeakSet[Forgetful] = weakref.WeakSet()
        self._revoked: dict[uuid.UUID, float] = {}
        self._lock = threading.Lock()
        self._heard = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._recent: deque[tuple[int, str]] = deque(maxlen=1000)  # (number, payload) heard
        self.handled = 0  # notifications handled so far
        self.connects = 0  # connections made (a reconnect adds one)
        self.connected = False  # listening now: what this process knows is current

    def watch(self, cache: Forgetful) -> None:
        """Listen in this process if not yet, and tell `cache` of changed users.

        Never waits: the thread connects (and loads the logged-out tokens) by itself.
        Until it has, `connected` is False and authentication asks the database."""
        if self._running() and cache in self._caches:
            return
        with self._lock:
            if not self._running():
                self.connected = False
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._listen, name="auth-listener", daemon=True
                )
                self._thread.start()
            self._caches.add(cache)

    def is_revoked(self, token_id: uuid.UUID) -> bool:
        return token_id in self._revoked

    def revoke(self, token_id: uuid.UUID, expires: float) -> None:
        """Known here at once (other processes hear it from the trigger)."""
        self._revoked[token_id] = expires

    def wait_heard(self, payload: str, *, after: int, timeout: float = 2.0) -> bool:
        """Until this process has heard a notification starting with `payload`, later than
        the `after`th (read `handled` before making the change).

        A change committed here is announced to every process at the same moment; once
        this one has heard it, the others (almost surely) have too. So a logout or a
        password change waits for its own echo before it answers, and the caller's next
        request, whichever process takes it, sees the change."""
        with self._heard:
            return self._heard.wait_for(
                lambda: any(
                    number > after and seen.startswith(payload) for number, seen in self._recent
                ),
                timeout,
            )

    def wait_connects(self, count: int, timeout: float) -> bool:
        """Until the listener has connected `count` times (tests of a reconnect)."""
        with self._heard:
            return self._heard.wait_for(lambda: self.connects >= count, timeout)

    def _running(self) -> bool:
        thread = self._thread
        return self._pid == os.getpid() and thread is not None and thread.is_alive()

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = psycopg.connect(
            self._dsn,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            **TCP_BOUNDS,
            application_name="bookings-auth-listener",
        )
        try:
            conn.execute(f"LISTEN {CHANNEL}")
            # LISTEN first: a logout from now on is heard; the ones before are read here.
            rows = conn.execute(
                "SELECT jti, extract(epoch FROM expires_at)::float8 FROM revoked_tokens "
                "WHERE expires_at > now()"
            ).fetchall()
        except psycopg.Error:
            conn.close()
            raise
        self._revoked = {uuid.UUID(str(jti)): float(str(expires)) for jti, expires in rows}
        for cache in list(self._caches):
            cache.forget_all()  # whatever changed while nobody listened
        with self._heard:
            self.connects += 1
            self.connected = True
            self._heard.notify_all()
        return conn

    def _listen(self) -> None:
        conn = self._reconnect(wait=False)
        while True:
            try:
                for note in conn.notifies(timeout=QUIET_SECONDS):
                    self._handle(note.payload)
                conn.execute("SELECT 1")  # a broken connection says so here
                self._prune()
            except psycopg.Error as exc:
                self.connected = False
                log.warning("auth listener lost its connection (%s); reconnecting", exc)
                conn.close()
                conn = self._reconnect()

    def _reconnect(self, *, wait: bool = True) -> psycopg.Connection[tuple[object, ...]]:
        while True:
            if wait:
                time.sleep(RECONNECT_SECONDS)
            wait = True
            try:
                conn = self._connect()
            except psycopg.Error:
                continue
            log.info("auth listener connected")
            return conn

    def _handle(self, payload: str) -> None:
        kind, _, rest = payload.partition(":")
        try:
            if kind == "token":
                token_id, _, expires = rest.partition(":")
                self._revoked[uuid.UUID(token_id)] = float(expires)
            elif kind == "apitoken":
                for cache in list(self._caches):
                    cache.forget_api_token(uuid.UUID(rest))
            elif kind == "user":
                user_id = uuid.UUID(rest)
                for cache in list(self._caches):
                    cache.forget(user_id)
        except ValueError:
            log.warning("auth listener ignored a notification it cannot read: %r", payload)
        with self._heard:
            self.handled += 1
            self._recent.append((self.handled, payload))
            self._heard.notify_all()

    def _prune(self) -> None:
        now = time.time()
        expired = [token_id for token_id, until in list(self._revoked.items()) if until <= now]
        for token_id in expired:
            self._revoked.pop(token_id, None)


_listeners: dict[str, AuthListener] = {}
_listeners_lock = threading.Lock()


def listener_for(database_url: str) -> AuthListener:
    """The process's listener for this database (made once; it starts on first use)."""
    with _listeners_lock:
        listener = _listeners.get(database_url)
        if listener is None:
            listener = _listeners[database_url] = AuthListener(database_url)
        return listener
