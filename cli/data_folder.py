"""One `bookings up` per data folder (`.bookings/`).

The first holds an exclusive lock on `.bookings/up.lock` for as long as it runs (the
kernel lets go when the process ends, however it ends, so a crash leaves nothing to
clean up) and writes its pid and URL in it. A second one on the same folder would share
the first's Postgres and rewrite its `.bookings/env`: it is refused, naming the first.
`bookings status` reads the same file.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from models.settings import STATE_DIR

LOCK_FILE = STATE_DIR / "up.lock"


class AlreadyUp(Exception):
    def __init__(self, pid: str, url: str) -> None:
        super().__init__(f"bookings up is already running here (pid {pid}, {url})")
        self.pid = pid
        self.url = url


def hold(url: str, path: Path | None = None) -> IO[str]:
    """Take the folder for this process (keep the returned file open), or raise AlreadyUp."""
    path = path or LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    held = path.open("a+")
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        held.seek(0)
        pid, found_url = _parse(held.read())
        held.close()
        raise AlreadyUp(pid, found_url) from None
    held.seek(0)
    held.truncate()
    held.write(f"{os.getpid()} {url}\n")
    held.flush()
    return held


def running(path: Path | None = None) -> tuple[str, str] | None:
    """(pid, URL) of the `bookings up` holding the folder, or None."""
    path = path or LOCK_FILE
    try:
        probe = path.open("r")
    except OSError:
        return None
    with probe:
        try:
            fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _parse(probe.read())
        return None  # nobody holds it: a file left by one that has stopped


def _parse(text: str) -> tuple[str, str]:
    pid, _, url = text.strip().partition(" ")
    return pid or "?", url or "?"
