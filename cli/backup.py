"""`bookings backup` and `bookings restore`: a custom-format dump of the database, and
that dump restored into an empty database, each by the client of the server's major
(cli/pg_client.py).

Which database: DATABASE_URL; without it, the one of the `bookings up` running here
(`.bookings/env`); without that, the embedded server's data in `.bookings/postgres`,
started for the command and stopped again after it (a restore makes it when missing,
so a dump can become a new development setup: `bookings restore FILE`, then `make run`).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
import psycopg
from sqlalchemy.engine import make_url

from cli.pg_client import find_client, libpq_connection
from models.db import conninfo
from models.settings import STATE_DIR
from models.state_env import state_env_urls

EMBEDDED_DATA = STATE_DIR / "postgres"
# Anything a restore would have to create again: tables, views, sequences.
PUBLIC_RELATIONS = """
    SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
"""


class NotEmpty(click.ClickException):
    exit_code = 2


@dataclass(frozen=True)
class Server:
    major: int
    version: str
    relations: int


def inspect_server(url: str) -> Server:
    try:
        with psycopg.connect(conninfo(url), connect_timeout=5) as conn:
            number = int(conn.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
            relations = int(conn.execute(PUBLIC_RELATIONS).fetchone()[0])  # type: ignore[index]
    except psycopg.OperationalError as exc:
        raise click.ClickException(f"cannot reach the database: {exc}") from exc
    return Server(number // 10000, f"{number // 10000}.{number % 10000}", relations)


@contextmanager
def database(env_url: str | None, *, create: bool) -> Iterator[str]:
    """The URL to dump or restore into (see the module's docstring)."""
    running = env_url or state_env_urls().get("DATABASE_URL")
    if running:
        yield running
        return
    from cli.embedded import EmbeddedPostgres

    folder = EMBEDDED_DATA.resolve()
    if not create and not (folder / "PG_VERSION").is_file():
        raise click.ClickException(
            f"DATABASE_URL is not set, no bookings up runs here and {EMBEDDED_DATA} holds "
            "no database: set DATABASE_URL, or run this in the folder `make run` runs in"
        )
    click.echo(f"starting the embedded PostgreSQL ({EMBEDDED_DATA}) until this is done…", err=True)
    try:
        server = EmbeddedPostgres(folder)
    except RuntimeError as exc:  # the `embedded` extra is missing
        raise click.ClickException(str(exc)) from exc
    try:
        yield server.url("bookings")
    finally:
        server.stop()  # only if this command started it: a `bookings up` keeps it


def size(path: Path) -> str:
    count, unit = float(path.stat().st_size), "bytes"
    for larger in ("KiB", "MiB", "GiB"):
        if count < 1024:
            break
        count, unit = count / 1024, larger
    return f"{count:.0f} bytes" if unit == "bytes" else f"{count:.1f} {unit}"


def backup(env_url: str | None, out: Path | None, *, pg_bin: str | None) -> None:
    out = out or Path(f"bookings-{datetime.now():%Y%m%d-%H%M%S}.dump")
    with database(env_url, create=False) as url:
        server = inspect_server(url)
        pg_dump = find_client("pg_dump", server.major, pg_bin)
        target, environment = libpq_connection(url)
        # Written beside the file and renamed once complete: a failed dump never leaves
        # half a file under the name, nor replaces the last good one.
        partial = out.with_name(f".{out.name}.partial")
        argv = [str(pg_dump), "--format=custom", "--no-password", f"--file={partial}", target]
        if subprocess.run(argv, env=environment, check=False).returncode != 0:
            partial.unlink(missing_ok=True)
            raise click.ClickException(f"pg_dump failed (above); {out} not written")
        partial.replace(out)
    click.echo(
        f"wrote {out} ({size(out)}): {make_url(url)!r}, PostgreSQL {server.version}, by {pg_dump}"
    )


def dumped_from(pg_restore: Path, dump: Path, major: int) -> str:
    """The server version the dump was taken from, read from its header."""
    listed = subprocess.run(
        [str(pg_restore), "--list", str(dump)], capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        raise click.ClickException(
            f"{dump} is not a dump pg_restore {major} can read ({listed.stderr.strip()}); "
            f"bookings backup writes one, and one from a newer PostgreSQL than {major} "
            "restores only into a server of its own major or newer"
        )
    found = re.search(r"Dumped from database version: (\S+)", listed.stdout)
    return found.group(1) if found else "an unknown version"


def restore(env_url: str | None, dump: Path, *, pg_bin: str | None) -> None:
    from cli.up import ensure_database

    with database(env_url, create=True) as url:
        ensure_database(url)
        server = inspect_server(url)
        if server.relations:
            raise NotEmpty(
                f"{make_url(url)!r} is not empty ({server.relations} tables, views or "
                "sequences in public): restore into an empty database, e.g. a new one "
                "(a DATABASE_URL naming a database that does not exist: restore creates "
                "it), or drop this one first (for make run's: stop it and remove "
                f"{EMBEDDED_DATA})"
            )
        pg_restore = find_client("pg_restore", server.major, pg_bin)
        source = dumped_from(pg_restore, dump, server.major)
        target, environment = libpq_connection(url)
        # Objects belong to the restoring user, with no grants to another machine's roles;
        # one transaction: a restore that fails leaves the database empty, to try again.
        argv = [
            str(pg_restore),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={target}",
            str(dump),
        ]
        if subprocess.run(argv, env=environment, check=False).returncode != 0:
            raise click.ClickException("pg_restore failed (above); the database is left empty")
    click.echo(
        f"restored {dump} ({size(dump)}, from PostgreSQL {source}) into {make_url(url)!r}, "
        f"PostgreSQL {server.version}, by {pg_restore}"
    )
