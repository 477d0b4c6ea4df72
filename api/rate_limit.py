"""Moving-window rate limits in Redis: per client address for /v1/auth, per user elsewhere.

RATE_LIMITS=off turns them off (load tests, trusted internal callers). If Redis does not
answer, requests are let through: a limiter must not take the API down with it.
"""

from __future__ import annotations

import logging
import math
import time
import uuid

from flask import Flask, Response, g, request
from redis.exceptions import RedisError

from api.context import services
from api.errors import RateLimited
from models.settings import Settings

log = logging.getLogger(__name__)


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
    settings = svc.settings
    limit = limits(settings)[bucket]
    window = settings.rate_limit_window_seconds
    # A moving window: the requests of the last `window` seconds, whatever the clock says.
    key = f"ratelimit:{bucket}:{who}"
    now = time.time()
    try:
        with svc.redis.pipeline() as pipe:
            pipe.zremrangebyscore(key, 0, now - window)
            pipe.zadd(key, {uuid.uuid4().hex: now})
            pipe.zcard(key)
            pipe.zrange(key, 0, 0, withscores=True)
            pipe.expire(key, window)
            _, _, count, oldest, _ = pipe.execute()
    except RedisError:
        log.warning("rate limiter unavailable; letting the request through")
        return
    if count > limit:
        first = oldest[0][1] if oldest else now
        g.retry_after = max(1, math.ceil(first + window - now))
        raise RateLimited(
            f"more than {limit} {bucket} requests in {window} s; slow down",
            details={"limit": limit, "window_seconds": window},
        )


def limits(settings: Settings) -> dict[str, int]:
    return {
        "auth": settings.rate_limit_auth,
        "write": settings.rate_limit_write,
        "read": settings.rate_limit_read,
    }


def add_retry_after(response: Response) -> Response:
    if response.status_code == 429 and "retry_after" in g:
        response.headers["Retry-After"] = str(g.retry_after)
    return response


def init_rate_limits(app: Flask) -> None:
    app.before_request(enforce_rate_limit)
    app.after_request(add_retry_after)
