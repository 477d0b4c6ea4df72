"""models/db.py: pooled connections that the server dropped are replaced, not used."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from models.db import engine_for
from tests import services


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("models.db.IDLE_PING_SECONDS", 0.0)  # every checkout counts as idle
    engine = engine_for(database)
    engine.dispose()
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with psycopg.connect(services.libpq(database), autocommit=True) as other:  # not pooled
        other.execute("SELECT pg_terminate_backend(%s)", [pid])

    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
