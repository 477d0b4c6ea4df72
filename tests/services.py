"""Where the test suite finds Postgres and Redis, and the database it makes for itself.

TEST_DATABASE_URL / TEST_REDIS_URL name servers to use (CI sets them). Without them the
suite starts embedded ones (cli/embedded.py) and stops them when it exits, so `make test`
passes on a machine with neither installed.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import uuid
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
EMBEDDED_DIR = ROOT / ".bookings" / "test"


@cache
def server_url() -> str:
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"]
    from cli.embedded import EmbeddedPostgres

    return EmbeddedPostgres(EMBEDDED_DIR / "postgres").url()


@cache
def redis_base_url() -> str:
    if os.environ.get("TEST_REDIS_URL"):
        return os.environ["TEST_REDIS_URL"]
    from cli.embedded import EmbeddedRedis

    redis = EmbeddedRedis(EMBEDDED_DIR / "redis", persist=False)
    atexit.register(redis.stop)
    return redis.url()


def libpq(url: str) -> str:
    """A libpq conninfo; a Unix-socket host travels as a keyword (psycopg wants it so)."""
    parsed = make_url(url)
    host = parsed.query.get("host")
    plain = parsed.set(drivername="postgresql", query={})
    conninfo = plain.render_as_string(hide_password=False)
    return f"{conninfo}?host={host}" if host else conninfo


def database_url(prefix: str = "bookings_test") -> str:
    """The URL of a database of this run's own on the test server (not created yet)."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def create_database(url: str) -> str:
    with psycopg.connect(libpq(server_url()), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(make_url(url).database)))
    return url


def drop_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(libpq(server_url()), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def redis_url_for_tests() -> str:
    """The test Redis with its own logical database, so a developer's data is left alone;
    under pytest-xdist each process has the next one (gw0: TEST_REDIS_DB, gw1: + 1, ...),
    as it has its own database and its own worker."""
    parts = urlsplit(redis_base_url())
    base = int(os.environ.get("TEST_REDIS_DB", "13"))
    xdist = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return parts._replace(path=f"/{base + int(xdist.removeprefix('gw'))}").geturl()


def integration_environment() -> dict[str, str]:
    """The environment of every process the integration tests run (the API in-process, the
    worker and beat they start), as on one deployed host. Naming the servers starts the
    embedded ones when TEST_DATABASE_URL / TEST_REDIS_URL are unset."""
    environment = {
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url_for_tests(),
        "BOOKINGS_ENV": "production",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        # Production needs it; the Flask test client's own host, so URLs it writes work.
        "PUBLIC_URL": "http://localhost",
        "BOOKINGS_SHARDS": "4",
        "RATE_LIMITS": "off",
        "LOG_LEVEL": "INFO",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bookings-metrics-"),
        # Receivers in the tests listen on loopback over http; retries come quickly.
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        "WEBHOOK_MAX_ATTEMPTS": "4",
    }
    # Celery lets CELERY_BROKER_URL override any broker_url it is given, so it is set only
    # when the run asks for another broker; otherwise the broker is REDIS_URL.
    if os.environ.get("TEST_BROKER_URL"):
        environment["CELERY_BROKER_URL"] = os.environ["TEST_BROKER_URL"]
    return environment
