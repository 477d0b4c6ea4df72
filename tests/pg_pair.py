"""A Postgres primary and its synchronous standby, made by the test with the server's own
binaries (Debian's /usr/lib/postgresql/N/bin), to kill and promote at will.

The suite's Postgres is shared: never stop it. A test that fails a database over starts
a pair of its own here. Postgres refuses to run as root, so as root the servers run as
the `postgres` user (`runuser`), in a directory of their own under /tmp.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from cli.embedded import free_port


def bin_dir() -> Path | None:
    """The newest installed server's binaries, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_major)
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _major(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


class PostgresPair:
    """`primary` streams to `standby`, which must confirm every commit
    (synchronous_standby_names='*'), as a production pair that loses nothing on failover."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        """`host`: the address both servers listen on (bench/cluster.py: a bridge's)."""
        self.host = host
        found = bin_dir()
        if found is None:
            raise RuntimeError("no PostgreSQL server binaries (apt-get install postgresql)")
        self.bin = found
        self.root = Path(tempfile.mkdtemp(prefix="bookings-pg-pair-"))
        self.primary_port = free_port()
        self.standby_port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres")
        self.root.chmod(0o755)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        primary, standby = self.root / "primary", self.root / "standby"
        self._run("initdb", "-D", str(primary), "-A", "trust", "-U", "postgres", "--no-sync")
        settings = {
            "port": self.primary_port,
            "listen_addresses": f"'{self.host}'",
            "unix_socket_directories": f"'{self.root}'",
            "wal_level": "replica",
            "max_wal_senders": 4,
            "synchronous_standby_names": "'*'",
            "fsync": "off",  # a test's data; the replication is what is under test
        }
        with (primary / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        with (primary / "pg_hba.conf").open("a") as hba:
            # samenet: the server's own subnets (a bridge's hosts in bench/cluster.py)
            hba.write("host all all samenet trust\nhost replication postgres samenet trust\n")
        self._ctl("start", primary, "-l", str(self.root / "primary.log"))
        self._run(
            "pg_basebackup",
            *("-h", self.host, "-p", str(self.primary_port), "-U", "postgres"),
            *("-D", str(standby), "-R", "-X", "stream"),
        )
        with (standby / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.standby_port}\n")
        self._ctl("start", standby, "-l", str(self.root / "standby.log"))

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.libpq(self.primary_port), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def kill_primary(self) -> None:
        """As a host's death: no shutdown checkpoint, connections just break."""
        self._ctl("stop", self.root / "primary", "-m", "immediate")

    def kill_standby(self) -> None:
        self._ctl("stop", self.root / "standby", "-m", "immediate")

    def start_standby(self) -> None:
        """Back after a death: it catches up on the primary and confirms commits again."""
        self._ctl("start", self.root / "standby", "-l", str(self.root / "standby.log"))

    def promote_standby(self) -> None:
        """What an HA manager does when the primary is gone (Patroni in synchronous mode,
        not strict): promote the standby and stop waiting for a standby that is no more,
        so commits on the new primary do not wait forever for a confirmation."""
        self._ctl("promote", self.root / "standby")
        with psycopg.connect(self.libpq(self.standby_port), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = ''")
            conn.execute("SELECT pg_reload_conf()")

    def stop(self) -> None:
        for node in ("standby", "primary"):
            if (self.root / node / "postmaster.pid").exists():
                self._ctl("stop", self.root / node, "-m", "immediate", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- addresses ---------------------------------------------------------------------

    def url(self, database: str) -> str:
        """A multi-host DATABASE_URL (API.md): both nodes, the writable one wins."""
        return (
            f"postgresql+psycopg://postgres@/{database}?host={self.host}:{self.primary_port}"
            f"&host={self.host}:{self.standby_port}&target_session_attrs=read-write"
        )

    def libpq(self, port: int, database: str = "postgres") -> str:
        return f"host={self.host} port={port} user=postgres dbname={database} connect_timeout=5"

    def log(self) -> str:
        return "\n".join(
            f"--- {name}\n{(self.root / name).read_text(errors='replace')[-3000:]}"
            for name in ("primary.log", "standby.log")
            if (self.root / name).exists()
        )

    # -- running the binaries ----------------------------------------------------------

    def _ctl(self, action: str, data: Path, *args: str, check: bool = True) -> None:
        self._run("pg_ctl", action, "-D", str(data), "-w", *args, check=check)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        argv = [str(self.bin / program), *args]
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(
            argv, cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} failed:\n{done.stdout}\n{done.stderr}")
