"""Fixed-window rate limits in Redis: per client address for /v1/auth, per user elsewhere.

RATE_LIMITS=off turns them off (load tests, trusted internal callers). If Redis does not
answer, requests are let through: a limiter must not take the API down with it.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request
from redis.exceptions import RedisError

from api.context import services
from models.errors import RateLimited

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# Per minute. Generous enough for any human or integration test; a load test sets
# RATE_LIMITS=off. The auth bucket slows password guessing from one address.
LIMITS = {"auth": 300, "write": 1200, "read": 6000}


def _bucket() -> tuple[str, str]:
    if request.path.startswith("/v1/auth/"):
        return "auth", request.remote_addr or "unknown"
    user = g.get("user")
    if user is None:
        return "", ""  # public, unauthenticated endpoints (health, docs) are not limited
    return ("read" if request.method in {"GET", "HEAD"} else "write"), str(user.id)


def enforce_rate_limit() -> None:
    svc = services()
    if not svc.settings.rate_limits:
        return
    bucket, who = _bucket()
    if not bucket:
        return
    window = int(time.time()) // WINDOW_SECONDS
    key = f"ratelimit:{bucket}:{who}:{window}"
    try:
        with svc.redis.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS * 2)
            count = int(pipe.execute()[0])
    except RedisError:
        log.warning("rate limiter unavailable; letting the request through")
        return
    if count > LIMITS[bucket]:
        g.retry_after = WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS
        raise RateLimited(
            f"more than {LIMITS[bucket]} {bucket} requests a minute; slow down",
            details={"limit": LIMITS[bucket], "window_seconds": WINDOW_SECONDS},
        )


def add_retry_after(response: Response) -> Response:
    if response.status_code == 429 and "retry_after" in g:
        response.headers["Retry-After"] = str(g.retry_after)
    return response


def init_rate_limits(app: Flask) -> None:
    app.before_request(enforce_rate_limit)
    app.after_request(add_retry_after)
