"""Where the test suite finds Postgres and Redis, and the database it makes for itself."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_DATABASE_URL


def redis_base_url() -> str:
    return os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS_URL


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(prefix: str = "bookings_test") -> str:
    """The URL of a database of this run's own on the test server (not created yet)."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def create_database(url: str) -> str:
    with psycopg.connect(_libpq(server_url()), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(make_url(url).database)))
    return url


def drop_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_libpq(server_url()), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def redis_url_for_tests() -> str:
    """The test Redis with its own logical database, so a developer's data is left alone."""
    parts = urlsplit(redis_base_url())
    return parts._replace(path=f"/{os.environ.get('TEST_REDIS_DB', '13')}").geturl()
