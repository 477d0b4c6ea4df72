"""The hand-reviewed migration, run from empty, gives exactly the models' schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import IntegrityError

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
        assert "WHERE" in exclusion and "CONFIRMED" in exclusion and "PENDING" in exclusion
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


def test_0004_from_the_previous_head_keeps_bookings_and_holds_pending_slots(
    empty_database: str,
) -> None:
    """Upgrading a 0003 database with bookings in it: they stay, rooms get an empty policy,
    and the exclusion constraint now holds PENDING bookings too. Downgrading cancels what
    0003 cannot represent."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0003")
    engine = create_engine(empty_database, poolclass=pool.NullPool)
    user, room = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, password_hash, role) "
                "VALUES (:id, 'a@example.com', 'A', 'x', 'USER')"
            ),
            {"id": user},
        )
        conn.execute(
            text("INSERT INTO rooms (id, name, capacity) VALUES (:id, 'R', 4)"), {"id": room}
        )
        conn.execute(
            text(
                "INSERT INTO bookings (id, room_id, organizer_id, start_time, end_time, title, "
                "status) VALUES (:id, :room, :user, '2030-01-01 09:00Z', '2030-01-01 10:00Z', "
                "'kept', 'CONFIRMED')"
            ),
            {"id": uuid.uuid4(), "room": room, "user": user},
        )

    upgrade_head(empty_database)

    insert_pending = text(
        "INSERT INTO bookings (id, room_id, organizer_id, start_time, end_time, title, status) "
        "VALUES (:id, :room, :user, :start, :end, 'p', 'PENDING')"
    )
    with engine.begin() as conn:
        assert conn.scalar(text("SELECT policy FROM rooms")) == {}
        assert conn.scalar(text("SELECT title FROM bookings")) == "kept"
        conn.execute(
            insert_pending,
            {
                "id": uuid.uuid4(),
                "room": room,
                "user": user,
                "start": "2030-01-01 11:00Z",
                "end": "2030-01-01 12:00Z",
            },
        )
    with pytest.raises(IntegrityError), engine.begin() as conn:  # overlaps the PENDING one
        conn.execute(
            insert_pending,
            {
                "id": uuid.uuid4(),
                "room": room,
                "user": user,
                "start": "2030-01-01 11:30Z",
                "end": "2030-01-01 12:30Z",
            },
        )
    assert _diff(empty_database) == []

    command.downgrade(config, "0003")
    with engine.connect() as conn:
        statuses = conn.execute(
            text("SELECT status, cancel_reason FROM bookings ORDER BY start_time")
        )
        assert [tuple(r) for r in statuses] == [
            ("CONFIRMED", None),
            ("CANCELLED", "APPROVAL_EXPIRED"),
        ]


def test_0006_from_the_previous_head_keeps_bookings_and_checks_overlaps_at_commit(
    empty_database: str,
) -> None:
    """Upgrading a 0005 database with a series and a single booking in it: they stay, at
    version 1, the series' occurrences know their first start, and the overlap constraint
    refuses at commit what it refused at the statement. Downgrading drops change
    requests, which the older code cannot read."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0005")
    engine = create_engine(empty_database, poolclass=pool.NullPool)
    user, room, series = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, password_hash, role) "
                "VALUES (:id, 'a@example.com', 'A', 'x', 'USER')"
            ),
            {"id": user},
        )
        conn.execute(
            text("INSERT INTO rooms (id, name, capacity) VALUES (:id, 'R', 4)"), {"id": room}
        )
        conn.execute(
            text(
                "INSERT INTO booking_series (id, room_id, organizer_id, rule, timezone, "
                "conflict_policy, title) VALUES (:id, :room, :user, '{}', 'UTC', "
                "'all_or_nothing', 's')"
            ),
            {"id": series, "room": room, "user": user},
        )
        for hour, series_id in ((9, series), (11, None)):
            conn.execute(
                text(
                    "INSERT INTO bookings (id, room_id, organizer_id, series_id, start_time, "
                    "end_time, title, status) VALUES (:id, :room, :user, :series, :start, :end, "
                    "'kept', 'CONFIRMED')"
                ),
                {
                    "id": uuid.uuid4(),
                    "room": room,
                    "user": user,
                    "series": series_id,
                    "start": f"2030-01-01 {hour}:00Z",
                    "end": f"2030-01-01 {hour + 1}:00Z",
                },
            )

    upgrade_head(empty_database)

    with engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT version, original_start IS NOT NULL, group_id, booked_by FROM bookings "
                "ORDER BY start_time"
            )
        )
        assert [tuple(r) for r in rows] == [(1, True, None, None), (1, False, None, None)]
        deferred = conn.scalar(
            text(
                "SELECT condeferrable AND condeferred FROM pg_constraint "
                "WHERE conname = 'ex_bookings_no_overlap'"
            )
        )
        assert deferred is True
    overlap = text(
        "INSERT INTO bookings (id, room_id, organizer_id, start_time, end_time, title, status) "
        "VALUES (:id, :room, :user, '2030-01-01 09:30Z', '2030-01-01 10:30Z', 'x', 'CONFIRMED')"
    )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(overlap, {"id": uuid.uuid4(), "room": room, "user": user})  # at COMMIT
    assert _diff(empty_database) == []
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO booking_requests (id, kind, room_id, requester_id, payload, status) "
                "VALUES (:id, 'change', :room, :user, '{}', 'QUEUED')"
            ),
            {"id": uuid.uuid4(), "room": room, "user": user},
        )

    command.downgrade(config, "0005")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM bookings")) == 2
        assert conn.scalar(text("SELECT count(*) FROM booking_requests")) == 0
