"""The hand-reviewed migration, run from empty, gives exactly the models' schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, pool, text

from cli.migrations import alembic_config, upgrade_head
from models.tables import Base
from tests import services


@pytest.fixture
def empty_database() -> Iterator[str]:
    url = services.create_database(services.database_url("bookings_migration"))
    yield url
    services.drop_database(url)


def _diff(url: str) -> list[object]:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


def test_migration_from_empty_matches_the_models(empty_database: str) -> None:
    upgrade_head(empty_database)

    assert _diff(empty_database) == []
    engine = create_engine(empty_database, poolclass=pool.NullPool)
    with engine.connect() as conn:
        # Autogenerate cannot see EXCLUDE constraints: check the guarantee is there.
        exclusion = conn.scalar(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'ex_bookings_no_overlap' AND contype = 'x'"
            )
        )
        assert exclusion is not None
        assert "tstzrange(start_time, end_time, '[)'" in exclusion
        assert "WHERE" in exclusion and "CONFIRMED" in exclusion
        assert conn.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'")) == 1


def test_migration_downgrades_to_empty_and_upgrades_again(empty_database: str) -> None:
    upgrade_head(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    engine = create_engine(empty_database, poolclass=pool.NullPool)
    with engine.connect() as conn:
        tables = conn.scalar(
            text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        )
    assert tables == 0
    upgrade_head(empty_database)
    assert _diff(empty_database) == []
