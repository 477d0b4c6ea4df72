"""Who a token's user is, remembered per API process (api/auth.py reads it; api/auth_events.py
empties it when Postgres says a user changed)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from models.domain.identity import Principal
from models.domain.tokens import TokenClaims, read_token
from models.services.api_tokens import TOUCH_SECONDS, KnownToken


class PrincipalCache:
    """Who a token's user is (id, role, token version), remembered per process.

    Authentication then costs no query on most requests. A change to a user (a role, a
    password, a deletion) empties the user's entry at once: api/auth_events.py hears it
    from Postgres. `ttl` bounds how stale an entry may be if that is ever missed. A token
    whose signature was checked is remembered too, until it expires: verifying the HMAC
    and parsing the claims again for every request of the same client was a twentieth of
    the API's CPU.
    """

    def __init__(self, ttl: float = 5.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._known: dict[uuid.UUID, tuple[float, Principal | None]] = {}
        self._tokens: dict[str, TokenClaims] = {}
        # API tokens found in the database: token -> (valid until, monotonic; the row)
        self._api_tokens: dict[str, tuple[float, KnownToken]] = {}
        self._touched: dict[uuid.UUID, float] = {}  # API token -> last_used_at written
        self._lock = threading.Lock()
        self._changes = 0  # forget() calls so far: a load that raced one is not kept

    def claims_of(self, token: str, secret: str) -> TokenClaims:
        """What a valid token says; Unauthorized when bad or expired."""
        hit = self._tokens.get(token)
        if hit is not None and hit.expires > time.time():
            return hit
        claims = read_token(token, secret=secret)  # raises when bad
        with self._lock:
            if len(self._tokens) >= self.size:
                self._tokens.clear()
            self._tokens[token] = claims
        return claims

    def get(self, user_id: uuid.UUID, load: Callable[[], Principal | None]) -> Principal | None:
        now = time.monotonic()
        with self._lock:
            hit = self._known.get(user_id)
            changes = self._changes
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = load()
        with self._lock:
            if len(self._known) >= self.size:
                self._known.clear()
            if self._changes == changes:  # nothing was forgotten while this loaded
                self._known[user_id] = (now + self.ttl, principal)
        return principal

    def api_token(self, token: str, load: Callable[[], KnownToken | None]) -> KnownToken | None:
        """The row of an API token (None: unknown or revoked), remembered for `ttl` once
        found; a deletion forgets it at once (forget_api_token, from the listener)."""
        now = time.monotonic()
        hit = self._api_tokens.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self._lock:
            changes = self._changes
        row = load()
        if row is not None:
            with self._lock:
                if len(self._api_tokens) >= self.size:
                    self._api_tokens.clear()
                if self._changes == changes:
                    self._api_tokens[token] = (now + self.ttl, row)
        return row

    def due_for_touch(self, token_id: uuid.UUID) -> bool:
        """Whether this process should write the token's last_used_at now (once a
        minute at most: not on every request)."""
        now = time.monotonic()
        with self._lock:
            if now - self._touched.get(token_id, -TOUCH_SECONDS) < TOUCH_SECONDS:
                return False
            if len(self._touched) >= self.size:
                self._touched.clear()
            self._touched[token_id] = now
            return True

    def forget_api_token(self, token_id: uuid.UUID) -> None:
        with self._lock:
            self._api_tokens = {
                token: hit for token, hit in self._api_tokens.items() if hit[1].id != token_id
            }
            self._changes += 1

    def forget(self, user_id: uuid.UUID) -> None:
        with self._lock:
            self._known.pop(user_id, None)
            self._changes += 1

    def forget_all(self) -> None:
        with self._lock:
            self._known.clear()
            self._api_tokens.clear()
            self._changes += 1
