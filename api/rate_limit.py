"""Rate limits: flask-limiter, moving windows in Redis.

Who is counted:
- per user, reads (GET, HEAD) and writes apart, on every authenticated endpoint;
- per address, `POST /v1/auth/register` and `POST /v1/auth/token` apart, so that a flood
  of logins does not shut registration for everyone behind the same address;
- failed logins (401) per email and address (the contract: 10 in 15 minutes), and per
  email from every address (a guesser with many addresses). Once over, the login answers
  429 until the window passes, even with the right password. The per-email limit spares
  an address that has not failed for that email: guessers elsewhere cannot lock the
  owner out, and each new address of a guesser gets one guess;
- refused password changes per user, as failed logins (a stolen token must not guess).

RATE_LIMITS=off turns them all off (load tests, trusted internal callers).

When Redis does not answer, the API stays up: flask-limiter counts in this process's
memory until Redis is back (it checks again after 1, 2, 4 … 32 s). A login throttle this
process has answered with 429 stays in force here for its whole window, Redis or not.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from flask import Flask, Response, g, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.wrappers import RequestLimit
from limits import parse

from api.errors import RateLimited, handle_domain
from models.settings import Settings

log = logging.getLogger(__name__)

REDIS_TIMEOUT = 0.5  # seconds: a limiter must not make the API wait on a stuck Redis
LOGIN_ENDPOINT = "auth.token"
REGISTER_ENDPOINT = "auth.register"
PASSWORD_CHANGE_ENDPOINT = "auth.change_password"  # noqa: S105 (an endpoint name)


def _address() -> str:
    return request.remote_addr or "unknown"


def _login_email() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


def _user_key() -> str:
    kind = "read" if request.method in {"GET", "HEAD"} else "write"
    return f"{kind}:{g.user.id}"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _caller() -> str:
    return str(g.user.id)


def _refused(response: Response) -> bool:
    return response.status_code == 422  # a wrong current password (or a too short new one)


class LoginBlocks:
    """The login throttles this process has answered 429 for, until their windows end.

    Redis holds the counts; this keeps an address that was throttled throttled while
    Redis is away (flask-limiter's in-memory fallback would start it again from zero)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, key: str, until: float) -> None:
        with self._lock:
            if len(self._until) >= self.size:
                now = time.time()
                self._until = {k: t for k, t in self._until.items() if t > now}
            self._until[key] = max(until, self._until.get(key, 0.0))

    def retry_after(self, key: str) -> int | None:
        until = self._until.get(key)
        if until is None:
            return None
        left = until - time.time()
        return math.ceil(left) if left > 0 else None


class RateLimits:
    """One app's limiter and what it needs to answer a 429 in the error shape."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.settings = settings
        self.blocks = LoginBlocks()
        self._login_locks = [threading.Lock() for _ in range(64)]
        self.limiter = Limiter(
            key_func=_user_key,
            application_limits=[self._user_limit],
            application_limits_exempt_when=lambda: g.get("user") is None,
            strategy="moving-window",
            storage_uri=settings.redis_url,
            storage_options=cast(
                "dict[str, str | int]",
                {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
            ),
            in_memory_fallback_enabled=True,
            swallow_errors=True,
            headers_enabled=False,  # Retry-After on a 429 only: headers cost a Redis call
            key_prefix="ratelimit",
        )
        self.limiter.init_app(app)  # after authentication: the per-user key needs g.user
        address_limit = self.limiter.limit(lambda: settings.rate_limit_auth, key_func=_address)
        self._wrap(app, REGISTER_ENDPOINT, address_limit)
        self._login_view = app.view_functions[LOGIN_ENDPOINT]  # what the limits wrap
        self._wrap(
            app,
            LOGIN_ENDPOINT,
            self.limiter.limit(lambda: settings.rate_limit_auth, key_func=_address),
            self._failures(settings.rate_limit_login_failures, self._email_and_address),
            self._failures(settings.rate_limit_email_failures, _login_email),
            self._check_blocks,
        )
        app.teardown_request(self._release_login_lock)
        # A stolen token must not guess its user's password through the password change.
        self._wrap(
            app,
            PASSWORD_CHANGE_ENDPOINT,
            self.limiter.limit(
                lambda: settings.rate_limit_login_failures, key_func=_caller, deduct_when=_refused
            ),
        )
        app.register_error_handler(RateLimitExceeded, self.answer)

    def _user_limit(self) -> str:
        if request.method in {"GET", "HEAD"}:
            return self.settings.rate_limit_read
        return self.settings.rate_limit_write

    @staticmethod
    def _email_and_address() -> str:
        return f"{_login_email()}|{_address()}"

    def _failures(self, limit: str, key: Callable[[], str]) -> Callable[..., Any]:
        def remember(breach: RequestLimit) -> None:
            if key is self._email_and_address:
                self.blocks.add(key(), self._reset_at(breach))

        return self.limiter.limit(
            lambda: limit, key_func=key, deduct_when=_failed, on_breach=remember
        )

    def _never_failed_here(self) -> bool:
        """No failed login for this email from this address in the window: then the
        per-email limit spares it, so guessers elsewhere cannot lock the owner out."""
        item = parse(self.settings.rate_limit_login_failures)
        identifiers = ("ratelimit", self._email_and_address(), LOGIN_ENDPOINT)
        try:
            stats = self.limiter.limiter.get_window_stats(item, *identifiers)
        except Exception:  # Redis away: apply the limit
            return False
        return bool(stats.remaining >= item.amount)

    def _release_login_lock(self, _: BaseException | None = None) -> None:
        lock = g.pop("login_lock", None)
        if lock is not None:
            lock.release()

    def _check_blocks(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """The view, refused while this process holds a login throttle for its caller."""

        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            # One login at a time per email and address in this process, from the count's
            # test to its update after the answer: concurrent guesses cannot all pass the
            # test at 9 (across processes, at most one each can).
            key = self._email_and_address()
            lock = self._login_locks[hash(key) % len(self._login_locks)]
            lock.acquire()
            g.login_lock = lock  # released at teardown, after flask-limiter counted
            retry_after = self.blocks.retry_after(key)
            if retry_after is not None:
                g.retry_after = retry_after
                raise RateLimited(
                    "too many failed logins for this email from this address; wait",
                    details={"limit": self.settings.rate_limit_login_failures},
                )
            try:
                return view(*args, **kwargs)
            except RateLimitExceeded as exc:
                # Over the email's limit, but from an address that has not failed for it:
                # let it try (the failure, if it is one, is still counted after).
                if exc.limit.key_func is _login_email and self._never_failed_here():
                    return self._login_view(*args, **kwargs)
                raise

        return checked

    @staticmethod
    def _wrap(app: Flask, endpoint: str, *decorators: Callable[..., Any]) -> None:
        """Decorate a registered view: the last decorator runs first."""
        view = app.view_functions[endpoint]
        for decorate in decorators:
            view = decorate(view)
        app.view_functions[endpoint] = view

    @staticmethod
    def _reset_at(breach: RequestLimit) -> float:
        """When the breached window lets the next request in (epoch seconds)."""
        longest = time.time() + breach.limit.get_expiry()
        try:
            # flask-limiter rounds up to the next second; never past the window's length
            return min(float(breach.reset_at), longest)
        except Exception:  # Redis went away between the count and now
            return longest

    def answer(self, exc: RateLimitExceeded) -> Any:
        breach = self.limiter.current_limit
        reset_at = self._reset_at(breach) if breach else time.time() + 1
        g.retry_after = max(1, math.ceil(reset_at - time.time()))
        limit = str(exc.limit.limit) if exc.limit else ""
        return handle_domain(
            RateLimited(f"rate limited: more than {limit}; slow down", details={"limit": limit})
        )


def add_retry_after(response: Response) -> Response:
    if response.status_code == 429 and "retry_after" in g:
        response.headers["Retry-After"] = str(g.retry_after)
    return response


def init_rate_limits(app: Flask, settings: Settings) -> RateLimits | None:
    app.after_request(add_retry_after)
    if not settings.rate_limits:
        return None
    return RateLimits(app, settings)
