"""Rate limits: flask-limiter, moving windows in Redis.

Who is counted:
- per user, reads (GET, HEAD) and writes apart, on every authenticated endpoint;
- per address, `POST /v1/auth/register`, `POST /v1/auth/token` and the check-in page's
  sign-in apart, so that a flood of logins does not shut registration for everyone
  behind the same address; and the pages that take no bearer token (the check-in page,
  the door display), each apart: join codes cannot be tried without limit;
- failed logins (401) per email and address (the contract: 10 in 15 minutes), and per
  email from every address (a guesser with many addresses), exactly: a slot is taken
  before the password is checked (api/login_throttle.py). Once over, the login answers
  429 until a slot frees, even with the right password. The check-in page's sign-in
  (`POST /checkin/{join_code}`) counts in the same windows: a guess there is a guess;
- refused password changes per user, as failed logins (a stolen token must not guess);
- unknown API tokens (`bk_…`) per address, as failed logins: a known one is never
  counted, and once the window is full the address's unknown ones answer 429
  (api/auth.py).

RATE_LIMITS=off turns them all off (load tests, trusted internal callers).

When Redis does not answer, the API stays up: flask-limiter counts in this process's
memory until Redis is back (it checks again after 1, 2, 4 … 32 s), and so does the login
throttle; a login it has refused stays refused here for its window, Redis or not.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, g, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.wrappers import RequestLimit
from redis import Redis

from api.errors import RateLimited, handle_domain
from api.login_throttle import LoginThrottle, Refused, Taken, Window
from models.errors import Unauthorized
from models.settings import Settings

log = logging.getLogger(__name__)

REDIS_TIMEOUT = 0.5  # seconds: a limiter must not make the API wait on a stuck Redis
LOGIN_ENDPOINT = "auth.token"
REGISTER_ENDPOINT = "auth.register"
PASSWORD_CHANGE_ENDPOINT = "auth.change_password"  # noqa: S105 (an endpoint name)
CHECK_IN_ENDPOINT = "checkin.check_in_with_password"
# Pages that answer without a bearer token (so no per-user limit): per address instead.
PAGE_ENDPOINTS = ("checkin.get_check_in_page", "displays.get_room_display")
T = TypeVar("T")


def _address() -> str:
    return request.remote_addr or "unknown"


def _login_email() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


def _user_key() -> str:
    kind = "read" if request.method in {"GET", "HEAD"} else "write"
    return f"{kind}:{g.user.id}"


def _caller() -> str:
    return str(g.user.id)


def _refused(response: Response) -> bool:
    return response.status_code == 422  # a wrong current password (or a too short new one)


class TokenGuesses:
    """Unknown API tokens per address, in the failed-login window (api/auth.py)."""

    def __init__(self, throttle: LoginThrottle) -> None:
        self.throttle = throttle

    def take(self) -> Taken | Refused:
        return self.throttle.take([f"apitoken:{_address()}"])


class RateLimits:
    """One app's limiter and what it needs to answer a 429 in the error shape."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.settings = settings
        self.logins = LoginThrottle(
            Redis.from_url(
                settings.redis_url,
                socket_connect_timeout=REDIS_TIMEOUT,
                socket_timeout=REDIS_TIMEOUT,
            ),
            [
                Window.parse(settings.rate_limit_login_failures),
                Window.parse(settings.rate_limit_email_failures),
            ],
        )
        app.extensions["bookings_token_guesses"] = TokenGuesses(
            LoginThrottle(self.logins.redis, [Window.parse(settings.rate_limit_login_failures)])
        )
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
            self._throttled,
        )
        if CHECK_IN_ENDPOINT in app.view_functions:  # it checks passwords (self.sign_in)
            self._wrap(
                app,
                CHECK_IN_ENDPOINT,
                self.limiter.limit(lambda: settings.rate_limit_auth, key_func=_address),
            )
        for endpoint in PAGE_ENDPOINTS:
            if endpoint in app.view_functions:
                self._wrap(
                    app,
                    endpoint,
                    self.limiter.limit(lambda: settings.rate_limit_auth, key_func=_address),
                )
        app.extensions["bookings_sign_in"] = self.sign_in
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

    def _throttled(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """The login, checking a password only with a slot free in both failure windows
        (api/login_throttle.py); a login that does not fail gives its slot back."""

        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            return self.sign_in(_login_email(), lambda: view(*args, **kwargs))

        return checked

    def sign_in(self, email: str, check: Callable[[], T]) -> T:
        """`check()`, a password check that raises Unauthorized when it fails, with a slot
        free in both of the email's failure windows; RateLimited (429) when one is full.
        A check that does not fail gives its slot back."""
        email = email.strip().lower()
        taken = self.logins.take([f"login:{email}|{_address()}", f"login:{email}"])
        if isinstance(taken, Refused):
            g.retry_after = taken.retry_after
            raise RateLimited(
                "too many failed logins for this email; wait",
                details={"limit": taken.limit},
            )
        try:
            answer = check()
        except Unauthorized:
            raise  # a failed login: its slot stays taken for the window
        except BaseException:
            self.logins.give_back(taken)
            raise
        self.logins.give_back(taken)
        return answer

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
